"""Outbox items: their states and the moves between them, retry backoff, idempotency keys.

Pure logic: no database, no clock. ``docgen.services.dispatch`` applies these rules to the rows
of the outbox; docs/scheduler.md describes the whole life of an item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Literal, Mapping, get_args

from docgen.domain.calendar import WorkingCalendar
from docgen.errors import SchedulingError

ItemState = Literal[
    "waiting_for_content",   # the document does not exist yet (the record before the conference)
    "waiting_for_approval",  # a family copy the chair has not released
    "ready",                 # may be sent once its window opens (``due_at``)
    "sending",               # claimed by one scheduler, under a lease
    "sent",                  # the transport accepted it: final
    "failed",                # a permanent failure: shown, and retried only by hand
    "cancelled",             # no longer to be sent: final
]
STATES: tuple[ItemState, ...] = get_args(ItemState)
FINAL_STATES: frozenset[ItemState] = frozenset({"sent", "cancelled"})
#: States a dispatch pass claims when their ``due_at`` has come.
CLAIMABLE_STATES: tuple[ItemState, ...] = ("ready", "waiting_for_approval", "sending")
#: States a deadline warning is raised for: the item cannot go out by itself.
NOT_READY_STATES: frozenset[ItemState] = frozenset({"waiting_for_content", "waiting_for_approval", "failed"})

TRANSITIONS: Mapping[ItemState, frozenset[ItemState]] = MappingProxyType({
    "waiting_for_content": frozenset({"ready", "cancelled"}),
    "waiting_for_approval": frozenset({"ready", "sending", "cancelled"}),
    "ready": frozenset({"sending", "waiting_for_content", "cancelled"}),
    # A lease that expired is taken over: sending -> sending with a new claim token.
    "sending": frozenset({"sent", "ready", "failed", "waiting_for_approval", "sending"}),
    "failed": frozenset({"ready", "cancelled"}),
    "sent": frozenset(),
    "cancelled": frozenset(),
})

#: Documents the dispatcher writes itself, to business support; not counted in compliance.
NOTICE_DOCUMENTS = ("deadline_warning", "deadline_missed")
NOTICE_RULE = "business-support-notice"
KEY_PREFIX = "obx-"


def can_move(current: ItemState, target: ItemState) -> bool:
    """Whether an item in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_move(current: str, target: ItemState, *, item: str = "outbox item") -> None:
    """Raise ``SchedulingError`` unless ``current`` may move to ``target``."""
    if current not in TRANSITIONS:
        raise SchedulingError(f"{item} is in an unknown state {current!r}.")
    if not can_move(current, target):  # type: ignore[arg-type]
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"  # type: ignore[index]
        raise SchedulingError(f"{item} is {current}; it cannot become {target} (from {current}: {allowed}).")


def idempotency_key(conference: str, rule: str, copy: str, recipient: str) -> str:
    """The stable key of one copy for one recipient under one rule.

    Built from what identifies the delivery and nothing that changes (not the window, not the
    address), so scheduling a conference again finds the same row. Letters, digits and '-'
    only, so every transport accepts it as a file name or header value.
    """
    digest = hashlib.sha256("\x1f".join((conference, rule, copy, recipient)).encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}{digest[:40]}"


def notice_key(item_key: str, notice: str) -> str:
    """The idempotency key of a business-support notice about the item ``item_key``."""
    digest = hashlib.sha256(f"{item_key}\x1f{notice}".encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}n-{digest[:38]}"


def message_id_for(key: str, envelope_from: str) -> str:
    """The Message-ID every attempt at sending ``key`` carries, so a repeat can be recognised."""
    _, at, domain = envelope_from.rpartition("@")
    return f"<{key}@{domain if at and domain else 'docgen.invalid'}>"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**(n-1)``, capped, then scaled into [1/2, 1]."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, failures: int, jitter: float) -> timedelta:
        """The wait after the ``failures``-th failure in a row; ``jitter`` is uniform in [0, 1).

        Half the delay is fixed and half random, so retries of many items spread out without
        any one retrying sooner than half the nominal delay.
        """
        if failures < 1:
            raise SchedulingError(f"backoff asked for {failures} failures; it starts at 1")
        if not 0.0 <= jitter < 1.0:
            raise SchedulingError(f"backoff jitter {jitter!r} is outside [0, 1)")
        exponent = min(failures - 1, 32)  # 2**32 * any base is already far past any cap
        nominal = min(self.cap, self.base * (1 << exponent))
        return nominal / 2 + (nominal / 2) * jitter


@dataclass(frozen=True)
class OutboxItem:
    """A snapshot of one outbox row, handed to message builders and release checks."""

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
    attempts: int
    last_error: str | None = None
    hold_reason: str | None = None
    notice_text: str | None = None
    sent_at: datetime | None = None
    late_by: int | None = None
    claim_token: str | None = None

    @property
    def is_notice(self) -> bool:
        return self.document in NOTICE_DOCUMENTS


def working_days_late(deadline: datetime, at: datetime, calendar: WorkingCalendar, zone: tzinfo) -> int:
    """Working days by which ``at`` missed ``deadline``: 0 when on time, at least 1 when late.

    The convention of ``docgen.domain.circulation.lateness``: local dates, counted with
    ``working_days_between``, and a few minutes late on the last day is 1.
    """
    if at <= deadline:
        return 0
    due = deadline.astimezone(zone).date()
    sent = at.astimezone(zone).date()
    return max(1, calendar.working_days_between(due, sent))


def window_state(not_before: datetime | None, deadline: datetime | None, at: datetime) -> str:
    """Where ``at`` falls against a window: ``early``, ``open`` or ``late``."""
    if not_before is not None and at < not_before:
        return "early"
    if deadline is not None and at > deadline:
        return "late"
    return "open"
