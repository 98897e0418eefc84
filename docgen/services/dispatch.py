"""The dispatch pass: claim due outbox items, send each once, and record what happened.

Pure orchestration over the outbox table, with the clock, the message builder, the chair-approval
check and the transport injected. Each item goes ``ready -> sending`` (claimed under a lease and
committed), then its attempt number is committed, then the transport is called, then ``sent`` is
committed straight after the transport accepts it. A scheduler killed at any point leaves the
item in ``sending``; once the lease runs out any pass takes it over and sends it again with the
same Message-ID (docs/scheduler.md explains why that is the best SMTP allows).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, Table, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from distribution.abc import Delivery, Transport
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_outbox import BreachRow, OutboxItemRow, to_item
from docgen.domain.calendar import WorkingCalendar
from distribution.errors import TransportError
from docgen.errors import ApprovalError, DocgenError, SchedulingError
from docgen.domain.outbox import (
    CLAIMABLE_STATES, NOT_READY_STATES, NOTICE_RULE, Backoff, OutboxItem, check_move, message_id_for,
    notice_key, working_days_late,
)

log = logging.getLogger("docgen.dispatch")

MessageBuilder = Callable[[OutboxItem], bytes]
ApprovalGate = Callable[[OutboxItem], None]
"""Called before a family copy is sent; raises ``ApprovalError`` (its message the reason) to refuse."""
SentHook = Callable[[Session, OutboxItem, Delivery], None]
"""Called in the transaction that marks an item sent, to record the delivery with it."""


def no_approval_gate(item: OutboxItem) -> None:
    """The release check used when none is wired in: family copies are never sent (fail closed)."""
    raise ApprovalError(
        f"{item.copy} for {item.recipient_name} is a family copy and no chair-approval check is "
        "configured, so it cannot be released; wire the approval gate into the scheduler.")


@dataclass(frozen=True)
class DispatchPolicy:
    """How a dispatch pass behaves; every duration is a ``timedelta``.

    ``lease`` must be longer than the slowest send (the SMTP timeout and then some): a scheduler
    that holds an item longer than its lease may see it taken over and sent twice.
    """

    envelope_from: str
    batch_size: int = 20
    lease: timedelta = timedelta(minutes=5)
    backoff: Backoff = field(default_factory=Backoff)
    max_attempts: int = 12
    warn_before: timedelta = timedelta(hours=24)
    approval_recheck: timedelta = timedelta(minutes=15)
    business_support_address: str | None = None
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/London"))

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_attempts < 1:
            raise SchedulingError("batch_size and max_attempts must be at least 1")
        if self.lease <= timedelta(0) or self.warn_before < timedelta(0):
            raise SchedulingError("the lease must be positive and warn_before not negative")


@dataclass
class PassReport:
    """What one dispatch pass (or a drain of several) did."""

    claimed: int = 0
    sent: int = 0
    sent_late: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    lost_claims: int = 0
    warnings: int = 0
    breaches: int = 0
    full: bool = False  # a batch was full: more may be due at once

    def add(self, other: PassReport) -> None:
        for name in ("claimed", "sent", "sent_late", "retrying", "failed", "held", "lost_claims", "warnings",
                     "breaches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def plain_message(item: OutboxItem, *, envelope_from: str, at: datetime, body: str | None = None) -> bytes:
    """A plain text message for ``item``, 7-bit clean, carrying the item's Message-ID.

    Used for business-support notices, and by tests and demonstrations in place of the encrypted
    documents the distribution layer builds. The subject names no child or family.
    """
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = envelope_from
    message["To"] = item.recipient_address or ""
    message["Subject"] = f"Conference {item.conference_reference}: {item.document.replace('_', ' ')}"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = item.message_id
    text = body if body is not None else (
        f"Conference {item.conference_reference}: {item.copy}, for {item.recipient_name}, "
        f"under rule {item.rule}.\n")
    message.set_content(text, cte=None if text.isascii() else "quoted-printable")
    return message.as_bytes()


_OUTBOX = cast(Table, OutboxItemRow.__table__)
_HELD = and_(_OUTBOX.c.id == bindparam("item_id"), _OUTBOX.c.claim_token == bindparam("token"),
             _OUTBOX.c.state == "sending")
# The two statements every item sent runs, built once: constructing them per item cost more than
# running them (docs/performance.md).
_BEGIN_ATTEMPT = (update(_OUTBOX).where(_HELD)
                  .values(attempts=_OUTBOX.c.attempts + 1, lease_expires_at=bindparam("lease"),
                          due_at=bindparam("lease"), updated_at=bindparam("now"))
                  .returning(_OUTBOX.c.attempts))
_MARK_SENT = update(_OUTBOX).where(_HELD).values({
    name: bindparam(name) for name in ("state", "sent_at", "late_by", "due_at", "warn_at", "breach_at", "claim_token",
                                       "lease_expires_at", "transport", "delivery_reference", "last_error",
                                       "hold_reason", "updated_at")})


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a ``CursorResult``; typed loosely by ``Session.execute``)."""
    return int(result.rowcount)


def _header_message_id(message: bytes) -> str:
    value = BytesHeaderParser(policy=email_policy.compat32).parsebytes(message).get("Message-ID")
    return str(value).strip() if value else ""


class Dispatcher:
    """Runs dispatch passes over the outbox; one per scheduler process, safe to run in many."""

    def __init__(self, sessions: sessionmaker[Session], transport: Transport, *, build_message: MessageBuilder,
                 policy: DispatchPolicy, clock: Callable[[], datetime],
                 approval_gate: ApprovalGate = no_approval_gate, on_sent: SentHook | None = None,
                 hand_delivery: Transport | None = None, worker: str | None = None,
                 rng: random.Random | None = None, should_stop: Callable[[], bool] = lambda: False) -> None:
        """``hand_delivery``, when given, takes the items of recipients without an email address
        (children, parents without email); without it those items fail and are shown."""
        self.sessions = sessions
        self._engine = sessions.kw["bind"]
        self._postgres = self._engine.dialect.name == "postgresql"
        self.transport = transport
        self.hand_delivery = hand_delivery
        self.on_sent = on_sent
        self.build_message = build_message
        self.policy = policy
        self.clock = clock
        self.approval_gate = approval_gate
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self.should_stop = should_stop

    # -- passes ------------------------------------------------------------------------------

    def run_pass(self) -> PassReport:
        """One pass: send what is due (at most a batch), then raise warnings and breaches due."""
        report = PassReport()
        claimed = self._claim(self.clock())
        report.claimed = len(claimed)
        for index, item in enumerate(claimed):
            if self.should_stop():
                self._unclaim(claimed[index:])
                break
            self._process(item, report)
        try:
            warned, full_w = self._raise_warnings(self.clock())
            breached, full_b = self._record_breaches(self.clock())
        except IntegrityError:  # another scheduler recorded the same thing first: look again next pass
            warned = breached = 0
            full_w = full_b = False
        report.warnings, report.breaches = warned, breached
        # Another pass at once if a batch was full, or if notices were just queued for business support.
        report.full = len(claimed) >= self.policy.batch_size or full_w or full_b or bool(warned or breached)
        return report

    def drain(self, max_passes: int = 1000) -> PassReport:
        """Passes until nothing more is due now (or a stop is asked for)."""
        total = PassReport()
        for _ in range(max_passes):
            report = self.run_pass()
            total.add(report)
            if not report.full or self.should_stop():
                break
        return total

    # -- claiming ----------------------------------------------------------------------------

    def _due(self, column: Any, now: datetime) -> Select[Any]:
        # FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent passes take disjoint rows without
        # waiting. SQLite ignores it; there the compare-and-set UPDATE below decides.
        return (select(OutboxItemRow).where(column <= now).order_by(column)
                .limit(self.policy.batch_size).with_for_update(skip_locked=True))

    def _claim(self, now: datetime) -> list[OutboxItem]:
        token = uuid.uuid4().hex
        lease_until = now + self.policy.lease
        claimable = and_(OutboxItemRow.due_at <= now, OutboxItemRow.state.in_(CLAIMABLE_STATES))
        with unit_of_work(self.sessions) as session:
            ids = list(session.scalars(self._due(OutboxItemRow.due_at, now).with_only_columns(OutboxItemRow.id)))
            if not ids:
                return []
            rows = session.execute(
                update(OutboxItemRow).where(OutboxItemRow.id.in_(ids), claimable)
                .values(state="sending", claim_token=token, claimed_by=self.worker, lease_expires_at=lease_until,
                        due_at=lease_until, updated_at=now)
                .returning(OutboxItemRow).execution_options(synchronize_session=False)
            ).scalars().all()
            return sorted((to_item(row) for row in rows), key=lambda i: i.id)

    def _unclaim(self, items: list[OutboxItem]) -> None:
        """Hand claimed items that were never tried back to the outbox at once (on shutdown)."""
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            for item in items:
                session.execute(self._cas(item).values(state="ready", due_at=now, claim_token=None,
                                                       claimed_by=None, lease_expires_at=None, updated_at=now))

    @staticmethod
    def _cas(item: OutboxItem) -> Any:
        """An UPDATE that only applies while this pass still holds the item's claim.

        A Core statement on the table: these run two or three times per item, and the ORM's bulk
        path costs several times as much for nothing here.
        """
        table = cast(Table, OutboxItemRow.__table__)
        return update(table).where(table.c.id == item.id, table.c.claim_token == item.claim_token,
                                   table.c.state == "sending")

    # -- one item ----------------------------------------------------------------------------

    def _process(self, item: OutboxItem, report: PassReport) -> None:
        if item.attempts >= self.policy.max_attempts:
            self._fail(item, f"gave up after {item.attempts} attempts; last error: "
                             f"{item.last_error or 'the scheduler stopped while sending it'}", report)
            return
        transport = self.transport if item.recipient_address else self.hand_delivery
        if transport is None:
            self._fail(item, f"{item.recipient_name} ({item.recipient}) has no email address on file and no "
                             "hand-delivery folder is configured. Add an address and run `docgen schedule` again, "
                             "then `docgen outbox retry`; or send the copy by post and cancel this item.", report)
            return
        if item.family_copy and not item.is_notice:
            try:
                self.approval_gate(item)
            except ApprovalError as exc:
                self._hold(item, str(exc), report)
                return
        try:
            message = self._build(item)
        except TransportError as exc:
            self._after_failure(item, exc, report)
            return
        except ApprovalError as exc:  # the builder's own check of the exact bytes against the approval
            self._hold(item, str(exc), report)
            return
        except DocgenError as exc:  # redaction, certificate, encryption: stop this item, say why
            self._fail(item, str(exc), report)
            return
        except Exception as exc:  # noqa: BLE001 - one broken item must not stop the others
            log.exception("building the message for item %s failed", item.id)
            self._fail(item, f"building the message failed unexpectedly ({type(exc).__name__}); "
                             "see the scheduler log", report)
            return
        if _header_message_id(message) != item.message_id:
            self._fail(item, f"the message builder did not use the item's Message-ID {item.message_id}, so a "
                             "repeated send could not be recognised; nothing was sent", report)
            return
        attempt = self._begin_attempt(item)
        if attempt is None:
            report.lost_claims += 1
            return
        item = replace(item, attempts=attempt)
        try:
            delivery = transport.send(message, envelope_from=self.policy.envelope_from,
                                      recipients=[item.recipient_address] if item.recipient_address else [],
                                      idempotency_key=item.idempotency_key)
        except TransportError as exc:
            self._after_failure(item, exc, report)
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("transport failed unexpectedly for item %s", item.id)
            self._fail(item, f"the transport failed unexpectedly ({type(exc).__name__}); whether the message "
                             "went is not known: check before retrying", report)
            return
        self._mark_sent(item, delivery, report)

    def _build(self, item: OutboxItem) -> bytes:
        if item.is_notice:
            return plain_message(item, envelope_from=self.policy.envelope_from, at=self.clock(),
                                 body=item.notice_text or "")
        return self.build_message(item)

    def _begin_attempt(self, item: OutboxItem) -> int | None:
        """Commit the attempt number and a fresh lease before the transport is called.

        Returns the attempt number, or ``None`` if the claim was lost (another scheduler took
        the item over because this one held it past its lease).
        """
        now = self.clock()
        lease_until = now + self.policy.lease
        with self._item_transaction() as connection:
            attempt = connection.execute(_BEGIN_ATTEMPT, {
                "item_id": item.id, "token": item.claim_token, "lease": lease_until, "now": now}).scalar_one_or_none()
        if attempt is None:
            log.warning("item %s was taken over by another scheduler before it was sent", item.id)
        return attempt

    def _mark_sent(self, item: OutboxItem, delivery: Delivery, report: PassReport) -> None:
        now = self.clock()
        late = 0 if item.deadline is None else working_days_late(item.deadline, now, self.policy.calendar,
                                                                 self.policy.zone)
        values = dict(state="sent", sent_at=now, late_by=late, due_at=None, warn_at=None, breach_at=None,
                      claim_token=None, lease_expires_at=None, transport=delivery.transport,
                      delivery_reference=delivery.reference[:2000], last_error=None, hold_reason=None, updated_at=now)
        try:
            self._commit_sent(item, values, delivery, record=True)
        except Exception:  # noqa: BLE001 - the delivery record failed: "sent" must be kept all the same
            log.exception("item %s was sent but its delivery record could not be written", item.id)
            self._commit_sent(item, values, delivery, record=False)
        if late and item.deadline is not None:
            # Separately, after "sent" is safely committed: a clash with another scheduler
            # recording the same breach must never undo the record of a delivery.
            try:
                with unit_of_work(self.sessions) as session:
                    self._breach(session, item, item.deadline, now, late, sent_at=now)
            except IntegrityError:
                with unit_of_work(self.sessions) as session:
                    self._breach(session, item, item.deadline, now, late, sent_at=now)
        report.sent += 1
        report.sent_late += 1 if late else 0

    @contextmanager
    def _item_transaction(self) -> Iterator[Connection]:
        """A transaction for one item's attempt or ``sent`` mark.

        On PostgreSQL its commit does not wait for the server's disk (``synchronous_commit``
        off for this transaction only): it is durable the moment it returns as far as this
        process is concerned, and only a crash of the database server itself can lose it,
        which at worst sends that item again with the same Message-ID, never loses it
        (docs/scheduler.md). SQLite's WAL mode makes the same trade.
        """
        with self._engine.begin() as connection:
            if self._postgres:
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield connection

    def _commit_sent(self, item: OutboxItem, values: dict[str, Any], delivery: Delivery, *, record: bool) -> None:
        record = record and self.on_sent is not None and not item.is_notice
        if not record:  # the common case for notices, kept to one plain statement and commit
            with self._item_transaction() as connection:
                done = _rowcount(connection.execute(_MARK_SENT, {"item_id": item.id, "token": item.claim_token,
                                                                 **values}))
            if done:
                return
        with unit_of_work(self.sessions) as session:
            done = _rowcount(session.execute(self._cas(item).values(**values)))
            if not done:
                # Sent, but the claim was taken over meanwhile: record the truth all the same.
                log.error("item %s was sent after another scheduler took it over; it may arrive twice "
                          "(with the same Message-ID %s). Lengthen the lease.", item.id, item.message_id)
                session.execute(update(OutboxItemRow).where(OutboxItemRow.id == item.id,
                                                            OutboxItemRow.state != "cancelled")
                                .values(**values).execution_options(synchronize_session=False))
            if record and self.on_sent is not None:
                self.on_sent(session, item, delivery)

    def _after_failure(self, item: OutboxItem, exc: TransportError, report: PassReport) -> None:
        if not exc.transient:
            self._fail(item, str(exc), report)
            return
        now = self.clock()
        delay = self.policy.backoff.delay(max(item.attempts, 1), self.rng.random())
        with unit_of_work(self.sessions) as session:
            session.execute(self._cas(item).values(
                state="ready", due_at=now + delay, last_error=str(exc), claim_token=None, claimed_by=None,
                lease_expires_at=None, updated_at=now))
        log.warning("item %s: transient failure, retrying in %ss: %s", item.id, int(delay.total_seconds()), exc)
        report.retrying += 1

    def _fail(self, item: OutboxItem, reason: str, report: PassReport) -> bool:
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            done = _rowcount(session.execute(self._cas(item).values(
                state="failed", due_at=None, last_error=reason, claim_token=None, lease_expires_at=None,
                updated_at=now)))
        log.error("item %s (%s for %s) failed: %s", item.id, item.copy, item.recipient, reason)
        report.failed += 1
        return bool(done)

    def _hold(self, item: OutboxItem, reason: str, report: PassReport) -> None:
        now = self.clock()
        recheck = now + self.policy.approval_recheck
        with unit_of_work(self.sessions) as session:
            session.execute(self._cas(item).values(
                state="waiting_for_approval", hold_reason=reason, due_at=recheck, claim_token=None,
                lease_expires_at=None, updated_at=now))
        report.held += 1

    # -- warnings and breaches -----------------------------------------------------------------

    def _raise_warnings(self, now: datetime) -> tuple[int, bool]:
        """Warn business support about items whose deadline is near and that cannot go by themselves."""
        horizon = now + self.policy.warn_before
        count = 0
        with unit_of_work(self.sessions) as session:
            rows = session.scalars(self._due(OutboxItemRow.warn_at, horizon)).all()
            handled = 0
            for row in rows:
                if row.state == "sending" or (row.state == "ready" and row.attempts == 0 and row.due_at is not None
                                              and row.due_at <= now):
                    continue  # going now: look again once it has gone, or not
                row.warn_at = None
                handled += 1
                stuck = row.state in NOT_READY_STATES or (row.state == "ready" and row.attempts > 0)
                if not stuck or row.deadline is None:
                    continue
                row.warned_at = now
                count += 1
                local = row.deadline.astimezone(self.policy.zone)
                text = (f"Deadline approaching, not ready: {_what(row)} (conference {row.conference_reference}, "
                        f"rule {row.rule}) must go by {local:%A %d %B %Y %H:%M} and is "
                        f"{row.state.replace('_', ' ')}.\n{_look(row)}")
                log.warning("%s", text.strip())
                self._notice(session, row, "deadline_warning", text, now)
        return count, handled >= self.policy.batch_size

    def _record_breaches(self, now: datetime) -> tuple[int, bool]:
        """Record a breach for every item whose deadline has passed unsent."""
        count = 0
        with unit_of_work(self.sessions) as session:
            rows = session.scalars(self._due(OutboxItemRow.breach_at, now)).all()
            for row in rows:
                row.breach_at = None
                if row.state in ("sent", "cancelled") or row.deadline is None or row.deadline >= now:
                    continue
                late = working_days_late(row.deadline, now, self.policy.calendar, self.policy.zone)
                if self._breach(session, to_item(row), row.deadline, now, late, sent_at=None):
                    count += 1
                    local = row.deadline.astimezone(self.policy.zone)
                    text = (f"Deadline missed: {_what(row)} (conference {row.conference_reference}, rule "
                            f"{row.rule}) was due by {local:%A %d %B %Y %H:%M} and is "
                            f"{row.state.replace('_', ' ')}.\n{_look(row)}")
                    log.warning("%s", text.strip())
                    self._notice(session, row, "deadline_missed", text, now)
        return count, len(rows) >= self.policy.batch_size

    def _breach(self, session: Session, item: OutboxItem, deadline: datetime, now: datetime, late: int,
                *, sent_at: datetime | None) -> bool:
        """Record (or, once sent, complete) the breach of ``item``; True if newly recorded."""
        existing = session.scalar(select(BreachRow).where(BreachRow.key == item.idempotency_key))
        if existing is not None:
            if sent_at is not None:
                existing.sent_at, existing.working_days_late = sent_at, late
            return False
        session.add(BreachRow(
            key=item.idempotency_key, kind="distribution", item_id=item.id,
            conference_reference=item.conference_reference, rule=item.rule, deadline=deadline,
            deadline_on=deadline.astimezone(self.policy.zone).date(), detected_at=now, sent_at=sent_at,
            working_days_late=late))
        session.flush()
        return True

    def _notice(self, session: Session, row: OutboxItemRow, kind: str, text: str, now: datetime) -> None:
        address = self.policy.business_support_address
        if address is None:
            return
        key = notice_key(row.idempotency_key, kind)
        if session.scalar(select(OutboxItemRow.id).where(OutboxItemRow.idempotency_key == key)) is not None:
            return
        session.add(OutboxItemRow(
            idempotency_key=key, message_id=message_id_for(key, self.policy.envelope_from),
            conference_reference=row.conference_reference, rule=NOTICE_RULE, document=kind,
            copy=f"{kind}--item-{row.id}", report=None, audience="professional", audience_person=None,
            family_copy=False, recipient="business-support", recipient_name="Business support",
            recipient_address=address, state="ready", due_at=now, attempts=0, notice_text=text,
            created_at=now, updated_at=now))


def _what(row: OutboxItemRow) -> str:
    """An item described without naming anyone: notices travel as plain email."""
    return f"the {'family' if row.family_copy else 'professional'} copy of the {row.document.replace('_', ' ')}"


def _look(row: OutboxItemRow) -> str:
    return (f"Outbox item {row.id}. Who it is for and why it is waiting: docgen outbox list --conference "
            f"{row.conference_reference}\n")


# -- by hand -----------------------------------------------------------------------------------

def _change(session: Session, item: int | str, target: str, *, now: datetime, expect: tuple[str, ...] = (),
            due_now: bool = False, **values: Any) -> OutboxItem:
    """Move one item by hand, compare-and-set on its state so a scheduler's claim is never overwritten."""
    where = (OutboxItemRow.id == int(item) if str(item).isdigit()
             else OutboxItemRow.idempotency_key == str(item))
    row = session.scalar(select(OutboxItemRow).where(where).with_for_update())
    if row is None:
        raise SchedulingError(f"there is no outbox item {item!r}; `docgen outbox list` shows them")
    if expect and row.state not in expect:
        raise SchedulingError(f"outbox item {row.id} is {row.state}, not {' or '.join(expect)}")
    check_move(row.state, target, item=f"outbox item {row.id}")  # type: ignore[arg-type]
    if due_now:  # at the next pass, but never before its window opens
        values["due_at"] = max(now, row.not_before) if row.not_before else now
    done = _rowcount(session.execute(
        update(OutboxItemRow).where(OutboxItemRow.id == row.id, OutboxItemRow.state == row.state)
        .values(state=target, updated_at=now, **values).execution_options(synchronize_session=False)))
    if not done:
        raise SchedulingError(f"outbox item {row.id} changed while this was being done; look again and retry")
    session.expire(row)
    return to_item(session.get(OutboxItemRow, row.id))  # type: ignore[arg-type]


def retry_item(session: Session, item: int | str, *, now: datetime) -> OutboxItem:
    """Put a failed item back to ready, its attempts counted afresh (``docgen outbox retry``)."""
    return _change(session, item, "ready", now=now, expect=("failed",), due_now=True, attempts=0)


def release_item(session: Session, item: int | str, *, now: datetime) -> OutboxItem:
    """A held family copy has been approved: ready again (``docgen outbox release``).

    The release check still runs before it is sent; this only saves waiting for the recheck.
    """
    return _change(session, item, "ready", now=now, expect=("waiting_for_approval",), due_now=True)


def cancel_item(session: Session, item: int | str, *, reason: str, now: datetime) -> OutboxItem:
    """Stop an item for good, e.g. a copy posted by hand (``docgen outbox cancel``)."""
    return _change(session, item, "cancelled", now=now, hold_reason=reason, due_at=None, warn_at=None,
                   breach_at=None)


def list_items(session: Session, *, states: tuple[str, ...] = (), reference: str | None = None,
               limit: int = 200) -> list[OutboxItem]:
    """Outbox items, newest deadline last; filtered by state and conference."""
    query = select(OutboxItemRow)
    if states:
        query = query.where(OutboxItemRow.state.in_(states))
    if reference:
        query = query.where(OutboxItemRow.conference_reference == reference)
    query = query.order_by(OutboxItemRow.deadline, OutboxItemRow.id).limit(limit)
    return [to_item(row) for row in session.scalars(query)]
