"""Circulation rules and their windows: when each document must reach each audience.

Pure logic. Rules are loaded from TOML by ``docgen.configuration.circulation``; here they are applied
to anchor datetimes with a ``WorkingCalendar``. Every datetime is timezone-aware and windows are
expressed in the local zone (Europe/London unless the caller passes another).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from docgen.domain.calendar import WorkingCalendar, add_months
from docgen.errors import CalendarError

CirculatedKind = Literal[
    "conference",
    "social_worker_report",
    "agency_report",
    "parent_invitation",
    "professional_invitation",
    "professional_guidance",
    "child_invitation",
    "exclusion_letter",
    "decisions_notice",
    "outline_plan",
    "conference_record",
    "detailed_plan",
    "discharge_notification",
    "exclusion_representation",
    "record_amendments",
    "core_group",
]
RecipientGroup = Literal[
    "chair",
    "family",
    "excluded_family",
    "professionals",
    "all_invited",
    "attendees_and_invited",
    "absent_invitees",
    "ica_agencies",
    "core_group",
    "business_support",
]
Anchor = Literal[
    "strategy_discussion",
    "conference",
    "core_group",
    "record_received",
    "plan_end",
    "report_received",
    "transfer_agreed",
    "initial_conference",
    "previous_conference",
    "inquorate_conference",
    "booking",
]
Unit = Literal["working_days", "calendar_days", "months"]
WindowKind = Literal["no_later_than", "no_earlier_than", "within"]
ConferenceKind = Literal["initial", "review", "transfer_in", "pre_birth"]

CIRCULATED_KINDS: tuple[CirculatedKind, ...] = get_args(CirculatedKind)
RECIPIENT_GROUPS: tuple[RecipientGroup, ...] = get_args(RecipientGroup)
ANCHORS: tuple[Anchor, ...] = get_args(Anchor)
UNITS: tuple[Unit, ...] = get_args(Unit)
WINDOW_KINDS: tuple[WindowKind, ...] = get_args(WindowKind)
CONFERENCE_KINDS: tuple[ConferenceKind, ...] = get_args(ConferenceKind)

#: The document kind of booking rules: rules about when the conference itself is held.
BOOKING_DOCUMENT: CirculatedKind = "conference"

DEFAULT_ZONE_NAME = "Europe/London"


@dataclass(frozen=True)
class CirculationRule:
    """One timescale: ``document`` to ``audience``, ``offset`` ``unit`` from ``anchor``.

    A negative offset means before the anchor. ``conference_kinds`` lists the kinds of
    conference the rule applies to (all four when the configuration leaves it out).
    """

    name: str
    document: CirculatedKind
    audience: RecipientGroup
    anchor: Anchor
    offset: int
    unit: Unit
    window: WindowKind
    source: str
    conference_kinds: frozenset[ConferenceKind] = frozenset(CONFERENCE_KINDS)
    description: str = ""
    enabled: bool = True

    def applies_to(self, conference_kind: ConferenceKind) -> bool:
        """Whether this rule is enabled and covers conferences of ``conference_kind``."""
        return self.enabled and conference_kind in self.conference_kinds


@dataclass(frozen=True)
class Window:
    """When a document may be sent: ``None`` on either side means unbounded on that side."""

    earliest: datetime | None
    latest: datetime | None

    def contains(self, at: datetime) -> bool:
        """Whether ``at`` (timezone-aware) falls inside the window, both ends included."""
        _require_aware(at, "at")
        if self.earliest is not None and at < self.earliest:
            return False
        return self.latest is None or at <= self.latest


@dataclass(frozen=True)
class Breach:
    """A booking rule that a proposed conference date breaks.

    ``deadline`` is the last local date allowed for a conference held too late
    (``working_days_late > 0``), or the first allowed for one held too early
    (``working_days_early > 0``).
    """

    rule: str
    source: str
    description: str
    deadline: date
    working_days_late: int
    working_days_early: int = 0


def applicable_rules(
    rules: Iterable[CirculationRule],
    conference_kind: ConferenceKind,
    document: CirculatedKind | None = None,
) -> list[CirculationRule]:
    """Enabled rules covering ``conference_kind`` (and ``document`` when given), in order."""
    return [
        rule
        for rule in rules
        if rule.applies_to(conference_kind) and (document is None or rule.document == document)
    ]


def deadline_date(rule: CirculationRule, anchor_date: date, calendar: WorkingCalendar) -> date:
    """The local date ``rule.offset`` ``rule.unit`` away from ``anchor_date``."""
    if rule.unit == "working_days":
        return calendar.add_working_days(anchor_date, rule.offset)
    if rule.unit == "calendar_days":
        try:
            return anchor_date + timedelta(days=rule.offset)
        except OverflowError:
            raise CalendarError(
                f"Rule {rule.name!r}: {anchor_date} plus {rule.offset} days is out of range."
            ) from None
    return add_months(anchor_date, rule.offset)


def window_for(
    rule: CirculationRule,
    anchor_at: datetime,
    calendar: WorkingCalendar,
    *,
    end_of_day: time,
    zone: tzinfo | None = None,
) -> Window:
    """The window in which ``rule`` is met, for an anchor event at ``anchor_at``.

    The deadline date is found from the anchor's local date. ``no_later_than`` gives only a
    latest time, ``end_of_day`` on the deadline date. ``no_earlier_than`` gives only an earliest
    time, the start (00:00) of the deadline date. ``within`` spans the anchor and the deadline:
    for a positive offset from ``anchor_at`` to ``end_of_day`` on the deadline date (or to
    ``anchor_at`` itself if that is later, so an offset of 0 never gives an empty window), for
    a negative offset from 00:00 on the deadline date to ``anchor_at``. Returned datetimes are
    in ``zone`` (Europe/London when not given). docs/circulation-rules.md has worked examples.
    """
    _require_aware(anchor_at, f"anchor for rule {rule.name!r}")
    local_zone = zone if zone is not None else ZoneInfo(DEFAULT_ZONE_NAME)
    anchor_local = anchor_at.astimezone(local_zone)
    due = deadline_date(rule, anchor_local.date(), calendar)
    if rule.window == "no_later_than":
        return Window(earliest=None, latest=_at(due, end_of_day, local_zone))
    if rule.window == "no_earlier_than":
        return Window(earliest=_at(due, time(0, 0), local_zone), latest=None)
    if rule.offset >= 0:
        # max(): an offset of 0 from an anchor after end_of_day must not give an empty window.
        latest = max(_at(due, end_of_day, local_zone), anchor_local)
        return Window(earliest=anchor_local, latest=latest)
    return Window(earliest=_at(due, time(0, 0), local_zone), latest=anchor_local)


def lateness(
    rule: CirculationRule, window: Window, sent_at: datetime, calendar: WorkingCalendar
) -> int:
    """Working days by which ``sent_at`` missed the window's end; 0 when on time.

    Late by any amount counts as at least 1, so 0 always means on time: a report due by 17:00
    on Monday and sent at 17:30 that Monday is 1 working day late, as is one sent on Tuesday.
    A window with no end is never late.
    """
    _require_aware(sent_at, f"sent time for rule {rule.name!r}")
    if window.latest is None or sent_at <= window.latest:
        return 0
    zone = window.latest.tzinfo
    due = window.latest.date()
    sent = sent_at.astimezone(zone).date()
    return max(1, calendar.working_days_between(due, sent))


def earliness(
    rule: CirculationRule, window: Window, sent_at: datetime, calendar: WorkingCalendar
) -> int:
    """Working days by which ``sent_at`` came before the window's start; 0 when not early."""
    _require_aware(sent_at, f"sent time for rule {rule.name!r}")
    if window.earliest is None or sent_at >= window.earliest:
        return 0
    zone = window.earliest.tzinfo
    start = window.earliest.date()
    sent = sent_at.astimezone(zone).date()
    return max(1, -calendar.working_days_between(start, sent))


def booking_breaches(
    rules: Iterable[CirculationRule],
    conference_kind: ConferenceKind,
    conference_at: datetime,
    anchors: Mapping[str, datetime],
    calendar: WorkingCalendar,
    *,
    zone: tzinfo | None = None,
) -> list[Breach]:
    """The booking rules that holding a ``conference_kind`` conference at ``conference_at`` breaks.

    Booking rules are judged by local date, not time of day: a conference within 15 working
    days may start at any hour of the 15th working day. ``anchors`` maps anchor names
    (``strategy_discussion``, ``transfer_agreed``, ``initial_conference``,
    ``previous_conference``, ``inquorate_conference``, ...) to when they happened. A rule whose
    anchor is absent is not checked (``unchecked_booking_rules`` lists them): pass
    ``initial_conference`` only when booking the first review, and ``inquorate_conference``
    only when rebooking a conference that was inquorate.
    """
    _require_aware(conference_at, "conference time")
    local_zone = zone if zone is not None else ZoneInfo(DEFAULT_ZONE_NAME)
    breaches: list[Breach] = []
    for rule in applicable_rules(rules, conference_kind, BOOKING_DOCUMENT):
        anchor_at = anchors.get(rule.anchor)
        if anchor_at is None:
            continue
        window = window_for(rule, anchor_at, calendar, end_of_day=time.max, zone=local_zone)
        if window.earliest is not None:
            # Whole days at the start too: a conference later on the anchor's own day is fine.
            window = Window(
                earliest=_at(window.earliest.date(), time(0, 0), local_zone), latest=window.latest
            )
        late = lateness(rule, window, conference_at, calendar)
        early = earliness(rule, window, conference_at, calendar)
        if late and window.latest is not None:
            deadline = window.latest.date()
        elif early and window.earliest is not None:
            deadline = window.earliest.date()
        else:
            continue
        breaches.append(
            Breach(
                rule=rule.name,
                source=rule.source,
                description=rule.description,
                deadline=deadline,
                working_days_late=late,
                working_days_early=early,
            )
        )
    return breaches


def unchecked_booking_rules(
    rules: Iterable[CirculationRule],
    conference_kind: ConferenceKind,
    anchors: Mapping[str, datetime],
) -> list[CirculationRule]:
    """Booking rules for ``conference_kind`` that ``booking_breaches`` skips: no anchor given."""
    return [
        rule
        for rule in applicable_rules(rules, conference_kind, BOOKING_DOCUMENT)
        if rule.anchor not in anchors
    ]


def _at(day: date, at: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarError(
            f"The {what} ({value.isoformat()}) has no time zone; pass a timezone-aware datetime."
        )
