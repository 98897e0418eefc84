"""Recovery after a scheduler dies: its items, once their lease runs out, are taken before items that
fell due after them; and a live scheduler renews its leases while it works, a slow send included,
so the lease can be short without a live scheduler's item being taken over. On every backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from distribution.abc import Delivery, Transport
from distribution.transports.common import message_id_of
from docgen.adapters.outbox_store import MemoryOutboxStore, OutboxStore, SQLAlchemyOutboxStore
from docgen.services.dispatch import Dispatcher, DispatchPolicy, plain_message
from docgen.services.runtime import Runtime
from tests.integration.test_dispatch import SENDER, START, Clock, add


@pytest.fixture(params=["memory", "database"])
def store(request: pytest.FixtureRequest, runtime: Runtime) -> OutboxStore:
    """The memory store, and the database's on SQLite and PostgreSQL (``runtime``'s backends)."""
    if request.param == "memory":
        return MemoryOutboxStore()
    return SQLAlchemyOutboxStore(runtime.sessions)


def test_an_item_whose_lease_ran_out_is_taken_before_newer_items_due_earlier(store: OutboxStore) -> None:
    clock = Clock(START)
    held = add(store, clock, copy="conference_record--professional", recipient="claire-dunn")
    [claimed] = store.claim(now=clock(), lease_until=clock() + timedelta(minutes=5), limit=1, worker="dead")
    assert claimed.id == held
    # While its scheduler is dead, twenty more items fall due, all before its lease runs out.
    clock.advance(minutes=1)
    newer = [add(store, clock, copy=f"decisions_notice--professional-{n}", recipient=f"person-{n}") for n in range(20)]
    clock.advance(minutes=5)  # the lease has run out; every newer item was due before it did
    taken = store.claim(now=clock(), lease_until=clock() + timedelta(minutes=1), limit=5, worker="alive")
    ids = {item.id for item in taken}
    assert held in ids
    assert len(ids) == 5 and ids - {held} <= set(newer)  # the newer ones tie on due time


def test_a_held_lease_is_renewed_and_a_lost_one_is_not(store: OutboxStore) -> None:
    clock = Clock(START)
    first, second = add(store, clock), add(store, clock, copy="outline_plan--professional")
    claimed = store.claim(now=clock(), lease_until=clock() + timedelta(minutes=1), limit=2, worker="alive")
    mine = next(item for item in claimed if item.id == first)
    store.fail(next(item for item in claimed if item.id == second), now=clock(), reason="stopped for the test")
    clock.advance(seconds=50)
    assert store.renew_leases(claimed, now=clock(), lease_until=clock() + timedelta(minutes=1)) == {first}
    clock.advance(seconds=50)  # past the first lease, inside the renewed one
    assert store.claim(now=clock(), lease_until=clock() + timedelta(minutes=1), limit=5, worker="other") == []
    assert store.begin_attempt(mine, now=clock(), lease_until=clock() + timedelta(minutes=1)) == 1


class _SlowTransport(Transport):
    """Holds each send until told to go on, so the test can look at the outbox meanwhile."""

    name = "slow"

    def __init__(self) -> None:
        self.sending = threading.Event()
        self.go_on = threading.Event()

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        self.sending.set()
        assert self.go_on.wait(30)
        return Delivery(message_id_of(message), self.name, datetime.now(UTC), idempotency_key, "250 OK")


def test_a_slow_send_keeps_its_lease_however_short(store: OutboxStore) -> None:
    def now() -> datetime:
        return datetime.now(UTC)

    add(store, Clock(now()))
    lease = timedelta(seconds=0.6)
    transport = _SlowTransport()
    dispatcher = Dispatcher(store, transport, policy=DispatchPolicy(envelope_from=SENDER, lease=lease), clock=now,
                            build_message=lambda item: plain_message(item, envelope_from=SENDER, at=now()),
                            approval_gate=lambda item: None, worker="slow")
    passing = threading.Thread(target=dispatcher.run_pass)
    passing.start()
    try:
        assert transport.sending.wait(30)
        # Three leases long, the send is still going: renewed, the item is not anybody else's to take.
        stop_looking = threading.Event()
        stop_looking.wait(3 * lease.total_seconds())
        assert store.claim(now=now(), lease_until=now() + lease, limit=5, worker="other") == []
    finally:
        transport.go_on.set()
        passing.join(30)
    assert [item.state for item in store.items()] == ["sent"]
