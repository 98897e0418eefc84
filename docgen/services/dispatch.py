"""The dispatch pass: claim due outbox items, send each once, and record what happened.

Orchestration only: the outbox store (``docgen.adapters.outbox_store``), the clock, the message
builder, the approval gate and the transport are injected. Each item goes ``ready -> sending``
(claimed under a lease and committed), then its attempt number is committed, then the transport
is called, then ``sent`` is committed straight after the transport accepts it. A scheduler killed
at any point leaves the item in ``sending``; once the lease runs out any pass takes it over and
sends it again with the same Message-ID (docs/scheduler.md explains why that is the best SMTP allows).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from docgen.adapters.faults import describe_fault, mask, masked_traceback
from docgen.adapters.outbox_store import OutboxConflict, OutboxSource, OutboxStore, outbox_store
from docgen.domain.calendar import WorkingCalendar
from docgen.domain.outbox import (
    Backoff,
    BreachRecord,
    NewItem,
    OutboxItem,
    distribution_breach,
    message_token,
    notice_item,
    working_days_late,
)
from docgen.errors import ApprovalError, DocgenError, HeldError, SchedulingError

log = logging.getLogger("docgen.dispatch")



@dataclass(frozen=True)
class Outgoing:
    """What the message builder made for an item, and what carries it.

    ``carrier`` names a transport the dispatcher holds: ``"email"`` (the main transport),
    ``"secure_email"`` (the relay to accredited domains), ``"sms"`` (the message is the text of a
    text message) or ``"hand"`` (the hand-delivery folder). ``recipients`` are the envelope's
    addresses, or the phone number for ``"sms"``, or none for ``"hand"``.
    """

    message: bytes
    carrier: str
    recipients: tuple[str, ...]


#: Carriers whose messages are RFC 5322 and must carry the item's Message-ID.
MAIL_CARRIERS = frozenset({"email", "secure_email", "hand"})

MessageBuilder = Callable[[OutboxItem], "bytes | Outgoing"]
"""Builds an item's message: bytes (an email for the item's address, or for hand delivery when it
has none), or an ``Outgoing`` that says which carrier takes it."""
ApprovalGate = Callable[[OutboxItem], None]
"""Called before a family copy is sent; raises ``ApprovalError`` (its message the reason) to refuse."""
SentHook = Callable[[Session, OutboxItem, Delivery], None]
"""Called in the transaction that marks an item sent, to record the delivery with it (with the
store's transaction: see ``docgen.adapters.outbox_store.abc.RecordSent``)."""


def no_approval_gate(item: OutboxItem) -> None:
    """The approval gate used when none is wired in: family copies are never sent (fail closed)."""
    raise ApprovalError(
        f"{item.copy} for {item.recipient_name} is a family copy and no chair-approval check is "
        "configured, so it cannot be released; wire the approval gate into the scheduler.")


@dataclass(frozen=True)
class DispatchPolicy:
    """How a dispatch pass behaves; every duration is a ``timedelta``.

    ``lease`` must be longer than the slowest send (the SMTP timeout and then some): a scheduler
    that holds an item longer than its lease may see it taken over and sent twice.
    """

    envelope_from: str
    batch_size: int = 20
    lease: timedelta = timedelta(minutes=5)
    backoff: Backoff = field(default_factory=Backoff)
    max_attempts: int = 12
    warn_before: timedelta = timedelta(hours=24)
    approval_recheck: timedelta = timedelta(minutes=15)
    business_support_address: str | None = None
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/London"))

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_attempts < 1:
            raise SchedulingError("batch_size and max_attempts must be at least 1")
        if self.lease <= timedelta(0) or self.warn_before < timedelta(0):
            raise SchedulingError("the lease must be positive and warn_before not negative")


class _LeaseKeeper:
    """Renews the leases of a pass's claimed items in the background, every third of the lease,
    while the pass works through them, a send in progress included. So a lease can be short (a
    minute), and a dead scheduler's items are taken over soon after it dies, while a live one's
    slow send is never taken over; an item's renewal stops once its claim no longer holds it."""

    def __init__(self, store: OutboxStore, items: list[OutboxItem], *, lease: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self.store, self.items, self.lease, self.clock = store, list(items), lease, clock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        if self.items:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _run(self) -> None:
        while self.items and not self.stopped.wait(self.lease.total_seconds() / 3):
            try:
                now = self.clock()
                held = self.store.renew_leases(self.items, now=now, lease_until=now + self.lease)
            except Exception as exc:  # noqa: BLE001 - logged without case content; the next round tries again
                log.error("renewing leases failed (%s); trying again", describe_fault(exc) or type(exc).__name__)
                continue
            self.items = [item for item in self.items if item.id in held]


@dataclass
class PassReport:
    """What one dispatch pass (or a drain of several) did."""

    claimed: int = 0
    sent: int = 0
    sent_late: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    lost_claims: int = 0
    warnings: int = 0
    breaches: int = 0
    full: bool = False  # a batch was full: more may be due at once

    def add(self, other: PassReport) -> None:
        for name in ("claimed", "sent", "sent_late", "retrying", "failed", "held", "lost_claims", "warnings",
                     "breaches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def plain_message(item: OutboxItem, *, envelope_from: str, at: datetime, body: str | None = None) -> bytes:
    """A plain text message for ``item``, 7-bit clean, carrying the item's Message-ID.

    Used for business-support notices, and by tests and demonstrations in place of the encrypted
    documents the distribution layer builds. The subject names no child or family.
    """
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = envelope_from
    message["To"] = item.recipient_address or ""
    message["Subject"] = f"Conference {item.conference_reference}: {item.document.replace('_', ' ')}"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = item.message_id
    text = body if body is not None else (
        f"Conference {item.conference_reference}: {item.copy}, for {item.recipient_name}, "
        f"under rule {item.rule}.\n")
    message.set_content(text, cte=None if text.isascii() else "quoted-printable")
    return message.as_bytes()


def _header_message_id(message: bytes) -> str:
    value = BytesHeaderParser(policy=email_policy.compat32).parsebytes(message).get("Message-ID")
    return str(value).strip() if value else ""


class Dispatcher:
    """Runs dispatch passes over the outbox; one per scheduler process, safe to run in many."""

    def __init__(self, sessions: sessionmaker[Session] | OutboxStore, transport: Transport, *,
                 build_message: MessageBuilder, policy: DispatchPolicy, clock: Callable[[], datetime],
                 approval_gate: ApprovalGate = no_approval_gate, on_sent: SentHook | None = None,
                 hand_delivery: Transport | None = None, worker: str | None = None,
                 rng: random.Random | None = None, should_stop: Callable[[], bool] = lambda: False,
                 after_sent: Callable[[], None] | None = None, carriers: Mapping[str, Transport] | None = None) -> None:
        """``sessions``: the database's sessions (each step of a pass is its own transaction) or an
        ``OutboxStore``. ``hand_delivery``, when given, takes the items of recipients without an
        email address (children, parents without email); without it those items fail and are shown.
        ``carriers``: more transports by name (``secure_email``, ``sms``) for a builder's ``Outgoing``;
        a message for a carrier that is not there fails with the reason, never goes another way.
        ``after_sent`` runs once an item's "sent" is committed: the audit trail's signed checkpoint."""
        if isinstance(sessions, Session):  # a pass inside one transaction would commit no claim and no "sent"
            raise SchedulingError("the dispatcher commits each step itself: give it the sessionmaker, not a session")
        self.store: OutboxStore = outbox_store(sessions)
        self.transport = transport
        self.hand_delivery = hand_delivery
        self.carriers: dict[str, Transport] = {"email": transport, **(carriers or {})}
        if hand_delivery is not None:
            self.carriers["hand"] = hand_delivery
        self.on_sent = on_sent
        self.build_message = build_message
        self.policy = policy
        self.clock = clock
        self.approval_gate = approval_gate
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self.should_stop = should_stop
        self.after_sent = after_sent

    # -- passes ------------------------------------------------------------------------------

    def run_pass(self) -> PassReport:
        """One pass: send what is due (at most a batch), then raise warnings and breaches due."""
        report = PassReport()
        claimed = self._claim(self.clock())
        report.claimed = len(claimed)
        with _LeaseKeeper(self.store, claimed, lease=self.policy.lease, clock=self.clock):
            for index, item in enumerate(claimed):
                if self.should_stop():
                    self.store.unclaim(claimed[index:], now=self.clock())
                    break
                self._process(item, report)
        try:
            warned, full_w = self._raise_warnings(self.clock())
            breached, full_b = self._record_breaches(self.clock())
        except OutboxConflict:  # another scheduler recorded the same thing first: look again next pass
            warned = breached = 0
            full_w = full_b = False
        report.warnings, report.breaches = warned, breached
        # Another pass at once if a batch was full, or if notices were just queued for business support.
        report.full = len(claimed) >= self.policy.batch_size or full_w or full_b or bool(warned or breached)
        return report

    def drain(self, max_passes: int = 1000) -> PassReport:
        """Passes until nothing more is due now (or a stop is asked for)."""
        total = PassReport()
        for _ in range(max_passes):
            report = self.run_pass()
            total.add(report)
            if not report.full or self.should_stop():
                break
        return total

    def _claim(self, now: datetime) -> list[OutboxItem]:
        return self.store.claim(now=now, lease_until=now + self.policy.lease, limit=self.policy.batch_size,
                                worker=self.worker)

    # -- one item ----------------------------------------------------------------------------

    def _process(self, item: OutboxItem, report: PassReport) -> None:
        if item.attempts >= self.policy.max_attempts:
            self._fail(item, f"gave up after {item.attempts} attempts; last error: "
                             f"{item.last_error or 'the scheduler stopped while sending it'}", report)
            return
        if item.family_copy and not item.is_notice:
            try:
                self.approval_gate(item)
            except ApprovalError as exc:
                self._hold(item, str(exc), report)
                return
        try:
            outgoing = self._build(item)
        except TransportError as exc:
            self._after_failure(item, exc, report)
            return
        except HeldError as exc:  # the builder's check of the exact bytes against the approval; no route now
            self._hold(item, str(exc), report)
            return
        except DocgenError as exc:  # redaction, certificate, encryption: stop this item, say why
            self._fail(item, str(exc), report)
            return
        except Exception as exc:  # noqa: BLE001 - logged without case content (traceback masked, at debug level)
            log.error("building the message for item %s failed (%s)", item.id, type(exc).__name__)
            log.debug("%s", masked_traceback(exc))
            self._fail(item, f"building the message failed unexpectedly ({type(exc).__name__}); "
                             "see the scheduler log", report)
            return
        transport = self.carriers.get(outgoing.carrier)
        if transport is None:
            self._fail(item, _no_carrier(item, outgoing.carrier), report)
            return
        if outgoing.carrier in MAIL_CARRIERS and _header_message_id(outgoing.message) != item.message_id:
            self._fail(item, f"the message builder did not use the item's Message-ID {item.message_id}, so a "
                             "repeated send could not be recognised; nothing was sent", report)
            return
        attempt = self._begin_attempt(item)
        if attempt is None:
            report.lost_claims += 1
            return
        item = replace(item, attempts=attempt)
        try:
            delivery = transport.send(outgoing.message, envelope_from=self.policy.envelope_from,
                                      recipients=list(outgoing.recipients),
                                      idempotency_key=message_token(item.message_id))
        except TransportError as exc:
            self._after_failure(item, exc, report)
            return
        except Exception as exc:  # noqa: BLE001 - logged without case content (traceback masked, at debug level)
            log.error("transport failed unexpectedly for item %s (%s)", item.id, type(exc).__name__)
            log.debug("%s", masked_traceback(exc))
            self._fail(item, f"the transport failed unexpectedly ({type(exc).__name__}); whether the message "
                             "went is not known: check before retrying", report)
            return
        self._mark_sent(item, delivery, report)

    def _build(self, item: OutboxItem) -> Outgoing:
        if item.is_notice:
            message = plain_message(item, envelope_from=self.policy.envelope_from, at=self.clock(),
                                    body=item.notice_text or "")
        else:
            built = self.build_message(item)
            if isinstance(built, Outgoing):
                return built
            message = built
        if item.recipient_address:
            return Outgoing(message, "email", (item.recipient_address,))
        return Outgoing(message, "hand", ())

    def _begin_attempt(self, item: OutboxItem) -> int | None:
        """Commit the attempt number and a fresh lease before the transport is called.

        Returns the attempt number, or ``None`` if the claim was lost (another scheduler took
        the item over because this one held it past its lease).
        """
        now = self.clock()
        attempt = self.store.begin_attempt(item, now=now, lease_until=now + self.policy.lease)
        if attempt is None:
            log.warning("item %s was taken over by another scheduler before it was sent", item.id)
        return attempt

    def _mark_sent(self, item: OutboxItem, delivery: Delivery, report: PassReport) -> None:
        now = self.clock()
        late = 0 if item.deadline is None else working_days_late(item.deadline, now, self.policy.calendar,
                                                                 self.policy.zone)
        try:
            self._commit_sent(item, delivery, now, late, record=True)
        except Exception as exc:  # noqa: BLE001 - logged without case content (traceback masked, at debug level)
            log.error("item %s was sent but its delivery record could not be written (%s)", item.id, type(exc).__name__)
            log.debug("%s", masked_traceback(exc))
            self._commit_sent(item, delivery, now, late, record=False)
        if late and item.deadline is not None:
            # Separately, after "sent" is safely committed: a clash with another scheduler
            # recording the same breach must never undo the record of a delivery.
            self.store.record_breach(self._breach(item, now, sent_at=now))
        report.sent += 1
        report.sent_late += 1 if late else 0
        if self.after_sent is not None:
            self.after_sent()

    def _commit_sent(self, item: OutboxItem, delivery: Delivery, now: datetime, late: int, *, record: bool) -> None:
        on_sent = self.on_sent if record and not item.is_notice else None
        recorder = None if on_sent is None else (lambda transaction: on_sent(transaction, item, delivery))
        held = self.store.mark_sent(item, now=now, late_by=late, transport=delivery.transport,
                                    reference=delivery.reference[:2000], record=recorder)
        if not held:
            # Sent, but the claim was taken over meanwhile: the truth is recorded all the same.
            log.error("item %s was sent after another scheduler took it over; it may arrive twice "
                      "(with the same Message-ID %s). Lengthen the lease.", item.id, item.message_id)

    def _after_failure(self, item: OutboxItem, exc: TransportError, report: PassReport) -> None:
        if not exc.transient:
            self._fail(item, str(exc), report)
            return
        now = self.clock()
        delay = self.policy.backoff.delay(max(item.attempts, 1), self.rng.random())
        self.store.retry_later(item, now=now, due_at=now + delay, error=str(exc))
        log.warning("item %s: transient failure, retrying in %ss: %s", item.id, int(delay.total_seconds()), mask(str(exc)))
        report.retrying += 1

    def _fail(self, item: OutboxItem, reason: str, report: PassReport) -> bool:
        done = self.store.fail(item, now=self.clock(), reason=reason)
        # The reason can name the recipient; it is kept with the item (`docgen outbox list`), not logged.
        log.error("item %s (%s) failed; `docgen outbox list` says why", item.id, item.document)
        report.failed += 1
        return done

    def _hold(self, item: OutboxItem, reason: str, report: PassReport) -> None:
        now = self.clock()
        self.store.hold(item, now=now, reason=reason, recheck_at=now + self.policy.approval_recheck)
        report.held += 1

    # -- warnings and breaches -----------------------------------------------------------------

    def _raise_warnings(self, now: datetime) -> tuple[int, bool]:
        """Warn business support about items whose deadline is near and that cannot go by themselves."""
        warned, looked_at = self.store.raise_warnings(
            now=now, horizon=now + self.policy.warn_before, limit=self.policy.batch_size,
            notice=lambda item: self._notice(item, "deadline_warning", now))
        return warned, looked_at >= self.policy.batch_size

    def _record_breaches(self, now: datetime) -> tuple[int, bool]:
        """Record a breach for every item whose deadline has passed unsent."""
        breached, looked_at = self.store.record_breaches(
            now=now, limit=self.policy.batch_size, breach=lambda item: self._breach(item, now, sent_at=None),
            notice=lambda item: self._notice(item, "deadline_missed", now))
        return breached, looked_at >= self.policy.batch_size

    def _breach(self, item: OutboxItem, now: datetime, *, sent_at: datetime | None) -> BreachRecord:
        deadline = _deadline(item)
        late = working_days_late(deadline, now, self.policy.calendar, self.policy.zone)
        return distribution_breach(item, deadline, now=now, late=late, zone=self.policy.zone, sent_at=sent_at)

    def _notice(self, item: OutboxItem, kind: str, now: datetime) -> NewItem | None:
        """Log that ``item``'s deadline is near or missed, and the notice for business support, if any."""
        local = _deadline(item).astimezone(self.policy.zone)
        if kind == "deadline_warning":
            text = (f"Deadline approaching, not ready: {_what(item)} (conference {item.conference_reference}, "
                    f"rule {item.rule}) must go by {local:%A %d %B %Y %H:%M} and is "
                    f"{item.state.replace('_', ' ')}.\n{_look(item)}")
        else:
            text = (f"Deadline missed: {_what(item)} (conference {item.conference_reference}, rule "
                    f"{item.rule}) was due by {local:%A %d %B %Y %H:%M} and is "
                    f"{item.state.replace('_', ' ')}.\n{_look(item)}")
        log.warning("%s", text.strip())
        address = self.policy.business_support_address
        if address is None:
            return None
        return notice_item(item, kind, text, address=address, envelope_from=self.policy.envelope_from, now=now)


def _no_carrier(item: OutboxItem, carrier: str) -> str:
    if carrier == "hand":
        return (f"{item.recipient_name} ({item.recipient}) has no email address on file and no hand-delivery folder "
                "is configured. Add an address and run `docgen schedule` again, then `docgen outbox retry`; or send "
                "the copy by post and cancel this item.")
    return (f"this copy goes by {carrier.replace('_', ' ')} and no transport for it is configured "
            f"([channels] {carrier} in config/delivery.toml, or the scheduler's --{carrier.replace('_', '-')}-transport); "
            "nothing was sent")


def _deadline(item: OutboxItem) -> datetime:
    # The store asks about deadlines only of items that have one.
    if item.deadline is None:
        raise SchedulingError(f"outbox item {item.id} has no deadline to warn about or breach")
    return item.deadline


def _what(item: OutboxItem) -> str:
    """An item described without naming anyone: notices travel as plain email."""
    return f"the {'family' if item.family_copy else 'professional'} copy of the {item.document.replace('_', ' ')}"


def _look(item: OutboxItem) -> str:
    return (f"Outbox item {item.id}. Who it is for and why it is waiting: docgen outbox list --conference "
            f"{item.conference_reference}\n")


# -- by hand -----------------------------------------------------------------------------------

def retry_item(outbox: OutboxSource, item: int | str, *, now: datetime) -> OutboxItem:
    """Put a failed item back to ready, its attempts counted afresh (``docgen outbox retry``)."""
    return outbox_store(outbox).retry(item, now=now)


def release_item(outbox: OutboxSource, item: int | str, *, now: datetime) -> OutboxItem:
    """A held family copy has been approved: ready again (``docgen outbox release``).

    The approval gate still runs before it is sent; this only saves waiting for the recheck.
    """
    return outbox_store(outbox).release(item, now=now)


def cancel_item(outbox: OutboxSource, item: int | str, *, reason: str, now: datetime) -> OutboxItem:
    """Stop an item for good, e.g. a copy posted by hand (``docgen outbox cancel``)."""
    return outbox_store(outbox).cancel(item, reason=reason, now=now)


def list_items(outbox: OutboxSource, *, states: tuple[str, ...] = (), reference: str | None = None,
               limit: int = 200) -> list[OutboxItem]:
    """Outbox items, newest deadline last; filtered by state and conference."""
    return outbox_store(outbox).items(states=states, reference=reference, limit=limit)
