"""The outbox in memory, for one process: every operation atomic under one lock, nothing kept after it ends.

Faithful to the SQLAlchemy store in all the contract tests check (claims, leases, compare-and-set,
the state machine, idempotency keys, breaches), for tests and demonstrations that need no database.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

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
    warning_step,
)
from docgen.errors import SchedulingError

_ITEM_FIELDS = tuple(f.name for f in fields(OutboxItem))


@dataclass
class _Row:
    """One item with every column the database keeps for it."""

    id: int
    idempotency_key: str
    message_id: str
    conference_reference: str
    rule: str
    document: str
    copy: str
    report: str | None
    audience: str
    audience_person: str | None
    family_copy: bool
    recipient: str
    recipient_name: str
    recipient_address: str | None
    state: str
    not_before: datetime | None
    deadline: datetime | None
    due_at: datetime | None
    warn_at: datetime | None
    breach_at: datetime | None
    created_at: datetime
    updated_at: datetime
    notice_text: str | None = None
    attempts: int = 0
    last_error: str | None = None
    hold_reason: str | None = None
    claim_token: str | None = None
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    sent_at: datetime | None = None
    late_by: int | None = None
    warned_at: datetime | None = None
    transport: str | None = None
    delivery_reference: str | None = None

    def item(self) -> OutboxItem:
        return OutboxItem(**{name: getattr(self, name) for name in _ITEM_FIELDS})

    def update(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if not hasattr(self, name):
                raise SchedulingError(f"an outbox item has no {name!r}")
            setattr(self, name, value)


class MemoryOutboxStore(OutboxStore):
    """The outbox as a dictionary of rows, guarded by one re-entrant lock."""

    def __init__(self) -> None:
        # Re-entrant: ``mark_sent``'s recorder runs under the lock and may read the store.
        self._lock = threading.RLock()
        self._rows: dict[int, _Row] = {}
        self._keys: dict[str, int] = {}
        self._breaches: dict[str, BreachRecord] = {}
        self._next_id = 1

    # -- items in and out ----------------------------------------------------------------------

    def add(self, items: Sequence[NewItem]) -> list[int]:
        with self._lock:
            keys = [item.idempotency_key for item in items]
            if len(set(keys)) != len(keys) or any(key in self._keys for key in keys):
                raise OutboxConflict("another writer recorded the same outbox item first (its idempotency key)")
            return [self._insert(item) for item in items]

    def _insert(self, item: NewItem) -> int:
        row = _Row(id=self._next_id, updated_at=item.created_at,
                   **{f.name: getattr(item, f.name) for f in fields(NewItem)})
        self._next_id += 1
        self._rows[row.id] = row
        self._keys[row.idempotency_key] = row.id
        return row.id

    def _find(self, item: int | str) -> _Row:
        found = self._rows.get(int(item)) if str(item).isdigit() else self._rows.get(self._keys.get(str(item), 0))
        if found is None:
            raise SchedulingError(f"there is no outbox item {item!r}; `docgen outbox list` shows them")
        return found

    def get(self, item: int | str) -> OutboxItem:
        with self._lock:
            return self._find(item).item()

    def items(self, *, states: Sequence[str] = (), reference: str | None = None,
              limit: int = 200) -> list[OutboxItem]:
        with self._lock:
            rows = [row for row in self._rows.values() if (not states or row.state in states)
                    and (not reference or row.conference_reference == reference)]
            # Items without a deadline last, as PostgreSQL orders NULLs.
            rows.sort(key=lambda r: (r.deadline is None, r.deadline or datetime.min, r.id))
            return [row.item() for row in rows[:limit]]

    def conference_items(self, reference: str) -> list[OutboxItem]:
        with self._lock:
            return [row.item() for row in self._rows.values()
                    if row.conference_reference == reference and row.rule != NOTICE_RULE]

    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return [Outcome(r.rule, r.state, r.deadline, r.sent_at, r.late_by, r.created_at)
                    for r in self._rows.values() if r.rule != NOTICE_RULE]

    # -- scheduling ----------------------------------------------------------------------------

    def replan(self, reference: str, planned: Sequence[NewItem], *, now: datetime) -> Replan:
        with self._lock:
            rows = {r.idempotency_key: r for r in self._rows.values()
                    if r.conference_reference == reference and r.rule != NOTICE_RULE}
            plan = replan([Current(r.idempotency_key, r.state, r.attempts, r.due_at, r.deadline, r.copy, r.recipient)
                           for r in rows.values()], planned, now=now)
            if any(item.idempotency_key in self._keys for item in plan.create):
                raise OutboxConflict("another writer recorded the same outbox item first (its idempotency key)")
            for key in plan.cancel:
                self._change(rows[key], "cancelled", {"hold_reason": CANCELLED_UNPLANNED, "updated_at": now,
                                                      "due_at": None, "warn_at": None, "breach_at": None})
            for key, changes in plan.update:
                self._change(rows[key], changes.get("state"), changes)
            for item in plan.create:
                self._insert(item)
            return plan

    @staticmethod
    def _change(row: _Row, target: ItemState | None, values: Mapping[str, Any]) -> None:
        if target is not None:
            check_move(row.state, target, item=f"outbox item {row.id}")
            values = {**values, "state": target}
        row.update(values)

    def breaches(self, *, kind: str | None = None, reference: str | None = None) -> list[BreachRecord]:
        with self._lock:  # a dict keeps the order the breaches were first recorded in
            return [b for b in self._breaches.values() if (not kind or b.kind == kind)
                    and (not reference or b.conference_reference == reference)]

    def record_booking(self, breach: BreachRecord) -> None:
        with self._lock:
            existing = self._breaches.get(breach.key)
            if existing is None:
                self._breaches[breach.key] = breach
                return
            self._breaches[breach.key] = replace(existing, deadline_on=breach.deadline_on,
                                                 working_days_late=breach.working_days_late,
                                                 reason=breach.reason or existing.reason)

    # -- moves made by hand --------------------------------------------------------------------

    def _move(self, item: int | str, target: ItemState, *, now: datetime, expect: tuple[str, ...], due_now: bool,
              changes: dict[str, Any]) -> OutboxItem:
        with self._lock:
            row = self._find(item)
            if expect and row.state not in expect:
                raise SchedulingError(f"outbox item {row.id} is {row.state}, not {' or '.join(expect)}")
            values = {**changes, "updated_at": now}
            if due_now:
                values["due_at"] = due_again(row.not_before, now)
            self._change(row, target, values)
            return row.item()

    # -- a dispatch pass -----------------------------------------------------------------------

    def _due(self, column: str, by: datetime, limit: int) -> list[_Row]:
        """The rows a pass looks at: at most ``limit``, earliest first, whatever their state (as the SQL does)."""
        due = [r for r in self._rows.values() if getattr(r, column) is not None and getattr(r, column) <= by]
        due.sort(key=lambda r: (getattr(r, column), r.id))
        return due[:limit]

    def claim(self, *, now: datetime, lease_until: datetime, limit: int, worker: str) -> list[OutboxItem]:
        token = uuid.uuid4().hex
        with self._lock:
            # Of the rows due, those the table lets become ``sending``; the others stay as they are.
            due = self._due("due_at", now, len(self._rows))
            due.sort(key=lambda r: r.state != "sending")  # stable: expired leases first, each part by due time
            claimed = [r for r in due[:limit] if r.state in CLAIMABLE_STATES]
            for row in claimed:
                self._change(row, "sending", {"claim_token": token, "claimed_by": worker,
                                              "lease_expires_at": lease_until, "due_at": lease_until,
                                              "updated_at": now})
            return sorted((row.item() for row in claimed), key=lambda i: i.id)

    def _held(self, item: OutboxItem) -> _Row | None:
        """The item's row, if the claim ``item`` carries still holds it."""
        row = self._rows.get(item.id)
        if row is None or item.claim_token is None or row.claim_token != item.claim_token or row.state != "sending":
            return None
        return row

    def _claimed_move(self, item: OutboxItem, target: ItemState, values: Mapping[str, Any]) -> bool:
        with self._lock:
            row = self._held(item)
            if row is not None:
                self._change(row, target, values)
            return row is not None

    def renew_leases(self, items: Sequence[OutboxItem], *, now: datetime, lease_until: datetime) -> set[int]:
        renewed: set[int] = set()
        with self._lock:
            for item in items:
                row = self._held(item)
                if row is not None:
                    self._change(row, "sending", {"lease_expires_at": lease_until, "due_at": lease_until,
                                                  "updated_at": now})
                    renewed.add(item.id)
        return renewed

    def unclaim(self, items: Sequence[OutboxItem], *, now: datetime) -> None:
        for item in items:
            self._claimed_move(item, "ready", {"due_at": now, "claim_token": None, "claimed_by": None,
                                               "lease_expires_at": None, "updated_at": now})

    def begin_attempt(self, item: OutboxItem, *, now: datetime, lease_until: datetime) -> int | None:
        with self._lock:
            row = self._held(item)
            if row is None:
                return None
            self._change(row, "sending", {"attempts": row.attempts + 1, "lease_expires_at": lease_until,
                                          "due_at": lease_until, "updated_at": now})
            return row.attempts

    def mark_sent(self, item: OutboxItem, *, now: datetime, late_by: int, transport: str, reference: str,
                  record: RecordSent | None = None) -> bool:
        values = {"sent_at": now, "late_by": late_by, "due_at": None, "warn_at": None, "breach_at": None,
                  "claim_token": None, "lease_expires_at": None, "transport": transport,
                  "delivery_reference": reference, "last_error": None, "hold_reason": None, "updated_at": now}
        with self._lock:
            row = self._rows[item.id]
            held = self._held(item) is not None
            if held:
                check_move(row.state, "sent", item=f"outbox item {row.id}")
            if record is not None:
                record(self)  # first: if it raises, nothing is marked, as a rolled-back transaction
            if held or row.state in ACCEPTED_AFTER_TAKEOVER:
                row.update({**values, "state": "sent"})
            return held

    def retry_later(self, item: OutboxItem, *, now: datetime, due_at: datetime, error: str) -> bool:
        return self._claimed_move(item, "ready", {"due_at": due_at, "last_error": error, "claim_token": None,
                                                  "claimed_by": None, "lease_expires_at": None, "updated_at": now})

    def fail(self, item: OutboxItem, *, now: datetime, reason: str) -> bool:
        return self._claimed_move(item, "failed", {"due_at": None, "last_error": reason, "claim_token": None,
                                                   "lease_expires_at": None, "updated_at": now})

    def hold(self, item: OutboxItem, *, now: datetime, reason: str, recheck_at: datetime) -> bool:
        return self._claimed_move(item, "waiting_for_approval", {
            "hold_reason": reason, "due_at": recheck_at, "claim_token": None, "lease_expires_at": None,
            "updated_at": now})

    # -- deadlines -----------------------------------------------------------------------------

    def raise_warnings(self, *, now: datetime, horizon: datetime, limit: int, notice: NoticeFor) -> tuple[int, int]:
        with self._lock:
            # Worked on copies and kept only if all of it succeeds, as a transaction would be.
            rows = {r.id: replace(r) for r in self._due("warn_at", horizon, limit)}
            queued: list[NewItem] = []
            warned = handled = 0
            for row in rows.values():
                step = warning_step(row.state, row.attempts, row.due_at, row.deadline, now)
                if step == "later":
                    continue
                row.warn_at = None
                handled += 1
                if step == "warn":
                    row.warned_at = now
                    warned += 1
                    queued += self._notice(notice(row.item()), queued)
            self._rows.update(rows)
            for new in queued:
                self._insert(new)
            return warned, handled

    def record_breaches(self, *, now: datetime, limit: int, breach: BreachOf, notice: NoticeFor) -> tuple[int, int]:
        with self._lock:
            rows = {r.id: replace(r) for r in self._due("breach_at", now, limit)}
            recorded: dict[str, BreachRecord] = {}
            queued: list[NewItem] = []
            for row in rows.values():
                row.breach_at = None
                if not breach_due(row.state, row.deadline, now):
                    continue
                record = breach(row.item())
                if record.key not in self._breaches and record.key not in recorded:
                    recorded[record.key] = record
                    queued += self._notice(notice(row.item()), queued)
            self._rows.update(rows)
            self._breaches.update(recorded)
            for new in queued:
                self._insert(new)
            return len(recorded), len(rows)

    def _notice(self, new: NewItem | None, queued: list[NewItem]) -> list[NewItem]:
        """``new`` as a list, unless it is absent or already in the outbox (or about to be)."""
        if new is None or new.idempotency_key in self._keys or any(
                q.idempotency_key == new.idempotency_key for q in queued):
            return []
        return [new]

    def record_breach(self, breach: BreachRecord) -> bool:
        with self._lock:
            existing = self._breaches.get(breach.key)
            if existing is None:
                self._breaches[breach.key] = breach
                return True
            if breach.sent_at is not None:
                self._breaches[breach.key] = replace(existing, sent_at=breach.sent_at,
                                                     working_days_late=breach.working_days_late)
            return False
