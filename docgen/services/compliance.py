"""The compliance report: per circulation rule, how many items went on time, late, or are overdue now.

Items are counted in the period of their deadline's local date (an item with no deadline by
the date it was sent or, unsent, created). Lateness is in working days, as the procedures state
timescales. Booking breaches are listed with the reasons recorded for them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from docgen.adapters.outbox_store import OutboxSource, outbox_store
from docgen.domain.calendar import WorkingCalendar
from docgen.domain.outbox import working_days_late

COLUMNS = ("rule", "items", "on_time", "late", "late_by_working_days", "overdue_now", "overdue_by_working_days",
           "not_yet_due", "failed", "cancelled")


@dataclass
class RuleCompliance:
    """The counts for one rule. ``late_by`` and ``overdue_by`` map working days to item counts."""

    rule: str
    on_time: int = 0
    late: int = 0
    late_by: Counter[int] = field(default_factory=Counter)
    overdue: int = 0
    overdue_by: Counter[int] = field(default_factory=Counter)
    not_yet_due: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def items(self) -> int:
        return self.on_time + self.late + self.overdue + self.not_yet_due + self.cancelled


@dataclass(frozen=True)
class BookingBreach:
    conference: str
    rule: str
    deadline: date
    working_days_late: int
    reason: str | None


@dataclass(frozen=True)
class ComplianceReport:
    rules: tuple[RuleCompliance, ...]
    bookings: tuple[BookingBreach, ...]


def _in_period(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def compliance_report(outbox: OutboxSource, *, now: datetime, calendar: WorkingCalendar, zone: tzinfo,
                      start: date | None = None, end: date | None = None) -> ComplianceReport:
    """Count every outbox item (business-support notices aside) whose deadline falls in the period."""
    store = outbox_store(outbox)
    rules: dict[str, RuleCompliance] = {}
    for rule, state, deadline, sent_at, late_by, created_at in store.outcomes():
        day = (deadline or sent_at or created_at).astimezone(zone).date()
        if not _in_period(day, start, end):
            continue
        entry = rules.setdefault(rule, RuleCompliance(rule))
        if state == "cancelled":
            entry.cancelled += 1
        elif state == "sent":
            late = late_by if late_by is not None else (
                working_days_late(deadline, sent_at, calendar, zone) if deadline and sent_at else 0)
            if late:
                entry.late += 1
                entry.late_by[late] += 1
            else:
                entry.on_time += 1
        elif deadline is not None and deadline < now:
            entry.overdue += 1
            entry.overdue_by[working_days_late(deadline, now, calendar, zone)] += 1
            entry.failed += state == "failed"
        else:
            entry.not_yet_due += 1
            entry.failed += state == "failed"
    bookings = [  # by date, then in the order they were recorded
        BookingBreach(b.conference_reference, b.rule, b.deadline_on, b.working_days_late, b.reason)
        for b in sorted(store.breaches(kind="booking"), key=lambda b: b.deadline_on)
        if _in_period(b.deadline_on, start, end)]
    return ComplianceReport(tuple(rules[name] for name in sorted(rules)), tuple(bookings))


def _spread(counter: Counter[int]) -> str:
    """``{1: 3, 4: 1}`` as ``1:3 4:1`` (working days: items)."""
    return " ".join(f"{days}:{count}" for days, count in sorted(counter.items()))


def rows(report: ComplianceReport) -> list[list[str]]:
    """The report as rows of text, in ``COLUMNS`` order, with a total row."""
    out: list[list[str]] = []
    total = RuleCompliance("total")
    for entry in report.rules:
        out.append([entry.rule, str(entry.items), str(entry.on_time), str(entry.late), _spread(entry.late_by),
                    str(entry.overdue), _spread(entry.overdue_by), str(entry.not_yet_due), str(entry.failed),
                    str(entry.cancelled)])
        for name in ("on_time", "late", "overdue", "not_yet_due", "failed", "cancelled"):
            setattr(total, name, getattr(total, name) + getattr(entry, name))
        total.late_by.update(entry.late_by)
        total.overdue_by.update(entry.overdue_by)
    out.append([total.rule, str(total.items), str(total.on_time), str(total.late), _spread(total.late_by),
                str(total.overdue), _spread(total.overdue_by), str(total.not_yet_due), str(total.failed),
                str(total.cancelled)])
    return out


def as_csv(report: ComplianceReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(report))
    return buffer.getvalue()


def as_table(report: ComplianceReport) -> str:
    headings = ["Rule", "Items", "On time", "Late", "Late by (wd:n)", "Overdue", "Overdue by (wd:n)",
                "Not yet due", "Failed", "Cancelled"]
    table = [headings, *rows(report)]
    widths = [max(len(r[i]) for r in table) for i in range(len(headings))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    if report.bookings:
        lines += ["", "Conferences booked outside their timescale:"]
        for b in report.bookings:
            when = (f"{b.working_days_late} working day(s) late" if b.working_days_late >= 0
                    else f"{-b.working_days_late} working day(s) early")
            lines.append(f"  {b.conference}  {b.rule}  due {b.deadline:%d/%m/%Y}, {when}; "
                         f"reason: {b.reason or 'NONE RECORDED'}")
    return "\n".join(lines)
