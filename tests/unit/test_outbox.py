"""Pure outbox logic: state transitions, backoff, idempotency keys and Message-IDs, lateness."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docgen.domain.calendar import WorkingCalendar
from docgen.errors import SchedulingError
from docgen.domain.outbox import (
    FINAL_STATES, STATES, TRANSITIONS, Backoff, can_move, check_move, idempotency_key, message_id_for, notice_key,
    window_state, working_days_late,
)

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


def test_message_id_is_derived_from_the_key_and_the_sender_domain() -> None:
    assert message_id_for("obx-abc", "cp.conferences@northmoor.gov.uk") == "<obx-abc@northmoor.gov.uk>"
    assert message_id_for("obx-abc", "no-domain") == "<obx-abc@docgen.invalid>"


DEADLINE = datetime(2026, 11, 23, 17, 0, tzinfo=LONDON)  # Monday


@pytest.mark.parametrize(("sent", "late"), [
    pytest.param(datetime(2026, 11, 23, 17, 0, tzinfo=LONDON), 0, id="at-the-deadline"),
    pytest.param(datetime(2026, 11, 23, 17, 30, tzinfo=LONDON), 1, id="half-an-hour-late-is-a-day"),
    pytest.param(datetime(2026, 11, 24, 9, 0, tzinfo=LONDON), 1, id="next-morning"),
    pytest.param(datetime(2026, 11, 25, 9, 0, tzinfo=LONDON), 2, id="wednesday"),
    pytest.param(datetime(2026, 11, 28, 9, 0, tzinfo=LONDON), 4, id="saturday-counts-the-friday"),
    pytest.param(datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc), 1, id="any-zone"),
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
