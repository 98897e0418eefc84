"""The outbox in the database (SQLAlchemy 2), shared safely by any number of scheduler processes.

Claims take rows ``FOR UPDATE SKIP LOCKED`` and move them by compare-and-set (on the claim token
once claimed), and every UPDATE that changes a state applies only from the states ``TRANSITIONS`` allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, bindparam, false, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_outbox import BreachRow, OutboxItemRow, row_values, to_item
from docgen.adapters.outbox_store.abc import BreachOf, NoticeFor, OutboxConflict, OutboxStore, Outcome, RecordSent
from docgen.domain.outbox import (
    ACCEPTED_AFTER_TAKEOVER,
    CANCELLED_UNPLANNED,
    CLAIMABLE_STATES,
    NOTICE_RULE,
    BreachRecord,
    Current,
    ItemState,
    NewItem,
    OutboxItem,
    Replan,
    breach_due,
    check_move,
    due_again,
    replan,
    sources,
    warning_step,
)
from docgen.errors import SchedulingError

_OUTBOX = cast(Table, OutboxItemRow.__table__)
_BREACHES = cast(Table, BreachRow.__table__)
_ITEM = tuple(_OUTBOX.c[f.name] for f in fields(OutboxItem))
_BREACH = tuple(_BREACHES.c[f.name] for f in fields(BreachRecord))


@cache
def _claimed(target: ItemState) -> ColumnElement[bool]:
    """Where an item is still held by the claim ``:token`` and may become ``target``.

    A claimed item is ``sending``: a move the table does not allow from there is refused here,
    before any statement is built.
    """
    if "sending" not in sources(target):
        raise SchedulingError(f"an item being sent cannot become {target}: TRANSITIONS does not allow it")
    return and_(_OUTBOX.c.id == bindparam("item_id"), _OUTBOX.c.claim_token == bindparam("token"),
                _OUTBOX.c.state == "sending")


# Built once: constructing these per item cost more than running them (docs/performance.md).
_BEGIN_ATTEMPT = (update(_OUTBOX).where(_claimed("sending"))
                  .values(attempts=_OUTBOX.c.attempts + 1, lease_expires_at=bindparam("lease"),
                          due_at=bindparam("lease"), updated_at=bindparam("now"))
                  .returning(_OUTBOX.c.attempts))
_RENEW_LEASE = (update(_OUTBOX).where(_claimed("sending"))
                .values(lease_expires_at=bindparam("lease"), due_at=bindparam("lease"), updated_at=bindparam("now")))
_SENT_COLUMNS = ("state", "sent_at", "late_by", "due_at", "warn_at", "breach_at", "claim_token", "lease_expires_at",
                 "transport", "delivery_reference", "last_error", "hold_reason", "updated_at")
_MARK_SENT = update(_OUTBOX).where(_claimed("sent")).values({name: bindparam(name) for name in _SENT_COLUMNS})
_SENT_AFTER_TAKEOVER = (update(_OUTBOX)
                        .where(_OUTBOX.c.id == bindparam("item_id"),
                               _OUTBOX.c.state.in_(sorted(ACCEPTED_AFTER_TAKEOVER)))
                        .values({name: bindparam(name) for name in _SENT_COLUMNS}))
_UNCLAIM = update(_OUTBOX).where(_claimed("ready")).values(
    state="ready", due_at=bindparam("now"), claim_token=None, claimed_by=None, lease_expires_at=None,
    updated_at=bindparam("now"))
_RETRY_LATER = update(_OUTBOX).where(_claimed("ready")).values(
    state="ready", due_at=bindparam("due"), last_error=bindparam("error"), claim_token=None, claimed_by=None,
    lease_expires_at=None, updated_at=bindparam("now"))
_FAIL = update(_OUTBOX).where(_claimed("failed")).values(
    state="failed", due_at=None, last_error=bindparam("reason"), claim_token=None, lease_expires_at=None,
    updated_at=bindparam("now"))
_HOLD = update(_OUTBOX).where(_claimed("waiting_for_approval")).values(
    state="waiting_for_approval", hold_reason=bindparam("reason"), due_at=bindparam("recheck"), claim_token=None,
    lease_expires_at=None, updated_at=bindparam("now"))


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a ``CursorResult``; typed loosely by ``Session.execute``)."""
    return int(result.rowcount)


def _due(column: InstrumentedAttribute[Any], by: datetime, limit: int) -> Select[Any]:
    # FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent passes take disjoint rows without
    # waiting. SQLite ignores it; there the compare-and-set UPDATE decides.
    return (select(OutboxItemRow).where(column <= by).order_by(column).limit(limit)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True))


def _item(row: Any) -> OutboxItem:
    return OutboxItem(**row._mapping)


class SQLAlchemyOutboxStore(OutboxStore):
    """The outbox tables, through sessions of ``sessions``, each operation its own transaction.

    ``SQLAlchemyOutboxStore.joining(session)`` works inside a caller's transaction instead and
    commits nothing, so that scheduling a conference is one transaction with the rest of it.
    """

    def __init__(self, sessions: sessionmaker[Session] | None = None, *, session: Session | None = None) -> None:
        """Give ``sessions``, or one ``session`` to join (as ``joining`` does)."""
        if sessions is not None and session is None:
            self._engine = sessions.kw["bind"]
        elif session is not None and sessions is None:
            self._engine = session.get_bind()
        else:
            raise SchedulingError("an outbox store needs either the sessions to open or one session to join")
        self._sessions, self._joined = sessions, session
        self._postgres = self._engine.dialect.name == "postgresql"

    @classmethod
    def joining(cls, session: Session) -> SQLAlchemyOutboxStore:
        """A store working in ``session``'s transaction; the caller commits or rolls back."""
        return cls(session=session)

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """The transaction of one operation; a unique key already taken becomes ``OutboxConflict``."""
        if self._joined is not None:
            self._joined.flush()  # the caller's own pending work first: its errors are its own
        try:
            if self._sessions is not None:
                with unit_of_work(self._sessions) as session:
                    yield session
            elif self._joined is not None:
                yield self._joined
                self._joined.flush()
        except IntegrityError as exc:
            raise OutboxConflict(f"another writer recorded the same outbox item or breach first ({exc.orig})") from exc

    @contextmanager
    def _item_transaction(self) -> Iterator[Connection]:
        """A transaction for one item's attempt or ``sent`` mark.

        On PostgreSQL its commit does not wait for the server's disk (``synchronous_commit``
        off for this transaction only): it is durable the moment it returns as far as this
        process is concerned, and only a crash of the database server itself can lose it,
        which at worst sends that item again with the same Message-ID, never loses it
        (docs/scheduler.md). SQLite's WAL mode makes the same trade. Joined to a caller's
        transaction, the caller's durability is left as it is.
        """
        if self._joined is not None:
            yield self._joined.connection()
            return
        with self._engine.begin() as connection:
            if self._postgres:
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield connection

    # -- items in and out ----------------------------------------------------------------------

    def add(self, items: Sequence[NewItem]) -> list[int]:
        if not items:
            return []
        with self._session() as session:
            return self._insert(session, items)

    @staticmethod
    def _insert(session: Session, items: Sequence[NewItem]) -> list[int]:
        statement = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, [row_values(item) for item in items]))

    def get(self, item: int | str) -> OutboxItem:
        with self._session() as session:
            found = session.execute(select(*_ITEM).where(self._which(item))).first()
        if found is None:
            raise SchedulingError(f"there is no outbox item {item!r}; `docgen outbox list` shows them")
        return _item(found)

    @staticmethod
    def _which(item: int | str) -> ColumnElement[bool]:
        return _OUTBOX.c.id == int(item) if str(item).isdigit() else _OUTBOX.c.idempotency_key == str(item)

    def items(self, *, states: Sequence[str] = (), reference: str | None = None,
              limit: int = 200) -> list[OutboxItem]:
        query = select(*_ITEM)
        if states:
            query = query.where(_OUTBOX.c.state.in_(states))
        if reference:
            query = query.where(_OUTBOX.c.conference_reference == reference)
        with self._session() as session:
            return [_item(row) for row in session.execute(query.order_by(_OUTBOX.c.deadline, _OUTBOX.c.id)
                                                          .limit(limit))]

    def conference_items(self, reference: str) -> list[OutboxItem]:
        query = select(*_ITEM).where(_OUTBOX.c.conference_reference == reference, _OUTBOX.c.rule != NOTICE_RULE)
        with self._session() as session:
            return [_item(row) for row in session.execute(query)]

    def outcomes(self) -> list[Outcome]:
        query = select(_OUTBOX.c.rule, _OUTBOX.c.state, _OUTBOX.c.deadline, _OUTBOX.c.sent_at, _OUTBOX.c.late_by,
                       _OUTBOX.c.created_at).where(_OUTBOX.c.rule != NOTICE_RULE)
        with self._session() as session:
            return [Outcome(*row) for row in session.execute(query)]

    # -- scheduling ----------------------------------------------------------------------------

    def reserve(self) -> None:
        if self._joined is not None and self._engine.dialect.name == "sqlite":
            self._joined.execute(update(OutboxItemRow).where(false()).values(state=OutboxItemRow.state))

    def replan(self, reference: str, planned: Sequence[NewItem], *, now: datetime) -> Replan:
        with self._session() as session:
            rows = session.execute(
                select(_OUTBOX.c.id, _OUTBOX.c.idempotency_key, _OUTBOX.c.state, _OUTBOX.c.attempts,
                       _OUTBOX.c.due_at, _OUTBOX.c.deadline, _OUTBOX.c.copy, _OUTBOX.c.recipient)
                .where(_OUTBOX.c.conference_reference == reference, _OUTBOX.c.rule != NOTICE_RULE)
                .with_for_update()).all()
            found = {row.idempotency_key: row for row in rows}
            plan = replan([Current(row.idempotency_key, row.state, row.attempts, row.due_at, row.deadline, row.copy,
                                   row.recipient) for row in rows], planned, now=now)
            for key in plan.cancel:
                self._change(session, found[key].id, found[key].state, "cancelled", {
                    "hold_reason": CANCELLED_UNPLANNED, "updated_at": now, "due_at": None, "warn_at": None,
                    "breach_at": None})
            for key, changes in plan.update:
                self._change(session, found[key].id, found[key].state, changes.get("state"), changes)
            if plan.create:
                self._insert(session, plan.create)
        return plan

    @staticmethod
    def _change(session: Session, item_id: int, current: str, target: ItemState | None,
                values: Mapping[str, Any]) -> None:
        """Update one row read under lock in ``current``; to ``target`` only as the table allows."""
        where = [_OUTBOX.c.id == item_id, _OUTBOX.c.state == current]
        if target is not None:
            check_move(current, target, item=f"outbox item {item_id}")
            where.append(_OUTBOX.c.state.in_(sorted(sources(target))))
            values = {**values, "state": target}
        if not _rowcount(session.execute(update(_OUTBOX).where(*where).values(dict(values)))):
            raise SchedulingError(f"outbox item {item_id} changed while this was being done; look again and retry")

    def breaches(self, *, kind: str | None = None, reference: str | None = None) -> list[BreachRecord]:
        query = select(*_BREACH).order_by(_BREACHES.c.id)
        if kind:
            query = query.where(_BREACHES.c.kind == kind)
        if reference:
            query = query.where(_BREACHES.c.conference_reference == reference)
        with self._session() as session:
            return [BreachRecord(**row._mapping) for row in session.execute(query)]

    def record_booking(self, breach: BreachRecord) -> None:
        with self._session() as session:
            row = session.scalar(select(BreachRow).where(BreachRow.key == breach.key)
                                 .execution_options(populate_existing=True))
            if row is None:
                session.add(BreachRow(**{f.name: getattr(breach, f.name) for f in fields(BreachRecord)}))
                return
            row.deadline_on, row.working_days_late = breach.deadline_on, breach.working_days_late
            if breach.reason:
                row.reason = breach.reason

    # -- moves made by hand --------------------------------------------------------------------

    def _move(self, item: int | str, target: ItemState, *, now: datetime, expect: tuple[str, ...], due_now: bool,
              changes: dict[str, Any]) -> OutboxItem:
        with self._session() as session:
            row = session.execute(select(_OUTBOX.c.id, _OUTBOX.c.state, _OUTBOX.c.not_before)
                                  .where(self._which(item)).with_for_update()).first()
            if row is None:
                raise SchedulingError(f"there is no outbox item {item!r}; `docgen outbox list` shows them")
            if expect and row.state not in expect:
                raise SchedulingError(f"outbox item {row.id} is {row.state}, not {' or '.join(expect)}")
            values = {**changes, "updated_at": now}
            if due_now:
                values["due_at"] = due_again(row.not_before, now)
            self._change(session, row.id, row.state, target, values)
            moved = session.execute(select(*_ITEM).where(_OUTBOX.c.id == row.id)).one()
        return _item(moved)

    # -- a dispatch pass -----------------------------------------------------------------------

    def claim(self, *, now: datetime, lease_until: datetime, limit: int, worker: str) -> list[OutboxItem]:
        token = uuid.uuid4().hex
        with self._session() as session:
            # A claimed item's due_at is its lease's end: one whose scheduler died is taken before
            # items that fell due after it was claimed (through the (state, due_at) index).
            expired = list(session.scalars(_due(OutboxItemRow.due_at, now, limit)
                                           .where(OutboxItemRow.state == "sending")
                                           .with_only_columns(OutboxItemRow.id)))
            rest = [] if len(expired) >= limit else list(session.scalars(
                _due(OutboxItemRow.due_at, now, limit).with_only_columns(OutboxItemRow.id)))
            ids = [*expired, *(i for i in rest if i not in set(expired))][:limit]
            if not ids:
                return []
            rows = session.execute(
                update(OutboxItemRow)
                .where(OutboxItemRow.id.in_(ids), OutboxItemRow.due_at <= now,
                       OutboxItemRow.state.in_(CLAIMABLE_STATES))
                .values(state="sending", claim_token=token, claimed_by=worker, lease_expires_at=lease_until,
                        due_at=lease_until, updated_at=now)
                .returning(OutboxItemRow).execution_options(synchronize_session=False)
            ).scalars().all()
            return sorted((to_item(row) for row in rows), key=lambda i: i.id)

    def renew_leases(self, items: Sequence[OutboxItem], *, now: datetime, lease_until: datetime) -> set[int]:
        renewed: set[int] = set()
        with self._session() as session:
            for item in items:
                values = {"item_id": item.id, "token": item.claim_token, "lease": lease_until, "now": now}
                if _rowcount(session.execute(_RENEW_LEASE, values)):
                    renewed.add(item.id)
        return renewed

    def unclaim(self, items: Sequence[OutboxItem], *, now: datetime) -> None:
        with self._session() as session:
            for item in items:
                session.execute(_UNCLAIM, {"item_id": item.id, "token": item.claim_token, "now": now})

    def begin_attempt(self, item: OutboxItem, *, now: datetime, lease_until: datetime) -> int | None:
        with self._item_transaction() as connection:
            attempt = connection.execute(_BEGIN_ATTEMPT, {
                "item_id": item.id, "token": item.claim_token, "lease": lease_until, "now": now}).scalar_one_or_none()
        return None if attempt is None else int(attempt)

    def mark_sent(self, item: OutboxItem, *, now: datetime, late_by: int, transport: str, reference: str,
                  record: RecordSent | None = None) -> bool:
        values = {"item_id": item.id, "token": item.claim_token, "state": "sent", "sent_at": now, "late_by": late_by,
                  "due_at": None, "warn_at": None, "breach_at": None, "claim_token": None, "lease_expires_at": None,
                  "transport": transport, "delivery_reference": reference, "last_error": None, "hold_reason": None,
                  "updated_at": now}
        if record is None:  # the common case, kept to one plain statement and commit
            with self._item_transaction() as connection:
                if _rowcount(connection.execute(_MARK_SENT, values)):
                    return True
        with self._session() as session:
            held = bool(_rowcount(session.execute(_MARK_SENT, values)))
            if not held:
                session.execute(_SENT_AFTER_TAKEOVER, values)
            if record is not None:
                record(session)
        return held

    def retry_later(self, item: OutboxItem, *, now: datetime, due_at: datetime, error: str) -> bool:
        return self._claimed_move(_RETRY_LATER, item, now=now, due=due_at, error=error)

    def fail(self, item: OutboxItem, *, now: datetime, reason: str) -> bool:
        return self._claimed_move(_FAIL, item, now=now, reason=reason)

    def hold(self, item: OutboxItem, *, now: datetime, reason: str, recheck_at: datetime) -> bool:
        return self._claimed_move(_HOLD, item, now=now, reason=reason, recheck=recheck_at)

    def _claimed_move(self, statement: Any, item: OutboxItem, **values: Any) -> bool:
        with self._session() as session:
            return bool(_rowcount(session.execute(statement, {"item_id": item.id, "token": item.claim_token,
                                                              **values})))

    # -- deadlines -----------------------------------------------------------------------------

    def raise_warnings(self, *, now: datetime, horizon: datetime, limit: int, notice: NoticeFor) -> tuple[int, int]:
        warned = handled = 0
        with self._session() as session:
            for row in session.scalars(_due(OutboxItemRow.warn_at, horizon, limit)).all():
                step = warning_step(row.state, row.attempts, row.due_at, row.deadline, now)
                if step == "later":
                    continue
                row.warn_at = None
                handled += 1
                if step == "warn":
                    row.warned_at = now
                    warned += 1
                    self._queue(session, notice(to_item(row)))
        return warned, handled

    def record_breaches(self, *, now: datetime, limit: int, breach: BreachOf, notice: NoticeFor) -> tuple[int, int]:
        recorded = 0
        with self._session() as session:
            rows = session.scalars(_due(OutboxItemRow.breach_at, now, limit)).all()
            for row in rows:
                row.breach_at = None
                if not breach_due(row.state, row.deadline, now):
                    continue
                item = to_item(row)
                if self._record_breach(session, breach(item)):
                    recorded += 1
                    self._queue(session, notice(item))
        return recorded, len(rows)

    def record_breach(self, breach: BreachRecord) -> bool:
        try:
            with self._session() as session:
                return self._record_breach(session, breach)
        except OutboxConflict:  # another scheduler recorded it first: now there is one to complete
            with self._session() as session:
                return self._record_breach(session, breach)

    @staticmethod
    def _record_breach(session: Session, breach: BreachRecord) -> bool:
        existing = session.scalar(select(BreachRow).where(BreachRow.key == breach.key)
                                  .execution_options(populate_existing=True))
        if existing is not None:
            if breach.sent_at is not None:
                existing.sent_at, existing.working_days_late = breach.sent_at, breach.working_days_late
            return False
        session.add(BreachRow(**{f.name: getattr(breach, f.name) for f in fields(BreachRecord)}))
        session.flush()
        return True

    @staticmethod
    def _queue(session: Session, new: NewItem | None) -> None:
        """Add a business-support notice unless it is in the outbox already."""
        if new is None:
            return
        if session.scalar(select(OutboxItemRow.id).where(OutboxItemRow.idempotency_key == new.idempotency_key)) is None:
            session.add(OutboxItemRow(**row_values(new)))
