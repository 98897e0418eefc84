"""A conference's outbox as business support sees it, and their changes to it by hand (resend,
cancel), each with a reason recorded in the audit trail with who gave it. A thin layer over
``dispatch`` and ``scheduling``: the outbox's own rules stay there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_governance import append_event
from docgen.domain.outbox import FINAL_STATES, OutboxItem
from docgen.domain.routes import Route
from docgen.errors import DocgenError, NotFoundError, SchedulingError
from docgen.services.dispatch import cancel_item, release_item, retry_item
from docgen.services.importing import stored_case
from docgen.services.portal import opened_by_item
from docgen.services.recipients import trust_anchors
from docgen.services.routing import portal_unavailable, recipient_of, route_for
from docgen.services.runtime import Runtime
from docgen.services.scheduling import ScheduleResult, conference_items, schedule_conference

#: Each state in words, and the tag colour that goes with the words (never the colour alone).
STATE_WORDS = {
    "waiting_for_content": ("Waiting for the document", "govuk-tag--grey"),
    "waiting_for_approval": ("Held for the chair", "govuk-tag--yellow"),
    "ready": ("Ready to send", "govuk-tag--blue"),
    "sending": ("Sending", "govuk-tag--light-blue"),
    "sent": ("Sent", "govuk-tag--green"),
    "failed": ("Failed", "govuk-tag--red"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
}
MAX_REASON = 500


#: The routes of delivery records written before routes were chosen by policy.
_EARLIER_CHANNELS = {"protected_pdf": "passphrase-protected PDF by email"}


@dataclass(frozen=True)
class OutboxRow:
    """One outbox item with the route it went by, when it has gone, or the route it would take now."""

    item: OutboxItem
    channel: str | None  # the route it went by: smime, secure_email, portal, hand
    transport: str | None
    planned: str | None = None
    """Not sent yet: the route it would take if it went now, or why none would, in words."""
    opened_at: datetime | None = None
    """A portal copy: when the recipient first downloaded it."""

    @property
    def route_words(self) -> str:
        if self.channel is None:
            return ""
        if self.channel in _EARLIER_CHANNELS:
            return _EARLIER_CHANNELS[self.channel]
        try:
            return Route(self.channel).words
        except ValueError:
            return self.channel.replace("_", " ")

    @property
    def state_words(self) -> str:
        if self.item.state == "waiting_for_approval" and not self.item.family_copy:
            return "Held"  # a professional copy waits for a route, not for the chair
        return STATE_WORDS[self.item.state][0]

    @property
    def tag_class(self) -> str:
        return STATE_WORDS[self.item.state][1]

    @property
    def may_resend(self) -> bool:
        return self.item.state in ("failed", "waiting_for_approval")

    @property
    def may_cancel(self) -> bool:
        return self.item.state not in ("sent", "cancelled", "sending")


def conference_outbox(runtime: Runtime, reference: str, *, states: tuple[str, ...] = ()) -> list[OutboxRow]:
    """The conference's outbox items by deadline, only those in ``states`` when given."""
    unknown = [state for state in states if state not in STATE_WORDS]
    if unknown:
        raise DocgenError(f"unknown outbox state {unknown[0]!r}; use one of {', '.join(STATE_WORDS)}")
    with unit_of_work(runtime.sessions) as session:
        items = [item for item in conference_items(session, reference) if not states or item.state in states]
        keys = [item.idempotency_key for item in items if item.state == "sent"]
        routes = {row.idempotency_key: (row.channel, row.transport) for row in session.scalars(
            select(DeliveryRecord).where(DeliveryRecord.idempotency_key.in_(keys)))} if keys else {}
        opened = opened_by_item(session, reference)
    planned = _planned_routes(runtime, reference, [item for item in items if item.state not in FINAL_STATES])
    rows = []
    for item in items:
        channel, transport = routes.get(item.idempotency_key, (None, None))
        rows.append(OutboxRow(item, channel, transport, planned=planned.get((item.recipient, item.family_copy)),
                              opened_at=opened.get(item.id)))
    return rows


def _planned_routes(runtime: Runtime, reference: str, items: list[OutboxItem]) -> dict[tuple[str, bool], str]:
    """For each recipient of a copy not yet sent, the route it would take now, in words."""
    if not items:
        return {}
    case = stored_case(runtime, reference)
    unavailable = portal_unavailable()
    anchors = trust_anchors()
    planned: dict[tuple[str, bool], str] = {}
    for item in items:
        key = (item.recipient, item.family_copy)
        if key in planned or item.is_notice:
            continue
        try:
            recipient = recipient_of(case, item.recipient)
        except DocgenError as exc:
            planned[key] = str(exc)
            continue
        choice, _ = route_for(runtime, recipient, family_copy=item.family_copy, policy=runtime.delivery.policy(),
                              sms=runtime.delivery.channels.sms is not None, portal_unavailable=unavailable,
                              ca_certificates=anchors)
        planned[key] = f"Will go by {choice.route.words}" if choice.route else f"No route: {choice.reason}"
    return planned


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise DocgenError("give the reason: it is recorded in the audit trail")
    if len(text) > MAX_REASON:
        raise DocgenError(f"the reason is {len(text)} characters long; keep it to {MAX_REASON}")
    return text


def _item_of(session: object, reference: str, item_id: int) -> OutboxItem:
    found = next((item for item in conference_items(session, reference) if item.id == item_id), None)  # type: ignore[arg-type]
    if found is None:
        raise NotFoundError(f"conference {reference} has no outbox item {item_id}")
    return found


def resend(runtime: Runtime, reference: str, item_id: int, *, reason: str, actor: str) -> OutboxItem:
    """A failed item tried again (``retry``), or a held family copy looked at again now (``release``:
    the chair's approval is still checked before it goes). Audited with ``actor`` and the reason."""
    text = _reason(reason)
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        item = _item_of(session, reference, item_id)
        if item.state == "failed":
            moved, how = retry_item(session, item_id, now=now), "retry"
        elif item.state == "waiting_for_approval":
            moved, how = release_item(session, item_id, now=now), "release"
        else:
            raise SchedulingError(f"outbox item {item_id} is {STATE_WORDS[item.state][0].lower()}; only a failed "
                                  "item or one held for the chair can be sent again")
        append_event(session, at=now, actor=actor, action="outbox_item_resent", reference=reference,
                     subject=f"outbox item {item_id}", details={"how": how, "reason": text, "was": item.state})
        return moved


def cancel(runtime: Runtime, reference: str, item_id: int, *, reason: str, actor: str) -> OutboxItem:
    """Stop an item for good (for example a copy handed over by hand). Audited with ``actor`` and the reason."""
    text = _reason(reason)
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        item = _item_of(session, reference, item_id)
        moved = cancel_item(session, item_id, reason=f"cancelled by {actor}: {text}", now=now)
        append_event(session, at=now, actor=actor, action="outbox_item_cancelled", reference=reference,
                     subject=f"outbox item {item_id}", details={"reason": text, "was": item.state})
        return moved


def outbox_row(runtime: Runtime, reference: str, item_id: int) -> OutboxRow:
    """One of the conference's outbox items; NotFoundError if it has no such item."""
    found = next((row for row in conference_outbox(runtime, reference) if row.item.id == item_id), None)
    if found is None:
        raise NotFoundError(f"conference {reference} has no outbox item {item_id}")
    return found


def schedule(runtime: Runtime, reference: str, *, actor: str, reason: str | None = None,
             confirmed: str | None = None) -> ScheduleResult:
    """Put the conference's newest version's copies in the outbox with their windows (or bring them up
    to date after a change), as ``docgen schedule`` does; audited with who asked. BookingReasonRequired
    when the booking is late and no reason for the delay was given; WindowChangesNeedConfirmation when
    stored windows would move, unless ``confirmed`` is the digest of exactly the list of changes shown."""
    from docgen.adapters.case_store import load_case
    from docgen.configuration.circulation import load_rules
    from docgen.configuration.folder import config_file

    rules = load_rules(config_file("circulation.toml"))
    given = _reason(reason) if reason and reason.strip() else None
    with unit_of_work(runtime.sessions) as session:
        result = schedule_conference(session, load_case(session, reference), rules, now=runtime.clock(),
                                     envelope_from=runtime.settings.authority.email, reason=given,
                                     confirmed=confirmed or None)
        append_event(session, at=runtime.clock(), actor=actor, action="scheduled", reference=reference,
                     details={"created": result.created, "updated": result.updated, "made_ready": result.made_ready,
                              "cancelled": result.cancelled, "delay_reason_given": given is not None,
                              "windows_moved": [c.item_id for c in result.moved]})
    return result
