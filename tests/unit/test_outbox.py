"""Pure outbox logic: state transitions, backoff, idempotency keys and Message-IDs, lateness, replanning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docgen.domain.calendar import WorkingCalendar
from docgen.domain.outbox import (
    ACCEPTED_AFTER_TAKEOVER,
    CLAIMABLE_STATES,
    FINAL_STATES,
    REPLANNABLE_STATES,
    STATES,
    TRANSITIONS,
    Backoff,
    Current,
    NewItem,
    OutboxItem,
    WindowChange,
    breach_due,
    can_move,
    check_move,
    due_again,
    idempotency_key,
    message_token,
    new_message_id,
    notice_key,
    planned_item,
    replan,
    sources,
    warning_step,
    window_changes,
    window_state,
    working_days_late,
)
from docgen.errors import SchedulingError

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()


@pytest.mark.parametrize(("current", "target", "allowed"), [
    pytest.param("waiting_for_content", "ready", True, id="content-arrives"),
    pytest.param("waiting_for_content", "sending", False, id="no-send-without-content"),
    pytest.param("ready", "sending", True, id="claimed"),
    pytest.param("ready", "sent", False, id="never-sent-without-claim"),
    pytest.param("sending", "sent", True, id="transport-accepted"),
    pytest.param("sending", "ready", True, id="transient-failure-retries"),
    pytest.param("sending", "failed", True, id="permanent-failure"),
    pytest.param("sending", "waiting_for_approval", True, id="release-refused"),
    pytest.param("sending", "sending", True, id="expired-lease-taken-over"),
    pytest.param("waiting_for_approval", "sending", True, id="approval-rechecked"),
    pytest.param("failed", "ready", True, id="retried-by-hand"),
    pytest.param("failed", "sending", False, id="failed-never-claimed"),
    pytest.param("sent", "ready", False, id="sent-is-final"),
    pytest.param("sent", "cancelled", False, id="sent-cannot-be-cancelled"),
    pytest.param("cancelled", "ready", False, id="cancelled-is-final"),
])
def test_transitions(current: str, target: str, allowed: bool) -> None:
    assert can_move(current, target) is allowed  # type: ignore[arg-type]
    if allowed:
        check_move(current, target)  # type: ignore[arg-type]
    else:
        with pytest.raises(SchedulingError, match=f"cannot become {target}"):
            check_move(current, target)  # type: ignore[arg-type]


def test_every_state_has_its_transitions_and_final_states_have_none() -> None:
    assert set(TRANSITIONS) == set(STATES)
    assert all(not TRANSITIONS[state] for state in FINAL_STATES)
    assert all(target in STATES for targets in TRANSITIONS.values() for target in targets)


def test_unknown_state_is_refused() -> None:
    with pytest.raises(SchedulingError, match="unknown state"):
        check_move("posted", "ready")


@pytest.mark.parametrize(("failures", "jitter", "seconds"), [
    pytest.param(1, 0.0, 15, id="first-retry-half-base"),
    pytest.param(1, 0.999999, 30, id="first-retry-up-to-base"),
    pytest.param(2, 0.0, 30, id="doubles"),
    pytest.param(3, 0.5, 90, id="third-retry-mid-jitter"),
    pytest.param(7, 0.0, 900, id="capped-half"),
    pytest.param(50, 0.999999, 1800, id="capped-far-out"),
])
def test_backoff_table(failures: int, jitter: float, seconds: int) -> None:
    delay = Backoff(timedelta(seconds=30), timedelta(minutes=30)).delay(failures, jitter)
    assert round(delay.total_seconds()) == seconds


@given(failures=st.integers(1, 10_000), jitter=st.floats(0, 1, exclude_max=True),
       base=st.integers(1, 600), cap=st.integers(1, 86_400))
def test_backoff_is_bounded_and_never_below_half(failures: int, jitter: float, base: int, cap: int) -> None:
    backoff = Backoff(timedelta(seconds=base), timedelta(seconds=cap))
    delay = backoff.delay(failures, jitter)
    nominal = min(timedelta(seconds=cap), timedelta(seconds=base) * 2 ** min(failures - 1, 32))
    assert nominal / 2 <= delay <= nominal <= timedelta(seconds=cap)


@given(failures=st.integers(1, 40), jitter=st.floats(0, 1, exclude_max=True))
def test_backoff_never_shrinks_as_failures_grow(failures: int, jitter: float) -> None:
    backoff = Backoff()
    assert backoff.delay(failures + 1, jitter) >= backoff.delay(failures, jitter)


@pytest.mark.parametrize(("failures", "jitter"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_backoff_rejects_nonsense(failures: int, jitter: float) -> None:
    with pytest.raises(SchedulingError):
        Backoff().delay(failures, jitter)


def test_idempotency_key_is_stable_distinct_and_safe_for_every_transport() -> None:
    key = idempotency_key("NM-ICPC-2026-0147", "record-to-invitees", "conference_record--professional", "claire-dunn")
    assert key == idempotency_key("NM-ICPC-2026-0147", "record-to-invitees", "conference_record--professional",
                                  "claire-dunn")
    assert re.fullmatch(r"obx-[0-9a-f]{40}", key)
    others = {
        idempotency_key("NM-ICPC-2026-0148", "record-to-invitees", "conference_record--professional", "claire-dunn"),
        idempotency_key("NM-ICPC-2026-0147", "decisions-to-invited", "conference_record--professional", "claire-dunn"),
        idempotency_key("NM-ICPC-2026-0147", "record-to-invitees", "conference_record--family-zofia", "claire-dunn"),
        idempotency_key("NM-ICPC-2026-0147", "record-to-invitees", "conference_record--professional", "sanjay-mehta"),
        # the separator cannot be forged by moving text between fields
        idempotency_key("NM-ICPC-2026-0147record-to-invitees", "", "conference_record--professional", "claire-dunn"),
    }
    assert key not in others and len(others) == 5
    assert notice_key(key, "deadline_warning") != notice_key(key, "deadline_missed")
    assert re.fullmatch(r"obx-n-[0-9a-f]{38}", notice_key(key, "deadline_warning"))


@pytest.mark.parametrize(("sender", "expected_domain"), [
    pytest.param("cp.conferences@northmoor.gov.uk", "northmoor.gov.uk", id="the-sender-domain"),
    pytest.param("no-domain", "docgen.invalid", id="no-domain-in-the-sender"),
])
def test_a_message_id_is_random_with_the_sender_domain(sender: str, expected_domain: str) -> None:
    first, second = new_message_id(sender), new_message_id(sender)
    assert first != second
    assert re.fullmatch(rf"<[0-9a-f]{{32}}@{re.escape(expected_domain)}>", first)
    assert new_message_id(sender, "0" * 32) == f"<{'0' * 32}@{expected_domain}>"


@pytest.mark.parametrize(("message_id", "token"), [
    pytest.param(f"<{'ab' * 16}@northmoor.gov.uk>", "ab" * 16, id="random-id"),
    pytest.param(f" <{'ab' * 16}@northmoor.gov.uk> ", "ab" * 16, id="surrounding-space"),
])
def test_the_token_of_a_random_message_id_is_its_local_part(message_id: str, token: str) -> None:
    assert message_token(message_id) == token


def test_the_token_of_an_old_derived_message_id_is_a_hash_not_the_key() -> None:
    old = "<obx-0123456789abcdef0123456789abcdef01234567@northmoor.gov.uk>"
    token = message_token(old)
    assert re.fullmatch(r"[0-9a-f]{32}", token) and "obx" not in token and token not in old


def test_a_message_id_token_must_be_hex() -> None:
    with pytest.raises(SchedulingError):
        new_message_id("cp@northmoor.gov.uk", "obx-0147")


DEADLINE = datetime(2026, 11, 23, 17, 0, tzinfo=LONDON)  # Monday


@pytest.mark.parametrize(("sent", "late"), [
    pytest.param(datetime(2026, 11, 23, 17, 0, tzinfo=LONDON), 0, id="at-the-deadline"),
    pytest.param(datetime(2026, 11, 23, 17, 30, tzinfo=LONDON), 1, id="half-an-hour-late-is-a-day"),
    pytest.param(datetime(2026, 11, 24, 9, 0, tzinfo=LONDON), 1, id="next-morning"),
    pytest.param(datetime(2026, 11, 25, 9, 0, tzinfo=LONDON), 2, id="wednesday"),
    pytest.param(datetime(2026, 11, 28, 9, 0, tzinfo=LONDON), 4, id="saturday-counts-the-friday"),
    pytest.param(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), 1, id="any-zone"),
])
def test_working_days_late(sent: datetime, late: int) -> None:
    assert working_days_late(DEADLINE, sent, CALENDAR, LONDON) == late


def test_working_days_late_skips_christmas() -> None:
    deadline = datetime(2026, 12, 24, 17, 0, tzinfo=LONDON)
    # 25 and 28 December are bank holidays (Boxing Day's substitute is Monday 28th)
    assert working_days_late(deadline, datetime(2026, 12, 29, 10, 0, tzinfo=LONDON), CALENDAR, LONDON) == 1


@pytest.mark.parametrize(("at", "state"), [
    pytest.param(datetime(2026, 11, 19, 9, 59, tzinfo=LONDON), "early", id="before-opening"),
    pytest.param(datetime(2026, 11, 19, 10, 0, tzinfo=LONDON), "open", id="opening"),
    pytest.param(DEADLINE, "open", id="closing"),
    pytest.param(DEADLINE + timedelta(seconds=1), "late", id="after-closing"),
])
def test_window_state(at: datetime, state: str) -> None:
    assert window_state(datetime(2026, 11, 19, 10, 0, tzinfo=LONDON), DEADLINE, at) == state
    assert window_state(None, None, at) == "open"


@pytest.mark.parametrize(("target", "expected"), [
    pytest.param("sending", {"ready", "waiting_for_approval", "sending"}, id="claimed-from"),
    pytest.param("sent", {"sending"}, id="sent-only-from-sending"),
    pytest.param("failed", {"sending"}, id="failed-only-from-sending"),
    pytest.param("waiting_for_approval", {"sending"}, id="held-only-from-sending"),
    pytest.param("ready", {"waiting_for_content", "waiting_for_approval", "sending", "failed"}, id="ready-from"),
    pytest.param("cancelled", {"waiting_for_content", "waiting_for_approval", "ready", "failed"},
                 id="cancelled-unless-in-flight-or-final"),
    pytest.param("waiting_for_content", {"ready"}, id="content-withdrawn"),
])
def test_sources_are_read_from_the_table(target: str, expected: set[str]) -> None:
    assert sources(target) == expected  # type: ignore[arg-type]


def test_the_states_the_stores_use_are_derived_from_the_table() -> None:
    assert set(CLAIMABLE_STATES) == {"ready", "waiting_for_approval", "sending"}
    assert {"waiting_for_content", "waiting_for_approval", "ready", "failed"} == REPLANNABLE_STATES
    # Recording a delivery the transport accepted after the claim was lost: anything but cancelled.
    assert set(STATES) - {"cancelled"} == ACCEPTED_AFTER_TAKEOVER


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
SOON = NOW + timedelta(hours=5)


@pytest.mark.parametrize(("state", "attempts", "due_at", "deadline", "step"), [
    pytest.param("sending", 1, None, DEADLINE, "later", id="being-sent-look-again"),
    pytest.param("ready", 0, NOW, DEADLINE, "later", id="going-now-look-again"),
    pytest.param("ready", 0, SOON, DEADLINE, "none", id="window-opens-before-the-deadline"),
    pytest.param("ready", 2, SOON, DEADLINE, "warn", id="retrying-after-failures"),
    pytest.param("waiting_for_content", 0, None, DEADLINE, "warn", id="no-document-yet"),
    pytest.param("waiting_for_approval", 0, SOON, DEADLINE, "warn", id="not-approved-yet"),
    pytest.param("failed", 1, None, DEADLINE, "warn", id="failed"),
    pytest.param("failed", 1, None, None, "none", id="no-deadline-nothing-to-warn-about"),
    pytest.param("sent", 1, None, DEADLINE, "none", id="sent"),
])
def test_warning_step(state: str, attempts: int, due_at: datetime | None, deadline: datetime | None,
                      step: str) -> None:
    assert warning_step(state, attempts, due_at, deadline, NOW) == step


@pytest.mark.parametrize(("state", "deadline", "due"), [
    pytest.param("waiting_for_content", NOW - timedelta(seconds=1), True, id="missed"),
    pytest.param("ready", NOW, False, id="at-the-deadline-not-yet"),
    pytest.param("failed", None, False, id="no-deadline"),
    pytest.param("sent", NOW - timedelta(days=1), False, id="sent-is-recorded-when-sent"),
    pytest.param("cancelled", NOW - timedelta(days=1), False, id="cancelled"),
])
def test_breach_due(state: str, deadline: datetime | None, due: bool) -> None:
    assert breach_due(state, deadline, NOW) is due


def test_due_again_waits_for_the_window() -> None:
    assert due_again(None, NOW) == NOW and due_again(NOW - timedelta(days=1), NOW) == NOW
    assert due_again(SOON, NOW) == SOON


def planned(recipient: str = "claire-dunn", *, ready: bool = True, not_before: datetime | None = None,
            deadline: datetime | None = DEADLINE, rule: str = "record-to-invitees") -> NewItem:
    return planned_item(conference="NM-ICPC-2026-0147", rule=rule, document="conference_record",
                        copy="conference_record--professional", recipient=recipient, recipient_name="Claire Dunn",
                        recipient_address="claire.dunn@nhs.example.uk", envelope_from="cp@northmoor.gov.uk", now=NOW,
                        not_before=not_before, deadline=deadline, ready=ready)


def current(state: str, *, attempts: int = 0, due_at: datetime | None = None, deadline: datetime | None = DEADLINE,
            recipient: str = "claire-dunn", rule: str = "record-to-invitees") -> Current:
    key = idempotency_key("NM-ICPC-2026-0147", rule, "conference_record--professional", recipient)
    return Current(key, state, attempts, due_at, deadline, "conference_record--professional", recipient)


def test_a_planned_item_is_due_when_its_window_opens_and_watched_from_its_deadline() -> None:
    item = planned(not_before=SOON)
    assert (item.state, item.due_at, item.warn_at, item.breach_at) == ("ready", SOON, DEADLINE, DEADLINE)
    waiting = planned(ready=False)
    assert (waiting.state, waiting.due_at) == ("waiting_for_content", None)
    # The Message-ID is random: nothing of the key, and another item with the same fields gets another.
    assert re.fullmatch(r"<[0-9a-f]{32}@northmoor\.gov\.uk>", item.message_id)
    assert item.idempotency_key[len("obx-"):] not in item.message_id
    assert planned(not_before=SOON).message_id != item.message_id


LATER = SOON + timedelta(hours=1)
LATER_DEADLINE = DEADLINE + timedelta(days=1)


@pytest.mark.parametrize(("existing", "plan", "expected"), [
    pytest.param(current("waiting_for_content"), planned(not_before=SOON), {"state": "ready", "due_at": SOON},
                 id="document-arrives-due-when-the-window-opens"),
    pytest.param(current("waiting_for_content"), planned(), {"state": "ready", "due_at": NOW},
                 id="document-arrives-window-open"),
    pytest.param(current("waiting_for_content"), planned(ready=False), {"state": None, "due_at": None},
                 id="still-no-document"),
    pytest.param(current("ready", due_at=SOON), planned(not_before=LATER), {"due_at": LATER},
                 id="untried-follows-the-window"),
    pytest.param(current("ready", due_at=SOON), planned(), {"due_at": SOON}, id="untried-keeps-its-time"),
    pytest.param(current("ready", attempts=2, due_at=SOON), planned(not_before=LATER), {"due_at": LATER},
                 id="retry-waits-for-a-later-window"),
    pytest.param(current("ready", attempts=2, due_at=LATER), planned(not_before=SOON), {"due_at": None},
                 id="retry-keeps-its-backoff"),
    pytest.param(current("waiting_for_approval", due_at=SOON), planned(not_before=LATER), {"due_at": LATER},
                 id="held-waits-for-a-later-window"),
    pytest.param(current("failed"), planned(not_before=LATER), {"state": None, "due_at": None},
                 id="failed-stays-failed"),
])
def test_replanning_an_item_not_yet_sent(existing: Current, plan: NewItem, expected: dict[str, Any]) -> None:
    result = replan([existing], [plan], now=NOW)
    [(key, changes)] = result.update
    assert key == existing.idempotency_key and result.create == () and result.cancel == ()
    assert {name: changes.get(name) for name in expected} == expected
    assert (changes["not_before"], changes["deadline"], changes["updated_at"]) == (plan.not_before, DEADLINE, NOW)
    assert result.made_ready == (1 if expected.get("state") == "ready" else 0)


def test_a_new_deadline_watches_the_item_again() -> None:
    [(_, changes)] = replan([current("ready", due_at=SOON)], [planned(deadline=LATER)], now=NOW).update
    assert (changes["warn_at"], changes["breach_at"], changes["warned_at"]) == (LATER, LATER, None)
    [(_, same)] = replan([current("ready", due_at=SOON)], [planned()], now=NOW).update
    assert "warn_at" not in same and "warned_at" not in same


def test_replanning_creates_cancels_and_never_sends_a_copy_twice() -> None:
    existing = [current("sent", rule="earlier-rule"), current("ready", recipient="gone"),
                current("sending", recipient="in-flight"), current("sent", recipient="done")]
    result = replan(existing, [planned(), planned("new")], now=NOW)
    assert [i.recipient for i in result.create] == ["new"]  # claire-dunn's copy went under another rule
    assert result.cancel == (current("ready", recipient="gone").idempotency_key,)  # sent and in flight stay
    assert result.update == ()


def stored(plan: NewItem, *, item_id: int = 7, state: str = "ready", not_before: datetime | None = None,
           deadline: datetime | None = DEADLINE) -> OutboxItem:
    return OutboxItem(id=item_id, idempotency_key=plan.idempotency_key, message_id=plan.message_id,
                      conference_reference=plan.conference_reference, rule=plan.rule, document=plan.document,
                      copy=plan.copy, report=None, audience="professional", audience_person=None, family_copy=False,
                      recipient=plan.recipient, recipient_name=plan.recipient_name,
                      recipient_address=plan.recipient_address, state=state, not_before=not_before, deadline=deadline,
                      attempts=0)


@pytest.mark.parametrize(("state", "stored_window", "planned_window", "moved"), [
    pytest.param("ready", (None, DEADLINE), (None, DEADLINE), False, id="same-window"),
    pytest.param("ready", (None, DEADLINE), (None, LATER_DEADLINE), True, id="deadline-moves"),
    pytest.param("waiting_for_content", (None, DEADLINE), (SOON, DEADLINE), True, id="earliest-moves"),
    pytest.param("failed", (SOON, DEADLINE), (None, None), True, id="window-removed"),
    pytest.param("sent", (None, DEADLINE), (None, LATER_DEADLINE), False, id="sent-keeps-its-window"),
    pytest.param("sending", (None, DEADLINE), (None, LATER_DEADLINE), False, id="in-flight-keeps-its-window"),
    pytest.param("cancelled", (None, DEADLINE), (None, LATER_DEADLINE), False, id="cancelled-keeps-its-window"),
])
def test_window_changes(state: str, stored_window: tuple[datetime | None, datetime | None],
                        planned_window: tuple[datetime | None, datetime | None], moved: bool) -> None:
    plan = planned(not_before=planned_window[0], deadline=planned_window[1])
    item = stored(plan, state=state, not_before=stored_window[0], deadline=stored_window[1])
    expected = (WindowChange(7, plan.rule, plan.copy, plan.recipient, stored_window[0], planned_window[0],
                             stored_window[1], planned_window[1]),) if moved else ()
    assert window_changes([item], [plan]) == expected


def test_an_item_no_longer_planned_is_not_a_window_change() -> None:
    plan = planned()
    assert window_changes([stored(plan)], [planned(recipient="someone-else")]) == ()
