"""The database outbox: one row per document copy per recipient, and the breaches recorded against them.

The outbox, not the scheduler's job store, is the source of truth for what has been sent. Times
are stored as naive UTC and handed back timezone-aware (``UtcDateTime``), so comparisons in SQL
work the same on SQLite and PostgreSQL. ``due_at``, ``warn_at`` and ``breach_at`` are "next time
a dispatch pass must look at this row" columns: indexed, and cleared once nothing more is to be
done, so a pass reads only the rows that need it.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from docgen.adapters.orm import Base
from docgen.domain.outbox import STATES, NewItem, OutboxItem, planned_item

_NEW_ITEM_FIELDS = tuple(f.name for f in fields(NewItem))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as naive UTC; naive values are refused, not guessed."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"outbox times must be timezone-aware, got {value.isoformat()}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL results on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


class OutboxItemRow(Base):
    """One copy of one document for one recipient, under the circulation rule that times it."""

    __tablename__ = "outbox_items"
    __table_args__ = (
        CheckConstraint("state IN ('" + "', '".join(STATES) + "')", name="state"),
        Index("ix_outbox_items_due_at", "due_at"),
        Index("ix_outbox_items_warn_at", "warn_at"),
        Index("ix_outbox_items_breach_at", "breach_at"),
        Index("ix_outbox_items_state_due_at", "state", "due_at"),
        Index("ix_outbox_items_conference", "conference_reference", "document"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(254))
    # The conference by reference, not by foreign key: importing a conference again replaces
    # its rows, and the outbox must outlive that.
    conference_reference: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(String(64))
    copy: Mapped[str] = mapped_column(String(200))
    report: Mapped[str | None] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))
    audience_person: Mapped[str | None] = mapped_column(String(64))
    family_copy: Mapped[bool] = mapped_column(Boolean)
    recipient: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_address: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(24))
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    breach_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    notice_text: Mapped[str | None] = mapped_column(Text)  # what a business-support notice says
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late_by: Mapped[int | None] = mapped_column(Integer)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transport: Mapped[str | None] = mapped_column(String(32))
    delivery_reference: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BreachRow(Base):
    """A timescale missed: an outbox item sent late or still overdue, or a conference booked late.

    ``key`` makes recording idempotent: the item's idempotency key, or
    ``booking:<reference>:<rule>`` for a booking.
    """

    __tablename__ = "outbox_breaches"
    __table_args__ = (
        CheckConstraint("kind IN ('distribution', 'booking')", name="kind"),
        Index("ix_outbox_breaches_conference", "conference_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_items.id", ondelete="CASCADE"))
    conference_reference: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline_on: Mapped[date] = mapped_column(Date)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    working_days_late: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)


def to_item(row: OutboxItemRow) -> OutboxItem:
    """The immutable view of a row that message builders, approval gates and listings receive."""
    return OutboxItem(
        id=row.id, idempotency_key=row.idempotency_key, message_id=row.message_id,
        conference_reference=row.conference_reference, rule=row.rule, document=row.document, copy=row.copy,
        report=row.report, audience=row.audience, audience_person=row.audience_person, family_copy=row.family_copy,
        recipient=row.recipient, recipient_name=row.recipient_name, recipient_address=row.recipient_address,
        state=row.state, not_before=row.not_before, deadline=row.deadline, attempts=row.attempts,
        last_error=row.last_error, hold_reason=row.hold_reason, notice_text=row.notice_text, sent_at=row.sent_at,
        late_by=row.late_by, claim_token=row.claim_token)


def row_values(item: NewItem) -> dict[str, Any]:
    """The columns of a new row for ``item``: nothing attempted yet."""
    return {**{name: getattr(item, name) for name in _NEW_ITEM_FIELDS}, "attempts": 0, "updated_at": item.created_at}


def item_values(*, conference: str, rule: str, document: str, copy: str, recipient: str, recipient_name: str,
                recipient_address: str | None, envelope_from: str, now: datetime, not_before: datetime | None = None,
                deadline: datetime | None = None, ready: bool = True, family_copy: bool = False,
                audience: str = "professional", audience_person: str | None = None,
                report: str | None = None) -> dict[str, Any]:
    """The columns of a new planned row (``planned_item``), for a bulk insert by tests and benchmarks."""
    return row_values(planned_item(
        conference=conference, rule=rule, document=document, copy=copy, recipient=recipient,
        recipient_name=recipient_name, recipient_address=recipient_address, envelope_from=envelope_from, now=now,
        not_before=not_before, deadline=deadline, ready=ready, family_copy=family_copy, audience=audience,
        audience_person=audience_person, report=report))
