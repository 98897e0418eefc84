"""The outbox store: every read and write of outbox items and breaches that the services make, in one interface.

Its backends, ``sqlalchemy`` and ``memory``, move items only as ``docgen.domain.outbox.TRANSITIONS``
allows and pass the same contract tests (tests/test_outbox_store_contract.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from docgen.domain.outbox import BreachRecord, ItemState, NewItem, OutboxItem, Replan
from docgen.errors import SchedulingError

NoticeFor = Callable[[OutboxItem], NewItem | None]
"""Given an item a notice is due about: the notice to queue for business support, or None."""
BreachOf = Callable[[OutboxItem], BreachRecord]
"""Given an item that has missed its deadline: the breach to record."""
RecordSent = Callable[[Any], None]
"""Records what goes with a delivery, inside the transaction that marks the item sent.

It receives the store's transaction: the SQLAlchemy ``Session`` for ``SQLAlchemyOutboxStore``,
the store itself for ``MemoryOutboxStore``. If it raises, the item is not marked sent.
"""


class OutboxConflict(SchedulingError):
    """Another writer recorded the same outbox item or breach first (idempotency keys are unique)."""


class Outcome(NamedTuple):
    """What the compliance report needs of one item (notices aside)."""

    rule: str
    state: str
    deadline: datetime | None
    sent_at: datetime | None
    late_by: int | None
    created_at: datetime


class OutboxStore(ABC):
    """The outbox: items planned, claimed, sent, retried, held, failed, cancelled; breaches recorded.

    Moves made by a dispatch pass (``claim`` to ``hold``) apply only while the pass still holds
    the item's claim (compare-and-set on its claim token) and only from the states the state
    machine allows: otherwise nothing changes and they say so. Moves made by hand raise
    ``SchedulingError`` saying why they cannot be made.
    """

    # -- items in and out ----------------------------------------------------------------------

    @abstractmethod
    def add(self, items: Sequence[NewItem]) -> list[int]:
        """Insert new items, all or none; returns their ids in order.

        Raises ``OutboxConflict`` if an idempotency key is already in the outbox.
        """

    @abstractmethod
    def get(self, item: int | str) -> OutboxItem:
        """One item, by id or idempotency key; ``SchedulingError`` if there is none."""

    @abstractmethod
    def items(self, *, states: Sequence[str] = (), reference: str | None = None,
              limit: int = 200) -> list[OutboxItem]:
        """Items filtered by state and conference, by deadline then id."""

    @abstractmethod
    def conference_items(self, reference: str) -> list[OutboxItem]:
        """A conference's items, business-support notices excluded, in no particular order."""

    @abstractmethod
    def outcomes(self) -> list[Outcome]:
        """Every item but the business-support notices, as the compliance report counts them."""

    # -- scheduling ----------------------------------------------------------------------------

    def reserve(self) -> None:  # noqa: B027 - a hook that only one backend needs; the others do nothing
        """Before reading what is to be replanned, take the lock the writes will need.

        Only the SQLAlchemy store joined to a caller's SQLite transaction does anything: SQLite
        locks the whole database on a transaction's first write, and a dispatch pass must not
        claim an item between the read and the writes (PostgreSQL locks the rows as they are
        read instead).
        """

    @abstractmethod
    def replan(self, reference: str, planned: Sequence[NewItem], *, now: datetime) -> Replan:
        """Bring a conference's items up to date with its plan (``docgen.domain.outbox.replan``).

        Returns what was changed. Atomic: no dispatch pass claims one of the conference's items
        meanwhile.
        """

    @abstractmethod
    def breaches(self, *, kind: str | None = None, reference: str | None = None) -> list[BreachRecord]:
        """Breaches recorded, in the order they were first recorded."""

    @abstractmethod
    def record_booking(self, breach: BreachRecord) -> None:
        """Record a booking breach, or bring one recorded before up to date (its reason kept if none is given)."""

    # -- moves made by hand --------------------------------------------------------------------

    def retry(self, item: int | str, *, now: datetime) -> OutboxItem:
        """A failed item back to ready, its attempts counted afresh, due at once (within its window)."""
        return self._move(item, "ready", now=now, expect=("failed",), due_now=True, changes={"attempts": 0})

    def release(self, item: int | str, *, now: datetime) -> OutboxItem:
        """A held family copy back to ready, due at once (within its window)."""
        return self._move(item, "ready", now=now, expect=("waiting_for_approval",), due_now=True, changes={})

    def cancel(self, item: int | str, *, reason: str, now: datetime) -> OutboxItem:
        """An item stopped for good, and no longer watched for warnings or breaches."""
        return self._move(item, "cancelled", now=now, expect=(), due_now=False,
                          changes={"hold_reason": reason, "due_at": None, "warn_at": None, "breach_at": None})

    @abstractmethod
    def _move(self, item: int | str, target: ItemState, *, now: datetime, expect: tuple[str, ...], due_now: bool,
              changes: dict[str, Any]) -> OutboxItem:
        """Move one item by hand to ``target`` if it is in one of ``expect`` (any, if empty) and
        ``check_move`` allows it, compare-and-set on its state so a claim is never overwritten."""

    # -- a dispatch pass -----------------------------------------------------------------------

    @abstractmethod
    def claim(self, *, now: datetime, lease_until: datetime, limit: int, worker: str) -> list[OutboxItem]:
        """Claim at most ``limit`` of the items due by ``now`` under one new claim token, until
        ``lease_until``; concurrent claims are disjoint. Items whose lease has run out (their
        scheduler died) come first, then the others earliest due first. Returned by id."""

    @abstractmethod
    def renew_leases(self, items: Sequence[OutboxItem], *, now: datetime, lease_until: datetime) -> set[int]:
        """Extend the lease of each item its claim still holds to ``lease_until``; the ids renewed."""

    @abstractmethod
    def unclaim(self, items: Sequence[OutboxItem], *, now: datetime) -> None:
        """Hand claimed items that were never tried back, ready and due at once."""

    @abstractmethod
    def begin_attempt(self, item: OutboxItem, *, now: datetime, lease_until: datetime) -> int | None:
        """Count an attempt and renew the lease, durably, before the transport is called.

        Returns the attempt's number, or None if the claim was lost.
        """

    @abstractmethod
    def mark_sent(self, item: OutboxItem, *, now: datetime, late_by: int, transport: str, reference: str,
                  record: RecordSent | None = None) -> bool:
        """Record that the transport accepted ``item``; ``record`` runs in the same transaction.

        Returns False if the claim had been lost meanwhile: the delivery is recorded all the same
        (``ACCEPTED_AFTER_TAKEOVER``), for it did go.
        """

    @abstractmethod
    def retry_later(self, item: OutboxItem, *, now: datetime, due_at: datetime, error: str) -> bool:
        """After a transient failure: ready again at ``due_at``. False if the claim was lost."""

    @abstractmethod
    def fail(self, item: OutboxItem, *, now: datetime, reason: str) -> bool:
        """A permanent failure: shown, and retried only by hand. False if the claim was lost."""

    @abstractmethod
    def hold(self, item: OutboxItem, *, now: datetime, reason: str, recheck_at: datetime) -> bool:
        """The approval gate refused: wait for approval, looked at again at ``recheck_at``."""

    # -- deadlines -----------------------------------------------------------------------------

    @abstractmethod
    def raise_warnings(self, *, now: datetime, horizon: datetime, limit: int, notice: NoticeFor) -> tuple[int, int]:
        """For at most ``limit`` items whose warning time is by ``horizon``: warn about those that
        cannot go by themselves (``warning_step``), queueing ``notice``'s notice once per item.

        Returns (items warned about, items looked at); raises ``OutboxConflict`` (nothing
        recorded) if another pass queued the same notice first.
        """

    @abstractmethod
    def record_breaches(self, *, now: datetime, limit: int, breach: BreachOf, notice: NoticeFor) -> tuple[int, int]:
        """For at most ``limit`` items whose breach time is by ``now``: record a breach for each
        that missed its deadline unsent (``breach_due``) and, when it is new, queue ``notice``'s notice.

        Returns (breaches newly recorded, items looked at); ``OutboxConflict`` as above.
        """

    @abstractmethod
    def record_breach(self, breach: BreachRecord) -> bool:
        """Record a distribution breach, or complete the one recorded with its ``sent_at``; True if new."""
