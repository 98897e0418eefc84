"""The outbox store's contract: the same assertions against the memory store, SQLite and PostgreSQL.

Claims are disjoint between concurrent claimers, a lease runs out and the item is claimed again,
a compare-and-set loses once the item has been claimed again, every move obeys ``TRANSITIONS``,
idempotency keys are unique, and warnings, breaches, replanning and moves by hand do the same on
every backend. ``StoreContract`` holds the tests; each backend's class gives it a ``backend``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, update
from sqlalchemy.orm import sessionmaker

from docgen.adapters.database import make_engine
from docgen.adapters.orm_outbox import OutboxItemRow
from docgen.adapters.outbox_store import MemoryOutboxStore, OutboxConflict, OutboxStore, SQLAlchemyOutboxStore
from docgen.domain.calendar import LONDON
from docgen.domain.outbox import (
    CANCELLED_UNPLANNED,
    STATES,
    BreachRecord,
    ItemState,
    NewItem,
    OutboxItem,
    can_move,
    notice_item,
    planned_item,
)
from docgen.errors import SchedulingError
from docgen.services.runtime import Runtime

SENDER = "cp.conferences@northmoor.gov.uk"
SUPPORT = "business.support@northmoor.gov.uk"
CONFERENCE = "NM-ICPC-2026-0147"
START = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)  # Monday
LEASE = timedelta(minutes=5)


@dataclass
class Backend:
    """A store, a way to open another on the same outbox (as another scheduler process would),
    and a way to put an item in any state, around the state machine, to test the store's guards."""

    store: OutboxStore
    another: Callable[[], OutboxStore]
    force: Callable[..., None]


def planned(n: int = 0, *, ready: bool = True, not_before: datetime | None = None,
            deadline: datetime | None = None, conference: str = CONFERENCE, rule: str = "record-to-invitees",
            copy: str = "conference_record--professional", address: str | None = "someone@agency.example.org",
            now: datetime = START) -> NewItem:
    return planned_item(conference=conference, rule=rule, document=copy.split("--")[0], copy=copy,
                        recipient=f"person-{n}", recipient_name=f"Person {n}", recipient_address=address,
                        envelope_from=SENDER, now=now, not_before=not_before, deadline=deadline, ready=ready)


def claim(store: OutboxStore, *, at: datetime = START, limit: int = 20, worker: str = "test") -> list[OutboxItem]:
    return store.claim(now=at, lease_until=at + LEASE, limit=limit, worker=worker)


def send(store: OutboxStore, item: OutboxItem, *, at: datetime = START, record: Any = None) -> bool:
    return store.mark_sent(item, now=at, late_by=0, transport="test", reference="250 OK", record=record)


def into(backend: Backend, state: ItemState) -> int:
    """A new item put in ``state`` (around the state machine) and due now, so a pass would look at it."""
    [item_id] = backend.store.add([planned(len(STATES) + STATES.index(state))])
    backend.force(item_id, state=state, due_at=START - timedelta(minutes=1))
    return item_id


class StoreContract:
    """Every test here runs on every backend; subclasses provide the ``backend`` fixture."""

    # -- items in and out ----------------------------------------------------------------------

    def test_an_item_reads_back_as_it_was_added(self, backend: Backend) -> None:
        new = planned(1, not_before=START + timedelta(hours=2), deadline=START + timedelta(days=2))
        [item_id] = backend.store.add([new])
        item = backend.store.get(item_id)
        assert backend.store.get(new.idempotency_key) == item
        assert (item.idempotency_key, item.message_id, item.copy, item.recipient, item.state, item.attempts) == (
            new.idempotency_key, new.message_id, new.copy, "person-1", "ready", 0)
        assert (item.not_before, item.deadline, item.claim_token) == (new.not_before, new.deadline, None)
        with pytest.raises(SchedulingError, match="there is no outbox item 'obx-none'"):
            backend.store.get("obx-none")

    def test_idempotency_keys_are_unique_and_a_batch_is_added_whole_or_not_at_all(self, backend: Backend) -> None:
        backend.store.add([planned(1)])
        with pytest.raises(OutboxConflict):
            backend.store.add([planned(1)])
        with pytest.raises(OutboxConflict):
            backend.store.add([planned(2), planned(1)])
        with pytest.raises(SchedulingError):
            backend.store.get(planned(2).idempotency_key)
        assert [i.recipient for i in backend.store.items()] == ["person-1"]

    def test_items_are_listed_by_deadline_and_filtered(self, backend: Backend) -> None:
        backend.store.add([planned(n, deadline=START + timedelta(days=3 - n), conference=f"C-{n % 2}")
                           for n in range(3)])
        assert [i.recipient for i in backend.store.items()] == ["person-2", "person-1", "person-0"]
        assert [i.recipient for i in backend.store.items(reference="C-0")] == ["person-2", "person-0"]
        assert [i.recipient for i in backend.store.items(limit=1)] == ["person-2"]
        assert backend.store.items(states=("failed",)) == []

    # -- claims and leases ---------------------------------------------------------------------

    def test_claims_take_due_items_earliest_first_under_one_token(self, backend: Backend) -> None:
        ids = backend.store.add([planned(n, not_before=START - timedelta(minutes=n)) for n in range(5)]
                                + [planned(9, not_before=START + timedelta(seconds=1))])
        first = claim(backend.store, limit=3)
        assert [i.id for i in first] == sorted(ids[2:5])  # due earliest, returned by id
        assert {i.state for i in first} == {"sending"} and len({i.claim_token for i in first}) == 1
        assert [i.id for i in claim(backend.store)] == sorted(ids[0:2])
        assert claim(backend.store) == []  # the last is not due yet
        assert [i.id for i in claim(backend.store, at=START + timedelta(seconds=1))] == [ids[5]]

    def test_concurrent_claims_are_disjoint(self, backend: Backend) -> None:
        ids = set(backend.store.add([planned(n) for n in range(30)]))
        stores = [backend.store, backend.another(), backend.another()]
        taken: list[list[int]] = [[] for _ in stores]
        start = threading.Barrier(len(stores))

        def claimer(index: int) -> None:
            start.wait()
            while batch := claim(stores[index], limit=4, worker=f"worker-{index}"):
                taken[index] += [i.id for i in batch]

        threads = [threading.Thread(target=claimer, args=(n,)) for n in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        every = [item_id for batch in taken for item_id in batch]
        assert len(every) == len(set(every)) and set(every) == ids
        assert {i.state for i in backend.store.items(limit=100)} == {"sending"}

    def test_a_lease_runs_out_and_the_item_is_claimed_again(self, backend: Backend) -> None:
        backend.store.add([planned(1)])
        [held] = claim(backend.store, worker="slow")
        assert backend.store.begin_attempt(held, now=START, lease_until=START + LEASE) == 1
        assert claim(backend.store, at=START + LEASE - timedelta(seconds=1)) == []
        [again] = claim(backend.store, at=START + LEASE, worker="fast")
        assert (again.id, again.state, again.attempts) == (held.id, "sending", 1)
        assert again.claim_token != held.claim_token

    def test_compare_and_set_loses_after_the_item_is_claimed_again(self, backend: Backend) -> None:
        backend.store.add([planned(1)])
        [lost] = claim(backend.store, worker="slow")
        [taken] = claim(backend.store, at=START + LEASE, worker="fast")
        later = START + LEASE + timedelta(seconds=1)
        assert backend.store.begin_attempt(lost, now=later, lease_until=later + LEASE) is None
        assert not backend.store.retry_later(lost, now=later, due_at=later, error="421")
        assert not backend.store.fail(lost, now=later, reason="550")
        assert not backend.store.hold(lost, now=later, reason="not approved", recheck_at=later)
        backend.store.unclaim([lost], now=later)
        now = backend.store.get(taken.id)
        assert (now.state, now.claim_token, now.attempts, now.last_error) == ("sending", taken.claim_token, 0, None)
        assert backend.store.begin_attempt(taken, now=later, lease_until=later + LEASE) == 1
        assert send(backend.store, taken, at=later)

    def test_a_delivery_accepted_after_the_claim_was_lost_is_recorded_unless_cancelled(
            self, backend: Backend) -> None:
        backend.store.add([planned(1), planned(2)])
        lost = claim(backend.store, worker="slow")
        retaken = claim(backend.store, at=START + LEASE, worker="fast")
        assert not send(backend.store, lost[0], at=START + LEASE)  # the claim was lost: said, and recorded
        assert backend.store.get(lost[0].id).state == "sent"
        backend.store.unclaim([retaken[1]], now=START + LEASE)
        backend.store.cancel(lost[1].id, reason="posted by hand", now=START + LEASE)
        assert not send(backend.store, lost[1], at=START + LEASE)
        assert backend.store.get(lost[1].id).state == "cancelled"

    # -- every move obeys the state machine ----------------------------------------------------

    @pytest.mark.parametrize("state", STATES)
    def test_only_states_that_may_become_sending_are_claimed(self, backend: Backend, state: ItemState) -> None:
        item_id = into(backend, state)
        claimed = [i.id for i in claim(backend.store)]
        assert claimed == ([item_id] if can_move(state, "sending") else [])
        assert backend.store.get(item_id).state == ("sending" if can_move(state, "sending") else state)

    @pytest.mark.parametrize(("move", "target", "expected"), [
        pytest.param("retry", "ready", ("failed",), id="retry-only-failed"),
        pytest.param("release", "ready", ("waiting_for_approval",), id="release-only-held"),
        pytest.param("cancel", "cancelled", (), id="cancel-as-the-table-allows"),
    ])
    @pytest.mark.parametrize("state", STATES)
    def test_moves_by_hand_obey_the_state_machine(self, backend: Backend, state: ItemState, move: str,
                                                  target: ItemState, expected: tuple[str, ...]) -> None:
        item_id = into(backend, state)
        act: dict[str, Callable[[], OutboxItem]] = {
            "retry": lambda: backend.store.retry(item_id, now=START),
            "release": lambda: backend.store.release(item_id, now=START),
            "cancel": lambda: backend.store.cancel(item_id, reason="posted by hand", now=START),
        }
        if (not expected or state in expected) and can_move(state, target):
            assert act[move]().state == target
        else:
            with pytest.raises(SchedulingError, match=f"outbox item {item_id} is {state}"):
                act[move]()
            assert backend.store.get(item_id).state == state

    def test_the_sent_mark_ends_the_claim_and_sent_is_final(self, backend: Backend) -> None:
        [item_id] = backend.store.add([planned(1, deadline=START + timedelta(days=1))])
        [item] = claim(backend.store)
        assert backend.store.begin_attempt(item, now=START, lease_until=START + LEASE) == 1
        assert backend.store.mark_sent(item, now=START, late_by=0, transport="smtp", reference="250 2.0.0 OK")
        sent = backend.store.get(item_id)
        assert (sent.state, sent.sent_at, sent.late_by, sent.claim_token, sent.attempts) == ("sent", START, 0, None, 1)
        assert claim(backend.store, at=START + timedelta(days=30)) == []
        assert not backend.store.fail(item, now=START, reason="too late")
        with pytest.raises(SchedulingError, match="it cannot become cancelled"):
            backend.store.cancel(item_id, reason="no", now=START)

    def test_a_failing_recorder_leaves_the_item_unsent(self, backend: Backend) -> None:
        backend.store.add([planned(1)])
        [item] = claim(backend.store)
        seen: list[Any] = []

        def broken(transaction: Any) -> None:
            seen.append(transaction)
            raise RuntimeError("the delivery record could not be written")

        with pytest.raises(RuntimeError):
            send(backend.store, item, record=broken)
        assert backend.store.get(item.id).state == "sending" and len(seen) == 1
        assert send(backend.store, item, record=seen.append)
        assert backend.store.get(item.id).state == "sent" and len(seen) == 2

    def test_retry_later_fail_hold_and_unclaim(self, backend: Backend) -> None:
        ids = backend.store.add([planned(n) for n in range(4)])
        items = claim(backend.store)
        later = START + timedelta(minutes=1)
        assert backend.store.retry_later(items[0], now=START, due_at=later, error="421 try later")
        assert backend.store.fail(items[1], now=START, reason="550 no such mailbox")
        assert backend.store.hold(items[2], now=START, reason="not approved", recheck_at=later)
        backend.store.unclaim([items[3]], now=START)
        got = [backend.store.get(i) for i in ids]
        assert [(i.state, i.last_error, i.hold_reason, i.claim_token) for i in got] == [
            ("ready", "421 try later", None, None), ("failed", "550 no such mailbox", None, None),
            ("waiting_for_approval", None, "not approved", None), ("ready", None, None, None)]
        assert [i.id for i in claim(backend.store)] == [ids[3]]  # handed back: due at once
        assert [i.id for i in claim(backend.store, at=later)] == [ids[0], ids[2]]  # the failed one never

    # -- by hand -------------------------------------------------------------------------------

    def test_retry_and_release_by_hand_are_due_at_once_but_not_before_the_window(self, backend: Backend) -> None:
        opens = START + timedelta(hours=3)
        failed, held = backend.store.add([planned(1, not_before=START - timedelta(hours=1)),
                                          planned(2, not_before=opens)])
        backend.force(failed, state="failed", due_at=None, attempts=3)
        backend.force(held, state="waiting_for_approval", due_at=START + timedelta(days=1))
        assert backend.store.retry(backend.store.get(failed).idempotency_key, now=START).attempts == 0
        assert backend.store.release(str(held), now=START).state == "ready"
        [retried] = claim(backend.store)
        assert retried.id == failed and send(backend.store, retried)
        assert [i.id for i in claim(backend.store, at=opens)] == [held]
        with pytest.raises(SchedulingError, match="there is no outbox item '999'"):
            backend.store.retry("999", now=START)

    # -- warnings and breaches -----------------------------------------------------------------

    def test_warnings_for_items_that_cannot_go_by_themselves_once_each(self, backend: Backend) -> None:
        deadline = START + timedelta(hours=30)
        waiting, going, retrying = backend.store.add([
            planned(1, ready=False, deadline=deadline), planned(2, deadline=deadline), planned(3, deadline=deadline)])
        backend.force(retrying, attempts=1, due_at=START + timedelta(hours=1))
        about: list[int] = []

        def notice(item: OutboxItem) -> NewItem:
            about.append(item.id)
            return notice_item(item, "deadline_warning", f"item {item.id}", address=SUPPORT, envelope_from=SENDER,
                               now=START)

        horizon = START + timedelta(hours=24)
        assert backend.store.raise_warnings(now=START, horizon=horizon, limit=20, notice=notice) == (0, 0)
        at = START + timedelta(hours=7)
        assert backend.store.raise_warnings(now=at, horizon=at + timedelta(hours=24), limit=20,
                                            notice=notice) == (2, 2)
        assert sorted(about) == [waiting, retrying]  # the one going now is looked at again later
        notices = backend.store.items(states=("ready",), reference=CONFERENCE, limit=100)
        assert sorted(i.notice_text or "" for i in notices if i.is_notice) == sorted(
            f"item {n}" for n in (waiting, retrying))
        assert backend.store.raise_warnings(now=at, horizon=at + timedelta(hours=24), limit=20,
                                            notice=notice) == (0, 0)
        assert sorted(about) == [waiting, retrying] and going not in about

    def test_breaches_are_recorded_once_and_completed_when_sent(self, backend: Backend) -> None:
        deadline = START + timedelta(hours=8)
        overdue, done = backend.store.add([planned(1, ready=False, deadline=deadline), planned(2, deadline=deadline)])
        backend.force(done, state="sent", due_at=None)
        after = deadline + timedelta(days=1)

        def breach(item: OutboxItem) -> BreachRecord:
            assert item.deadline is not None
            return BreachRecord(key=item.idempotency_key, kind="distribution",
                                conference_reference=item.conference_reference, rule=item.rule,
                                deadline_on=deadline.date(), working_days_late=1, detected_at=after,
                                item_id=item.id, deadline=item.deadline)

        def no_notice(item: OutboxItem) -> None:
            return None

        assert backend.store.record_breaches(now=after, limit=20, breach=breach, notice=no_notice) == (1, 2)
        assert backend.store.record_breaches(now=after, limit=20, breach=breach, notice=no_notice) == (0, 0)
        [recorded] = backend.store.breaches()
        assert (recorded.item_id, recorded.sent_at, recorded.working_days_late) == (overdue, None, 1)
        sent = replace(recorded, working_days_late=3, sent_at=after + timedelta(days=2))
        assert not backend.store.record_breach(sent)
        assert [(b.working_days_late, b.sent_at) for b in backend.store.breaches()] == [(3, sent.sent_at)]
        assert backend.store.record_breach(replace(sent, key="obx-other"))

    def test_booking_breaches_keep_their_reason(self, backend: Backend) -> None:
        booking = BreachRecord(key=f"booking:{CONFERENCE}:initial-conference-booking", kind="booking",
                               conference_reference=CONFERENCE, rule="initial-conference-booking",
                               deadline_on=date(2026, 11, 23), working_days_late=2, detected_at=START,
                               reason="Police disclosure awaited")
        backend.store.record_booking(booking)
        backend.store.record_booking(replace(booking, working_days_late=3, reason=None))
        [kept] = backend.store.breaches(kind="booking", reference=CONFERENCE)
        assert (kept.working_days_late, kept.reason) == (3, "Police disclosure awaited")
        assert backend.store.breaches(kind="distribution") == [] and backend.store.breaches(reference="X") == []

    # -- scheduling ----------------------------------------------------------------------------

    def test_replanning_creates_updates_releases_and_cancels(self, backend: Backend) -> None:
        deadline = START + timedelta(days=3)
        backend.store.add([planned(1, ready=False, deadline=deadline), planned(2, deadline=deadline),
                           planned(3, deadline=deadline), planned(4, deadline=deadline, rule="earlier-rule")])
        sent = backend.store.get(planned(4, rule="earlier-rule").idempotency_key)
        backend.force(sent.id, state="sent", due_at=None)
        later = START + timedelta(days=1)
        backend.store.reserve()
        plan = backend.store.replan(CONFERENCE, [
            planned(1, deadline=deadline + timedelta(days=1), now=later),  # its document has arrived
            planned(2, deadline=deadline, now=later),
            planned(4, deadline=deadline, now=later),  # went under another rule: never twice
            planned(5, deadline=deadline, now=later)], now=later)
        assert (len(plan.create), len(plan.update), plan.made_ready, len(plan.cancel)) == (1, 2, 1, 1)
        by = {i.recipient: i for i in backend.store.conference_items(CONFERENCE)}
        assert by["person-1"].state == "ready" and by["person-1"].deadline == deadline + timedelta(days=1)
        assert (by["person-3"].state, by["person-3"].hold_reason) == ("cancelled", CANCELLED_UNPLANNED)
        assert by["person-4"].state == "sent" and by["person-5"].state == "ready" and len(by) == 5
        assert [o.state for o in sorted(backend.store.outcomes(), key=lambda o: o.state)] == [
            "cancelled", "ready", "ready", "ready", "sent"]


class TestMemoryOutboxStore(StoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        store = MemoryOutboxStore()

        def force(item_id: int, **values: Any) -> None:
            store._rows[item_id].update(values)  # around the state machine, as only a test may

        return Backend(store, lambda: store, force)


class TestSQLAlchemyOutboxStore(StoreContract):
    @pytest.fixture
    def backend(self, runtime: Runtime) -> Iterator[Backend]:
        engines = []

        def another() -> OutboxStore:  # its own engine: its own connections, as another process has
            engine = make_engine(runtime.engine.url.render_as_string(hide_password=False))
            engines.append(engine)
            return SQLAlchemyOutboxStore(sessionmaker(engine, expire_on_commit=False))

        def force(item_id: int, **values: Any) -> None:
            table = OutboxItemRow.__table__
            assert isinstance(table, Table)
            with runtime.engine.begin() as connection:
                connection.execute(update(table).where(table.c.id == item_id).values(**values))

        yield Backend(SQLAlchemyOutboxStore(runtime.sessions), another, force)
        for engine in engines:
            engine.dispose()
