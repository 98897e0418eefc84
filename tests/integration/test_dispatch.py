"""The dispatch pass on every backend: windows, retries, failures, approval holds, takeovers, warnings, breaches."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from distribution.transports.common import message_id_of
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_outbox import OutboxItemRow
from docgen.adapters.outbox_store import MemoryOutboxStore, OutboxSource, OutboxStore, SQLAlchemyOutboxStore
from docgen.domain.calendar import LONDON
from docgen.domain.outbox import Backoff, BreachRecord, OutboxItem, message_token, planned_item
from docgen.errors import ApprovalError, RedactionError, SchedulingError
from docgen.services.dispatch import (
    Dispatcher,
    DispatchPolicy,
    PassReport,
    cancel_item,
    list_items,
    no_approval_gate,
    plain_message,
    release_item,
    retry_item,
)
from docgen.services.runtime import Runtime

SENDER = "cp.conferences@northmoor.gov.uk"
SUPPORT = "business.support@northmoor.gov.uk"
START = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)  # Monday


class Clock:
    """An injected clock that only moves when told."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class Killed(BaseException):
    """Stands for SIGKILL inside the process: nothing after it runs."""


class RecordingTransport(Transport):
    """Accepts messages and remembers every transaction; can be told to fail or die first."""

    name = "recording"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.transactions: list[tuple[str, list[str], str]] = []
        self.failures: list[BaseException] = []
        self.die_after_accepting = False

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        if self.failures:
            raise self.failures.pop(0)
        message_id = message_id_of(message)
        self.transactions.append((message_id, recipients, idempotency_key))
        if self.die_after_accepting:
            self.die_after_accepting = False
            raise Killed()
        return Delivery(message_id, self.name, self.clock(), idempotency_key, "250 2.0.0 OK")

    @property
    def message_ids(self) -> list[str]:
        return [t[0] for t in self.transactions]


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def transport(clock: Clock) -> RecordingTransport:
    return RecordingTransport(clock)


def allow(item: OutboxItem) -> None:
    return None


def make_dispatcher(runtime: Runtime | OutboxSource, clock: Clock, transport: Transport, *,
                    approval_gate: Callable[[OutboxItem], None] = allow,
                    build: Callable[[OutboxItem], bytes] | None = None, **policy: Any) -> Dispatcher:
    policy.setdefault("business_support_address", SUPPORT)
    return Dispatcher(
        runtime.sessions if isinstance(runtime, Runtime) else runtime, transport,
        policy=DispatchPolicy(envelope_from=SENDER, **policy), clock=clock,
        build_message=build or (lambda item: plain_message(item, envelope_from=SENDER, at=clock())),
        approval_gate=approval_gate, rng=random.Random(7), worker="test")


def outbox(runtime: Runtime | OutboxStore) -> OutboxStore:
    return SQLAlchemyOutboxStore(runtime.sessions) if isinstance(runtime, Runtime) else runtime


def add(runtime: Runtime | OutboxStore, clock: Clock, *, copy: str = "conference_record--professional",
        recipient: str = "claire-dunn", address: str | None = "claire.dunn@nhs.example.uk",
        not_before: datetime | None = None, deadline: datetime | None = None, ready: bool = True,
        family: bool = False, rule: str = "record-to-invitees") -> int:
    [item_id] = outbox(runtime).add([planned_item(
        conference="NM-ICPC-2026-0147", rule=rule, document=copy.split("--")[0], copy=copy, recipient=recipient,
        recipient_name=recipient.replace("-", " ").title(), recipient_address=address, envelope_from=SENDER,
        now=clock(), not_before=not_before, deadline=deadline, ready=ready, family_copy=family,
        audience="family" if family else "professional", audience_person=recipient if family else None)])
    return item_id


def get(runtime: Runtime | OutboxStore, item_id: int) -> OutboxItem:
    return outbox(runtime).get(item_id)


def breaches(runtime: Runtime | OutboxStore) -> list[BreachRecord]:
    return outbox(runtime).breaches()


def notices(runtime: Runtime | OutboxStore) -> list[OutboxItem]:
    listed = outbox(runtime).items(limit=10_000)
    return sorted((i for i in listed if i.recipient == "business-support"), key=lambda i: i.id)


def test_a_ready_item_is_sent_once_with_its_own_message_id(runtime: Runtime, clock: Clock,
                                                          transport: RecordingTransport) -> None:
    item_id = add(runtime, clock, deadline=START + timedelta(days=3))
    report = make_dispatcher(runtime, clock, transport).drain()
    item = get(runtime, item_id)
    assert (report.claimed, report.sent, report.sent_late) == (1, 1, 0)
    # The transport names the message by the random part of its Message-ID, never by the key.
    assert transport.transactions == [(item.message_id, ["claire.dunn@nhs.example.uk"], message_token(item.message_id))]
    assert re.fullmatch(r"<[0-9a-f]{32}@northmoor\.gov\.uk>", item.message_id)
    assert (item.state, item.attempts, item.sent_at, item.late_by) == ("sent", 1, START, 0)
    assert make_dispatcher(runtime, clock, transport).drain().claimed == 0
    assert len(transport.transactions) == 1


def test_an_item_is_held_until_its_window_opens(runtime: Runtime, clock: Clock,
                                                 transport: RecordingTransport) -> None:
    opens = START + timedelta(hours=5)
    item_id = add(runtime, clock, not_before=opens, deadline=opens + timedelta(days=2))
    dispatcher = make_dispatcher(runtime, clock, transport)
    clock.advance(hours=4, minutes=59)
    assert dispatcher.drain().claimed == 0 and get(runtime, item_id).state == "ready"
    clock.advance(minutes=1)
    assert dispatcher.drain().sent == 1
    assert get(runtime, item_id).sent_at == opens


def test_an_item_whose_window_passed_while_down_is_sent_and_recorded_late(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    deadline = datetime(2026, 11, 23, 17, 0, tzinfo=LONDON)
    item_id = add(runtime, clock, deadline=deadline)
    clock.at = datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)  # Wednesday: the scheduler was down
    report = make_dispatcher(runtime, clock, transport).drain()
    assert (report.sent, report.sent_late) == (1, 1)
    item = get(runtime, item_id)
    assert (item.state, item.late_by) == ("sent", 2)
    [breach] = breaches(runtime)
    assert (breach.item_id, breach.rule, breach.working_days_late) == (item_id, "record-to-invitees", 2)
    assert breach.deadline == deadline and breach.sent_at == clock()


def test_transient_failures_back_off_then_send(runtime: Runtime, clock: Clock,
                                               transport: RecordingTransport) -> None:
    item_id = add(runtime, clock)
    transport.failures = [TransportError("421 try later", transient=True),
                          TransportError("connection reset", transient=True)]
    dispatcher = make_dispatcher(runtime, clock, transport, backoff=Backoff(timedelta(seconds=60), timedelta(hours=1)))
    assert dispatcher.drain().retrying == 1
    first = get(runtime, item_id)
    assert (first.state, first.attempts, first.last_error) == ("ready", 1, "421 try later")
    with unit_of_work(runtime.sessions) as session:
        due = session.scalar(select(OutboxItemRow.due_at).where(OutboxItemRow.id == item_id))
    assert due is not None
    assert START + timedelta(seconds=30) <= due <= START + timedelta(seconds=60)
    clock.at = due - timedelta(seconds=1)
    assert dispatcher.drain().claimed == 0
    clock.at = due
    assert dispatcher.drain().retrying == 1 and get(runtime, item_id).attempts == 2
    clock.advance(minutes=2)
    assert dispatcher.drain().sent == 1
    item = get(runtime, item_id)
    assert (item.state, item.attempts, item.last_error) == ("sent", 3, None)
    assert len(transport.transactions) == 1


def test_a_permanent_failure_stops_is_shown_and_can_be_retried_by_hand(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    item_id = add(runtime, clock)
    transport.failures = [TransportError("550 mailbox unknown", transient=False)]
    dispatcher = make_dispatcher(runtime, clock, transport)
    assert dispatcher.drain().failed == 1
    clock.advance(days=3)
    assert dispatcher.drain().claimed == 0
    with unit_of_work(runtime.sessions) as session:
        [shown] = list_items(session, states=("failed",))
    assert (shown.id, shown.last_error) == (item_id, "550 mailbox unknown")
    with unit_of_work(runtime.sessions) as session:
        assert retry_item(session, str(item_id), now=clock()).state == "ready"
    assert dispatcher.drain().sent == 1
    with unit_of_work(runtime.sessions) as session, pytest.raises(SchedulingError, match="is sent, not failed"):
        retry_item(session, item_id, now=clock())


def test_a_refused_family_copy_waits_for_approval_and_is_never_sent(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    item_id = add(runtime, clock, copy="conference_record--family-zofia", recipient="zofia",
                  address="zofia.w@example.org", family=True)
    professional = add(runtime, clock)
    approved: set[str] = set()
    seen: list[str] = []

    def gate(item: OutboxItem) -> None:
        seen.append(item.copy)
        if item.recipient not in approved:
            raise ApprovalError("the chair has not approved Zofia's copy of the record")

    dispatcher = make_dispatcher(runtime, clock, transport, approval_gate=gate, approval_recheck=timedelta(minutes=15))
    report = dispatcher.drain()
    assert (report.sent, report.held) == (1, 1)
    assert seen == ["conference_record--family-zofia"]  # professional copies are not asked about
    held = get(runtime, item_id)
    assert (held.state, held.hold_reason, held.attempts) == (
        "waiting_for_approval", "the chair has not approved Zofia's copy of the record", 0)
    clock.advance(minutes=15)
    assert dispatcher.drain().held == 1  # looked at again, still refused
    approved.add("zofia")
    with unit_of_work(runtime.sessions) as session:
        release_item(session, item_id, now=clock())
    assert dispatcher.drain().sent == 1
    assert get(runtime, item_id).state == "sent" and get(runtime, professional).state == "sent"
    assert len(transport.transactions) == 2


def test_without_an_approval_gate_family_copies_are_held(runtime: Runtime, clock: Clock,
                                                        transport: RecordingTransport) -> None:
    item_id = add(runtime, clock, copy="outline_plan--family-zofia", recipient="zofia", family=True)
    make_dispatcher(runtime, clock, transport, approval_gate=no_approval_gate).drain()
    item = get(runtime, item_id)
    assert item.state == "waiting_for_approval" and "no chair-approval check" in (item.hold_reason or "")
    assert transport.transactions == []


@pytest.mark.parametrize(("builder_error", "state", "why"), [
    pytest.param(ApprovalError("the copy differs from the approved one"), "waiting_for_approval",
                 "differs from the approved", id="approval-of-the-bytes-refused"),
    pytest.param(RedactionError("a withheld paragraph reached the copy"), "failed", "withheld paragraph",
                 id="fails-closed-on-redaction"),
    pytest.param(ValueError("bug"), "failed", "unexpectedly (ValueError)", id="a-bug-stops-only-this-item"),
    pytest.param(TransportError("certificate store unreachable", transient=True), "ready", "unreachable",
                 id="transient-builder-failure-retries"),
])
def test_message_builder_failures(runtime: Runtime, clock: Clock, transport: RecordingTransport,
                                  builder_error: Exception, state: str, why: str) -> None:
    broken = add(runtime, clock, recipient="broken")
    fine = add(runtime, clock, recipient="fine")

    def build(item: OutboxItem) -> bytes:
        if item.recipient == "broken":
            raise builder_error
        return plain_message(item, envelope_from=SENDER, at=clock())

    make_dispatcher(runtime, clock, transport, build=build).drain()
    item = get(runtime, broken)
    assert item.state == state and why in (item.last_error or item.hold_reason or "")
    assert get(runtime, fine).state == "sent"
    assert transport.message_ids == [get(runtime, fine).message_id]


def test_a_message_without_the_items_message_id_is_not_sent(runtime: Runtime, clock: Clock,
                                                           transport: RecordingTransport) -> None:
    item_id = add(runtime, clock)

    def build(item: OutboxItem) -> bytes:
        return plain_message(OutboxItem(**{**item.__dict__, "message_id": "<random@x>"}), envelope_from=SENDER,
                             at=clock())

    make_dispatcher(runtime, clock, transport, build=build).drain()
    assert get(runtime, item_id).state == "failed" and transport.transactions == []


def test_no_address_fails_with_what_to_do(runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    item_id = add(runtime, clock, copy="decisions_notice--child-lena", recipient="lena", address=None)
    make_dispatcher(runtime, clock, transport).drain()
    item = get(runtime, item_id)
    assert item.state == "failed" and "no email address" in (item.last_error or "")
    with unit_of_work(runtime.sessions) as session:
        assert cancel_item(session, item_id, reason="handed over by the social worker", now=clock()).state == "cancelled"


def test_killed_after_the_server_accepted_is_resent_with_the_same_message_id_after_the_lease(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    item_id = add(runtime, clock)
    transport.die_after_accepting = True
    with pytest.raises(Killed):
        make_dispatcher(runtime, clock, transport, lease=timedelta(minutes=5)).drain()
    stuck = get(runtime, item_id)
    assert (stuck.state, stuck.attempts) == ("sending", 1)  # the attempt was committed before SMTP
    restarted = make_dispatcher(runtime, clock, transport, lease=timedelta(minutes=5))
    clock.advance(minutes=4)
    assert restarted.drain().claimed == 0  # the lease still stands
    clock.advance(minutes=1)
    assert restarted.drain().sent == 1
    item = get(runtime, item_id)
    assert (item.state, item.attempts) == ("sent", 2)
    assert transport.message_ids == [item.message_id, item.message_id]  # a receiving store keeps one
    assert [t[2] for t in transport.transactions] == [message_token(item.message_id)] * 2


def test_the_same_delivery_in_two_databases_has_two_unrelated_message_ids(clock: Clock) -> None:
    """Nobody who sees a Message-ID can confirm a guess of the conference, copy or recipient it is."""
    first, second = MemoryOutboxStore(), MemoryOutboxStore()
    one, other = get(first, add(first, clock)), get(second, add(second, clock))
    assert one.idempotency_key == other.idempotency_key  # the same delivery, found again by scheduling
    assert one.message_id != other.message_id
    for item in (one, other):
        assert item.idempotency_key.removeprefix("obx-") not in item.message_id
        for field in ("NM-ICPC-2026-0147", "claire", "record", "obx"):
            assert field not in item.message_id.lower()


def test_a_claim_taken_over_after_its_lease_is_not_sent_by_the_slow_owner(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    add(runtime, clock)
    slow = make_dispatcher(runtime, clock, transport, lease=timedelta(minutes=5))
    [claimed] = slow._claim(clock())
    clock.advance(minutes=6)
    assert make_dispatcher(runtime, clock, transport, lease=timedelta(minutes=5)).drain().sent == 1
    report = PassReport()
    slow._process(claimed, report)
    assert report.lost_claims == 1 and len(transport.transactions) == 1


def test_two_dispatchers_claim_disjoint_items(runtime: Runtime, clock: Clock,
                                              transport: RecordingTransport) -> None:
    ids = {add(runtime, clock, recipient=f"person-{n}") for n in range(10)}
    first = make_dispatcher(runtime, clock, transport, batch_size=6)._claim(clock())
    second = make_dispatcher(runtime, clock, transport, batch_size=6)._claim(clock())
    assert len(first) == 6 and len(second) == 4
    assert {i.id for i in first} | {i.id for i in second} == ids
    assert {i.claim_token for i in first}.isdisjoint({i.claim_token for i in second})


def test_a_drain_sends_everything_due_in_batches(runtime: Runtime, clock: Clock,
                                                 transport: RecordingTransport) -> None:
    for n in range(12):
        add(runtime, clock, recipient=f"person-{n}")
    report = make_dispatcher(runtime, clock, transport, batch_size=5).drain()
    assert (report.claimed, report.sent) == (12, 12)
    assert len(set(transport.message_ids)) == 12


def test_stopping_hands_claimed_items_back(runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    ids = [add(runtime, clock, recipient=f"person-{n}") for n in range(4)]
    dispatcher = make_dispatcher(runtime, clock, transport)
    dispatcher.should_stop = lambda: len(transport.transactions) >= 1
    dispatcher.drain()
    states = [get(runtime, i).state for i in ids]
    assert states.count("sent") == 1 and states.count("ready") == 3
    assert all(get(runtime, i).attempts == 0 for i in ids if get(runtime, i).state == "ready")
    dispatcher.should_stop = lambda: False
    assert dispatcher.drain().sent == 3  # at once: no lease to wait for


def test_gives_up_after_max_attempts(runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    item_id = add(runtime, clock)
    transport.failures = [TransportError("timeout", transient=True) for _ in range(3)]
    dispatcher = make_dispatcher(runtime, clock, transport, max_attempts=3)
    for _ in range(4):
        dispatcher.drain()
        clock.advance(hours=1)
    item = get(runtime, item_id)
    assert item.state == "failed" and item.last_error == "gave up after 3 attempts; last error: timeout"


def test_a_warning_goes_to_business_support_once_before_the_deadline(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    deadline = START + timedelta(hours=30)
    waiting = add(runtime, clock, ready=False, deadline=deadline, copy="conference_record--professional")
    planned = add(runtime, clock, recipient="later", not_before=deadline - timedelta(hours=2), deadline=deadline)
    dispatcher = make_dispatcher(runtime, clock, transport, warn_before=timedelta(hours=24))
    assert dispatcher.drain().warnings == 0
    clock.advance(hours=6)
    report = dispatcher.drain()
    assert report.warnings == 1
    [notice] = notices(runtime)
    assert (notice.document, notice.recipient_address, notice.state) == ("deadline_warning", SUPPORT, "sent")
    assert "Deadline approaching, not ready" in (notice.notice_text or "") and f"item {waiting}" in (notice.notice_text or "")
    assert get(runtime, waiting).state == "waiting_for_content"
    clock.advance(hours=1)
    assert dispatcher.drain().warnings == 0 and len(notices(runtime)) == 1
    clock.at = deadline - timedelta(hours=2)
    dispatcher.drain()
    assert get(runtime, planned).state == "sent" and len(notices(runtime)) == 1


def test_an_overdue_item_is_recorded_as_a_breach_and_completed_when_sent(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    deadline = datetime(2026, 11, 23, 17, 0, tzinfo=LONDON)
    item_id = add(runtime, clock, ready=False, deadline=deadline)
    dispatcher = make_dispatcher(runtime, clock, transport, business_support_address=None)
    clock.at = datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)
    assert dispatcher.drain().breaches == 1
    [breach] = breaches(runtime)
    assert (breach.working_days_late, breach.sent_at) == (1, None)
    assert dispatcher.drain().breaches == 0
    with unit_of_work(runtime.sessions) as session:  # the record arrives on Thursday
        row = session.get(OutboxItemRow, item_id)
        row.state, row.due_at = "ready", clock()  # type: ignore[union-attr]
    clock.at = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)
    session_report = dispatcher.drain()
    assert (session_report.sent_late, session_report.breaches) == (1, 0)
    [breach] = breaches(runtime)
    assert (breach.working_days_late, breach.sent_at) == (3, clock())
    assert notices(runtime) == []  # no business support address: logged only


def test_the_claim_reads_only_due_rows_through_the_index(runtime: Runtime) -> None:
    query = ("SELECT id FROM outbox_items WHERE due_at <= :now ORDER BY due_at LIMIT 20")
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in connection.execute(text(f"EXPLAIN QUERY PLAN {query}"),
                                                                  {"now": "2026-11-23 09:00:00"}))
            assert "ix_outbox_items_due_at" in plan and "SCAN outbox_items" not in plan.replace(
                "USING INDEX", "")
        else:
            connection.execute(text("SET enable_seqscan = off"))  # an empty table would be scanned anyway
            plan = " ".join(r[0] for r in connection.execute(text(f"EXPLAIN {query}"), {"now": START}))
            assert "ix_outbox_items_due_at" in plan


def test_the_dispatcher_does_the_same_on_the_memory_store(clock: Clock, transport: RecordingTransport) -> None:
    """The pass is orchestration only: on the memory store it sends, holds, fails and warns as on a database."""
    store = MemoryOutboxStore()
    deadline = START + timedelta(hours=20)
    sent = add(store, clock, deadline=deadline)
    held = add(store, clock, copy="outline_plan--family-zofia", recipient="zofia", family=True)
    broken = add(store, clock, recipient="broken")
    waiting = add(store, clock, recipient="waiting", ready=False, deadline=deadline)

    def build(item: OutboxItem) -> bytes:
        if item.recipient == "broken":
            raise RedactionError("a withheld paragraph reached the copy")
        return plain_message(item, envelope_from=SENDER, at=clock())

    report = make_dispatcher(store, clock, transport, approval_gate=no_approval_gate, build=build).drain()
    assert (report.sent, report.held, report.failed, report.warnings) == (2, 1, 1, 1)
    assert [get(store, i).state for i in (sent, held, broken, waiting)] == [
        "sent", "waiting_for_approval", "failed", "waiting_for_content"]
    assert "withheld paragraph" in (get(store, broken).last_error or "")
    [notice] = notices(store)
    assert (notice.document, notice.state) == ("deadline_warning", "sent")
    assert f"item {waiting}" in (notice.notice_text or "")
    assert transport.message_ids == [get(store, sent).message_id, notice.message_id]


def test_a_dispatcher_refuses_to_run_inside_one_session(runtime: Runtime, clock: Clock,
                                                        transport: RecordingTransport) -> None:
    """Each step of a pass is committed by itself (a claim, an attempt, "sent"), never in a caller's transaction."""
    with unit_of_work(runtime.sessions) as session, pytest.raises(SchedulingError, match="not a session"):
        make_dispatcher(session, clock, transport)


# -- carriers: each message goes by the carrier its builder names, or not at all ------------------

class TextCarrier(Transport):
    """A text-message carrier: the message is the text, the recipient a phone number."""

    name = "texts"

    def __init__(self, clock: Clock) -> None:
        self.clock, self.sent = clock, []  # type: ignore[var-annotated]

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        self.sent.append((message.decode(), recipients, idempotency_key))
        return Delivery(idempotency_key, self.name, self.clock(), idempotency_key, "accepted")


def test_a_message_goes_by_the_carrier_its_builder_names(runtime: Runtime, clock: Clock,
                                                         transport: RecordingTransport) -> None:
    from docgen.services.dispatch import Outgoing

    item_id = add(runtime, clock)
    texts = TextCarrier(clock)
    dispatcher = Dispatcher(runtime.sessions, transport, policy=DispatchPolicy(envelope_from=SENDER), clock=clock,
                            build_message=lambda item: Outgoing(b"Your documents are ready", "sms", ("07700900733",)),
                            approval_gate=allow, carriers={"sms": texts})
    dispatcher.drain()
    item = get(runtime, item_id)
    assert item.state == "sent" and transport.transactions == []
    assert texts.sent == [("Your documents are ready", ["07700900733"], message_token(item.message_id))]


def test_a_carrier_that_is_not_configured_fails_the_item_and_nothing_goes_another_way(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    from docgen.services.dispatch import Outgoing

    item_id = add(runtime, clock)
    dispatcher = make_dispatcher(runtime, clock, transport, build=lambda item: Outgoing(  # type: ignore[arg-type,return-value]
        plain_message(item, envelope_from=SENDER, at=clock()), "secure_email", (item.recipient_address or "",)))
    dispatcher.drain()
    item = get(runtime, item_id)
    assert item.state == "failed" and "secure email" in (item.last_error or "")
    assert transport.transactions == []


def test_no_route_holds_the_item_with_the_reason_and_looks_again_later(
        runtime: Runtime, clock: Clock, transport: RecordingTransport) -> None:
    from docgen.errors import NoRouteError

    item_id = add(runtime, clock)
    answers: list[Exception | None] = [NoRouteError("Claire Dunn: no delivery route serves this recipient"), None]

    def build(item: OutboxItem) -> bytes:
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return plain_message(item, envelope_from=SENDER, at=clock())

    dispatcher = make_dispatcher(runtime, clock, transport, build=build)
    dispatcher.drain()
    held = get(runtime, item_id)
    assert held.state == "waiting_for_approval" and "no delivery route" in (held.hold_reason or "")
    assert transport.transactions == []
    clock.advance(minutes=16)  # the recheck: a certificate was added meanwhile
    dispatcher.drain()
    assert get(runtime, item_id).state == "sent"
