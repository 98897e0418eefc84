"""Outbox items: their states and the moves between them, retry backoff, idempotency keys.

Pure logic: no database, no clock. Both outbox stores (``docgen.adapters.outbox_store``) apply
these rules to their rows; docs/scheduler.md describes the whole life of an item.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Literal, get_args

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


def sources(target: ItemState) -> frozenset[ItemState]:
    """The states ``TRANSITIONS`` allows a move to ``target`` from: where a store's update may start."""
    return frozenset(state for state in STATES if target in TRANSITIONS[state])


#: States a dispatch pass claims when their ``due_at`` has come: those that may become ``sending``.
CLAIMABLE_STATES: tuple[ItemState, ...] = tuple(state for state in STATES if state in sources("sending"))
#: States scheduling may still change or cancel: those that may become ``cancelled`` (neither
#: in flight nor final).
REPLANNABLE_STATES: frozenset[ItemState] = sources("cancelled")
#: The one record ``TRANSITIONS`` does not govern. A message the transport accepted after this
#: scheduler lost its claim (it held the item past its lease) is recorded as sent whatever the
#: item became meanwhile, except cancelled: it did go, and an item not marked sent would go again.
ACCEPTED_AFTER_TAKEOVER: frozenset[ItemState] = frozenset(STATES) - {"cancelled"}

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
    digest = hashlib.sha256(f"{item_key}\x1f{notice}".encode()).hexdigest()
    return f"{KEY_PREFIX}n-{digest[:38]}"


#: The random part of a Message-ID: 32 lower-case hex digits (128 bits), made once per item.
_TOKEN = re.compile(r"[0-9a-f]{32}")
_MESSAGE_ID = re.compile(r"<(?P<token>[0-9a-f]{32})@[^<>@\s]+>")


def new_message_id(envelope_from: str, token: str | None = None) -> str:
    """A new Message-ID for an outbox item: random, so it says nothing about the item.

    Made once, when the item enters the outbox, and kept with it: every attempt at sending the
    item carries it, so a repeat can be recognised. Nothing of the conference, the copy or the
    recipient goes into it (the idempotency key, a hash of those, never leaves the database).
    ``token`` (32 hex digits) is for tests; by default 128 random bits.
    """
    token = secrets.token_hex(16) if token is None else token
    if not _TOKEN.fullmatch(token):
        raise SchedulingError("a Message-ID token is 32 lower-case hex digits")
    _, at, domain = envelope_from.rpartition("@")
    return f"<{token}@{domain if at and domain else 'docgen.invalid'}>"


def message_token(message_id: str) -> str:
    """The random part of an item's Message-ID: the name of its files (messages kept for a repeat,
    archive copies, hand-delivery copies), so no file name says what it holds or whose it is.

    A Message-ID made before they were random (an old row already sent) gives a hash of itself.
    """
    match = _MESSAGE_ID.fullmatch(message_id.strip())
    if match:
        return match["token"]
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32]


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
    """A snapshot of one outbox row, handed to message builders and approval gates."""

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


def due_again(not_before: datetime | None, now: datetime) -> datetime:
    """When an item put back by hand is next looked at: at once, but never before its window opens."""
    return max(now, not_before) if not_before else now


# -- what a store writes -----------------------------------------------------------------------

@dataclass(frozen=True)
class NewItem:
    """The first version of an outbox row: a planned delivery, or a notice to business support."""

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
    state: ItemState
    not_before: datetime | None
    deadline: datetime | None
    due_at: datetime | None
    warn_at: datetime | None
    breach_at: datetime | None
    created_at: datetime
    notice_text: str | None = None


def planned_item(*, conference: str, rule: str, document: str, copy: str, recipient: str, recipient_name: str,
                 recipient_address: str | None, envelope_from: str, now: datetime,
                 not_before: datetime | None = None, deadline: datetime | None = None, ready: bool = True,
                 family_copy: bool = False, audience: str = "professional", audience_person: str | None = None,
                 report: str | None = None) -> NewItem:
    """One planned delivery, as it first enters the outbox.

    The idempotency key is derived here (it finds the row again when the conference is
    scheduled again, and stays in the database); the Message-ID is new and random. The "look at
    it" times are set: a ready item is due when its window opens; warnings and breaches are
    watched from its deadline.
    """
    key = idempotency_key(conference, rule, copy, recipient)
    return NewItem(
        idempotency_key=key, message_id=new_message_id(envelope_from), conference_reference=conference,
        rule=rule, document=document, copy=copy, report=report, audience=audience, audience_person=audience_person,
        family_copy=family_copy, recipient=recipient, recipient_name=recipient_name,
        recipient_address=recipient_address, state="ready" if ready else "waiting_for_content",
        not_before=not_before, deadline=deadline, due_at=(not_before or now) if ready else None,
        warn_at=deadline, breach_at=deadline, created_at=now)


def notice_item(about: OutboxItem, kind: str, text: str, *, address: str, envelope_from: str,
                now: datetime) -> NewItem:
    """A notice to business support about the item ``about`` (``kind`` one of ``NOTICE_DOCUMENTS``), due now."""
    key = notice_key(about.idempotency_key, kind)
    return NewItem(
        idempotency_key=key, message_id=new_message_id(envelope_from),
        conference_reference=about.conference_reference, rule=NOTICE_RULE, document=kind,
        copy=f"{kind}--item-{about.id}", report=None, audience="professional", audience_person=None,
        family_copy=False, recipient="business-support", recipient_name="Business support", recipient_address=address,
        state="ready", not_before=None, deadline=None, due_at=now, warn_at=None, breach_at=None, created_at=now,
        notice_text=text)


@dataclass(frozen=True)
class BreachRecord:
    """A timescale missed: an item sent late or still overdue, or a conference booked late.

    ``key`` makes recording idempotent: the item's idempotency key, or
    ``booking:<reference>:<rule>`` for a booking. A booking's ``working_days_late`` is negative
    when it was booked too early.
    """

    key: str
    kind: Literal["distribution", "booking"]
    conference_reference: str
    rule: str
    deadline_on: date
    working_days_late: int
    detected_at: datetime
    item_id: int | None = None
    deadline: datetime | None = None
    sent_at: datetime | None = None
    reason: str | None = None


def booking_key(reference: str, rule: str) -> str:
    return f"booking:{reference}:{rule}"


def distribution_breach(item: OutboxItem, deadline: datetime, *, now: datetime, late: int, zone: tzinfo,
                        sent_at: datetime | None) -> BreachRecord:
    """The breach of ``item``'s ``deadline``, detected ``now``; ``sent_at`` once it has gone."""
    return BreachRecord(
        key=item.idempotency_key, kind="distribution", conference_reference=item.conference_reference,
        rule=item.rule, deadline_on=deadline.astimezone(zone).date(), working_days_late=late, detected_at=now,
        item_id=item.id, deadline=deadline, sent_at=sent_at)


# -- deadlines ---------------------------------------------------------------------------------

WarningStep = Literal["later", "none", "warn"]


def warning_step(state: str, attempts: int, due_at: datetime | None, deadline: datetime | None,
                 now: datetime) -> WarningStep:
    """What a pass does about an item whose warning time has come.

    ``later``: it is going now; look again once it has gone, or not. ``warn``: it cannot go by
    itself and has a deadline, so business support is told. ``none``: stop watching it.
    """
    if state == "sending" or (state == "ready" and attempts == 0 and due_at is not None and due_at <= now):
        return "later"
    stuck = state in NOT_READY_STATES or (state == "ready" and attempts > 0)
    return "warn" if stuck and deadline is not None else "none"


def breach_due(state: str, deadline: datetime | None, now: datetime) -> bool:
    """Whether an item whose breach time has come has missed its deadline unsent."""
    return state not in FINAL_STATES and deadline is not None and deadline < now


# -- scheduling a conference again -------------------------------------------------------------

CANCELLED_UNPLANNED = "no longer planned for this conference"


@dataclass(frozen=True)
class Current:
    """What replanning needs to know of an item already in the outbox."""

    idempotency_key: str
    state: str
    attempts: int
    due_at: datetime | None
    deadline: datetime | None
    copy: str
    recipient: str


@dataclass(frozen=True)
class Replan:
    """How a conference's outbox items change to match its plan.

    ``update`` pairs an item's key with the values it takes (its ``state`` among them only when
    its document has arrived); ``cancel`` names the items no longer planned.
    """

    cancel: tuple[str, ...] = ()
    create: tuple[NewItem, ...] = ()
    update: tuple[tuple[str, Mapping[str, Any]], ...] = field(default=())

    @property
    def made_ready(self) -> int:
        return sum(1 for _, changes in self.update if changes.get("state") == "ready")


def replan(existing: Sequence[Current], planned: Sequence[NewItem], *, now: datetime) -> Replan:
    """Bring a conference's items (``existing``, notices aside) up to date with ``planned``.

    New deliveries are created, except a copy that has already gone (or is going) to that
    person under another rule: never twice. Items not yet sent follow the plan's windows and
    addresses and become ready when their document has arrived; those no longer planned are
    cancelled.
    """
    keys = {p.idempotency_key for p in planned}
    by_key = {c.idempotency_key: c for c in existing}
    delivered = {(c.copy, c.recipient) for c in existing if c.state in ("sent", "sending")}
    cancel = tuple(c.idempotency_key for c in existing
                   if c.idempotency_key not in keys and c.state in REPLANNABLE_STATES)
    create: list[NewItem] = []
    update: list[tuple[str, Mapping[str, Any]]] = []
    for item in planned:
        current = by_key.get(item.idempotency_key)
        if current is None:
            if (item.copy, item.recipient) not in delivered:
                create.append(item)
        elif current.state in REPLANNABLE_STATES:
            update.append((item.idempotency_key, _brought_up_to_date(current, item, now)))
    return Replan(cancel, tuple(create), tuple(update))


def _brought_up_to_date(current: Current, planned: NewItem, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if current.deadline != planned.deadline:
        changes.update(warn_at=planned.deadline, breach_at=planned.deadline, warned_at=None)
    changes.update(not_before=planned.not_before, deadline=planned.deadline, recipient_name=planned.recipient_name,
                   recipient_address=planned.recipient_address, updated_at=now)
    if current.state == "waiting_for_content" and planned.state == "ready":
        changes.update(state="ready", due_at=planned.not_before or now)
    elif current.state == "ready" and current.attempts == 0:
        changes["due_at"] = planned.not_before or current.due_at or now
    elif (current.state in ("ready", "waiting_for_approval") and planned.not_before and current.due_at
          and current.due_at < planned.not_before):
        changes["due_at"] = planned.not_before
    return changes


@dataclass(frozen=True)
class WindowChange:
    """A stored item whose window scheduling again would move: who must agree before it moves."""

    item_id: int
    rule: str
    copy: str
    recipient: str
    old_not_before: datetime | None
    new_not_before: datetime | None
    old_deadline: datetime | None
    new_deadline: datetime | None


def window_changes(existing: Sequence[OutboxItem], planned: Sequence[NewItem]) -> tuple[WindowChange, ...]:
    """The stored items (``existing``) whose window (``not_before``, ``deadline``) ``replan`` would
    change to follow ``planned``: those still replannable and still planned, by item id.

    Items no longer planned are cancelled, not moved; items sent, sending or cancelled keep theirs.
    """
    by_key = {p.idempotency_key: p for p in planned}
    changes = []
    for item in existing:
        plan = by_key.get(item.idempotency_key)
        if plan is None or item.state not in REPLANNABLE_STATES:
            continue
        if (item.not_before, item.deadline) != (plan.not_before, plan.deadline):
            changes.append(WindowChange(item.id, item.rule, item.copy, item.recipient, item.not_before,
                                        plan.not_before, item.deadline, plan.deadline))
    return tuple(sorted(changes, key=lambda change: change.item_id))
