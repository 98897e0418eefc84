"""The documents the scheduler sends: each outbox item rendered for its recipient and sent by the
route the authority's policy gives that recipient (``docgen.domain.routes``, config/delivery.toml).

- S/MIME: a professional with a valid certificate on file gets the document signed by the
  authority and encrypted to it.
- Secure email: a professional at an accredited domain (gov.uk, nhs.net, police.uk, cjsm.net and
  what the authority adds) gets it attached to a normal email, through the relay that requires TLS
  (the ``secure_email`` carrier, which refuses any other domain), marked in subject and header.
- Portal: everyone else with an email address or a mobile number, families included, has the
  copy published to the recipient portal (``services/portal.py``) and gets one link per
  conference, by email or text message, and a one-time code by the other channel when they open it.
- By hand: a child, or a family member with neither, gets the passphrase-protected PDF through
  their social worker; one passphrase per person per conference (``distribution.passphrases``)
  goes by post in a letter naming the documents it opens, the address in the envelope's window.
A recipient no route serves is held with the reason (``NoRouteError``); nothing goes in a weaker form.

Every copy carries a per-recipient line, and every family copy passes the chair's release check
on its exact bytes before a message is made of it. Nothing unencrypted is written to disk here:
documents are rendered in memory; the portal keeps them encrypted. What mail systems see says
nothing of the family: the Message-ID is the item's random one, the subject and the attachment's
name say what the document is in plain words (``distribution.wording``), and every file is named
by the Message-ID's random part. The message built for an item is kept under ``outgoing/``, so a
send repeated after a crash is the same message (same passphrase, same portal document), not a
second one. When the carrier has accepted it, a delivery record (with the route and the SHA-256 of
the document and of what was sent) and a "sent" audit entry are written in the same transaction
that marks the item sent, a portal document becomes visible in it, and an archive copy encrypted
to the authority's archive certificate is kept.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.abc import Delivery, Transport
from distribution.cms import encrypt_for_archive
from distribution.keys import SigningIdentity
from distribution.passphrases import LETTER_TEMPLATES, PassphraseBook, PersonPassphrase
from distribution.pdf_protection import passphrase_verifier
from distribution.wording import wording
from docgen.adapters.case_store import find_conference
from docgen.adapters.database import unit_of_work
from docgen.adapters.files import sha256, write_atomically
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_governance import Approval, append_event
from docgen.adapters.orm_outbox import OutboxItemRow
from docgen.adapters.pdf import render_pdf
from docgen.adapters.templating import make_environment
from docgen.domain.documents import CopySpec, plan_copies
from docgen.domain.outbox import FINAL_STATES, OutboxItem, message_token
from docgen.domain.portal import document_words
from docgen.domain.routes import Route, RouteChoice, RoutePolicy
from docgen.errors import ApprovalError, DocgenError, HeldError, NoRouteError
from docgen.services import delivery_routes as routes
from docgen.services.approval import Content, approved_reports, check_approval, content_hash, current_content, view_hash
from docgen.services.copies import recipient_copy
from docgen.services.dispatch import Outgoing, list_items
from docgen.services.portal import confirm_published, publish
from docgen.services.routing import PORTAL_NOT_SET_UP, Recipient, recipient_of, route_for
from docgen.services.runtime import Runtime

# The passphrase letter's address window (distribution/letters/passphrase_letter.html) shows the
# name and this many lines, the postcode last: GOV.UK Notify's and Royal Mail's seven-line limit.
LETTER_WINDOW_LINES = 6


@dataclass
class DeliveryContext:
    """What building messages needs: keys and certificates, the route policy, and where things go."""

    runtime: Runtime
    signer: SigningIdentity
    archive_certificate: x509.Certificate
    ca_certificates: list[x509.Certificate] | None
    folder: Path  # archive/, letters/ and outgoing/ go here
    sender_address: str
    routes: RoutePolicy = field(default_factory=RoutePolicy)
    marking_header: str = "X-Protective-Marking"
    sms: bool = False
    """A text-message carrier is configured: a mobile number can take portal links and codes."""
    portal_url: str | None = None
    """The portal's public address; without it there is no portal route."""
    portal_lifetime: timedelta = timedelta(days=28)
    letters: Transport | None = None
    """What posts passphrase letters (a print batch or GOV.UK Notify); without it they are written under letters/."""


@dataclass(frozen=True)
class Built:
    """What was built for an item, kept beside its message under ``outgoing/``."""

    message_id: str
    content_version: int
    content_sha256: str
    document_kind: str
    audience: str
    recipient: str
    channel: str  # the route: smime, secure_email, portal or hand
    plaintext_sha256: str
    ciphertext_sha256: str  # of what was sent: the S/MIME or protected PDF, or the whole message
    passphrase_verifier: str | None
    letter: str | None = None  # the passphrase letter's name under letters/, for a copy by hand
    carrier: str = "email"
    recipients: tuple[str, ...] = ()


class DocumentMessages:
    """The scheduler's message builder: ``build`` for each item, ``record_sent`` once it has gone.

    Wire it into the dispatcher as ``Dispatcher(..., build_message=messages.build,
    approval_gate=messages.approval_gate, on_sent=messages.record_sent)``.
    """

    def __init__(self, context: DeliveryContext) -> None:
        self.context = context
        settings = context.runtime.settings
        self.sender = routes.Sender(context.sender_address, settings.authority.service, settings.authority.phone,
                                    settings.marking.protective_marking, context.marking_header)

    # -- the dispatcher's hooks -----------------------------------------------------------------

    def approval_gate(self, item: OutboxItem) -> None:
        """Hold a family copy at once, before anything is rendered, when the chair's latest decision
        for its reader is not an approval of the conference's content as it is now.

        Passing this is not release: ``build`` checks the exact bytes of each family copy against
        the approval (and records the outcome in the audit trail) before a message is made.
        """
        person = item.audience_person
        if not item.family_copy or person is None:
            return
        with unit_of_work(self.context.runtime.sessions) as session:
            version = find_conference(session, item.conference_reference).content_version
            decision = session.scalars(select(Approval).where(
                Approval.conference_reference == item.conference_reference, Approval.person == person)
                .order_by(Approval.id.desc()).limit(1)).first()
        if decision is None or decision.decision != "approved" or decision.content_version != version:
            state = "not approved" if decision is None else (
                "returned by the chair" if decision.decision != "approved" else "approved for earlier content")
            raise ApprovalError(f"{person}'s copies of conference {item.conference_reference} are {state}; they "
                                "wait for the chair (`docgen preview`, then `docgen approve`)")

    def route_of(self, item: OutboxItem, recipient: Recipient) -> tuple[RouteChoice, x509.Certificate | None]:
        """The route the policy gives ``recipient`` for ``item`` now, with their certificate for S/MIME."""
        unavailable = None if self.context.portal_url else PORTAL_NOT_SET_UP
        return route_for(self.context.runtime, recipient, family_copy=item.family_copy, policy=self.context.routes,
                         sms=self.context.sms, portal_unavailable=unavailable,
                         ca_certificates=self.context.ca_certificates)

    def build(self, item: OutboxItem) -> Outgoing:
        """The complete message for ``item`` and its carrier, carrying the item's Message-ID.

        Raises ApprovalError for a family copy the chair has not released and NoRouteError for a
        recipient no route serves now (the dispatcher holds both), and DocgenError for anything
        else that stops this item; nothing is sent in any of those cases.
        """
        runtime = self.context.runtime
        with unit_of_work(runtime.sessions) as session:
            content = current_content(session, item.conference_reference)
        # A family copy's release check looks again at whether its report may be shared.
        copy_spec = _copy_spec_of(content.case, item, approved_reports(runtime, item.conference_reference))
        kept = self._kept(item, content)
        if kept is not None:
            built, message = kept
            if copy_spec.audience.is_family_copy:
                self._check_approval(content, copy_spec, built.plaintext_sha256)
            return Outgoing(message, built.carrier, tuple(built.recipients))
        recipient = recipient_of(content.case, item.recipient)
        choice, certificate = self.route_of(item, recipient)
        if choice.route is None:
            raise NoRouteError(f"{recipient.name}: {choice.reason}")
        today = runtime.clock().date()
        line = f"Copy for: {recipient.name}, {recipient.organisation}, {today.day} {today:%B %Y}"
        copy = recipient_copy(runtime, copy_spec, content.case, generated_on=content.saved_on, recipient_line=line,
                              fmt="pdf")
        if copy_spec.audience.is_family_copy:
            self._check_approval(content, copy_spec, sha256(copy.data))
        built, message = self._message(item, choice, content, copy_spec, recipient, certificate, copy.data, today)
        write_atomically(self._archive(item), encrypt_for_archive(copy.data, self.context.archive_certificate))
        self._keep(item, built, message)
        return Outgoing(message, built.carrier, built.recipients)

    def record_sent(self, session: Session, item: OutboxItem, delivery: Delivery) -> None:
        """In the transaction that marks ``item`` sent: the delivery record and the "sent" entry,
        and a portal document made visible."""
        if session.scalar(select(DeliveryRecord.id).where(DeliveryRecord.idempotency_key == item.idempotency_key)):
            return
        built = _built(json.loads(self._outgoing(item, ".json").read_text(encoding="utf-8")))
        now = self.context.runtime.clock()
        if built.channel == Route.PORTAL:
            confirm_published(session, message_token(item.message_id), now=now)
        session.add(DeliveryRecord(
            idempotency_key=item.idempotency_key, conference_reference=item.conference_reference,
            document_kind=built.document_kind, audience=built.audience, recipient_key=item.recipient,
            recipient_address=(built.recipients[0] if built.recipients else "by hand")[:320], channel=built.channel,
            transport=delivery.transport, message_id=delivery.message_id, sent_at=now.replace(tzinfo=None),
            plaintext_sha256=built.plaintext_sha256, ciphertext_sha256=built.ciphertext_sha256,
            archive_path=str(self._archive(item)), passphrase_verifier=built.passphrase_verifier))
        append_event(session, at=now, actor="distribution", action="sent", reference=item.conference_reference,
                     subject=f"{item.copy} to {item.recipient}",
                     details={"channel": built.channel, "carrier": built.carrier, "transport": delivery.transport,
                              "message_id": delivery.message_id, "plaintext_sha256": built.plaintext_sha256,
                              "ciphertext_sha256": built.ciphertext_sha256, "outbox_item": item.id})
        if built.channel == Route.HAND and not session.scalar(select(OutboxItemRow.id).where(
                OutboxItemRow.conference_reference == item.conference_reference,
                OutboxItemRow.recipient == item.recipient, OutboxItemRow.family_copy.is_(True),
                OutboxItemRow.id != item.id, OutboxItemRow.state.not_in(FINAL_STATES)).limit(1)):
            # The person's last protected document of the conference has gone: the passphrase is no
            # longer needed to send anything, so it is not kept (the letter that printed it has gone too).
            PassphraseBook(self.context.folder / "passphrases").forget(item.conference_reference, item.recipient)

    # -- building -----------------------------------------------------------------------------

    def _message(self, item: OutboxItem, choice: RouteChoice, content: Content, copy_spec: CopySpec,
                 recipient: Recipient, certificate: x509.Certificate | None, pdf: bytes,
                 today: date) -> tuple[Built, bytes]:
        at = self.context.runtime.clock()
        verifier = letter = None
        to: tuple[str, ...]
        route = choice.route
        if route == Route.SMIME:
            assert certificate is not None
            message, sent = routes.smime_message(item, pdf, certificate=certificate, signer=self.context.signer,
                                                 sender=self.sender, at=at)
            carrier, to = "email", (item.recipient_address or "",)
        elif route == Route.SECURE_EMAIL:
            message = routes.secure_email_message(item, pdf, recipient_name=recipient.name, sender=self.sender, at=at)
            sent, carrier, to = message, "secure_email", (item.recipient_address or "",)
        elif route == Route.PORTAL:
            message, carrier, to = self._portal(item, choice, recipient, pdf)
            sent = message
        else:
            book = PassphraseBook(self.context.folder / "passphrases")
            person, new = book.for_person(item.conference_reference, item.recipient)
            if new or not self._letter_done(person):
                # The passphrase's letter goes before any document it opens is kept, so a copy by hand
                # always has its letter.
                self._passphrase_letter(item, recipient, person, today)
            message, sent = routes.protected_message(
                item, pdf, passphrase=person.passphrase, recipient_name=recipient.name,
                hand_deliverer=routes.hand_deliverer(content.case), sender=self.sender, at=at)
            carrier, to, verifier, letter = "hand", (), passphrase_verifier(person.passphrase), person.letter
        built = Built(item.message_id, content.version, content.sha256, copy_spec.kind.key, copy_spec.audience.slug,
                      recipient.key, str(route), sha256(pdf), sha256(sent), verifier, letter, carrier, to)
        return built, message

    def _portal(self, item: OutboxItem, choice: RouteChoice, recipient: Recipient,
                pdf: bytes) -> tuple[bytes, str, tuple[str, ...]]:
        """Publish the copy to the recipient's portal link (not visible until sent) and make its notice."""
        assert self.context.portal_url is not None and choice.announce_by and choice.code_by
        words = document_words(item.document)
        code_address = recipient.phone if choice.code_by == "sms" else recipient.address
        publication = publish(
            self.context.runtime, reference=item.conference_reference, recipient_key=recipient.key,
            recipient_name=recipient.name, message_token=message_token(item.message_id), outbox_item_id=item.id,
            document_kind=item.document, title=words.title, note=words.note,
            filename=wording(item.document).filename, pdf=pdf, code_channel=choice.code_by,
            code_address=code_address or "", announced_by=choice.announce_by, now=self.context.runtime.clock(),
            base_url=self.context.portal_url, lifetime=self.context.portal_lifetime)
        if choice.announce_by == "sms":
            assert recipient.phone
            text = routes.portal_sms(item, url=publication.url, new_link=publication.new_link, code_by=choice.code_by,
                                     sender=self.sender)
            return text, "sms", (recipient.phone,)
        assert recipient.address
        email = routes.portal_email(_addressed(item, recipient.address), recipient_name=recipient.name,
                                    url=publication.url, new_link=publication.new_link, code_by=choice.code_by,
                                    sender=self.sender, at=self.context.runtime.clock())
        return email, "email", (recipient.address,)

    def _check_approval(self, content: Content, copy_spec: CopySpec, copy_sha256: str) -> None:
        assert copy_spec.audience.person is not None
        check_approval(self.context.runtime, content.reference, copy_spec.audience.person, copy_sha256, content.version,
                      view_sha256=view_hash(content.case, copy_spec.audience), content_sha256=content_hash(content.case),
                      report=copy_spec.report)

    def _letter_done(self, person: PersonPassphrase) -> bool:
        return (self.context.folder / "letters" / f"{person.letter}.pdf").exists() or (
            self.context.folder / "letters" / f"{person.letter}.posted").exists()

    def _passphrase_letter(self, item: OutboxItem, recipient: Recipient, person: PersonPassphrase,
                           today: date) -> None:
        """The passphrase's own channel: one letter by post, naming the documents of the conference it
        opens, the address where a window envelope shows it; through the letters carrier when there is
        one and the person has a postal address, otherwise kept under letters/ for the post room."""
        if len(recipient.postal) > LETTER_WINDOW_LINES:
            # Lines past the window would be cut off, the postcode first: held until the address is shortened.
            raise HeldError(f"{recipient.name}'s postal address has {len(recipient.postal)} lines with its postcode; "
                            f"a letter's window shows the name and {LETTER_WINDOW_LINES} lines. Shorten the address "
                            "in the conference's details (the postcode last); the letter and the documents it opens "
                            "wait until then")
        settings = self.context.runtime.settings
        context = {"authority": settings.authority, "recipient_name": recipient.name, "passphrase": person.passphrase,
                   "date_text": f"{today.day} {today:%B %Y}", "by_email": False, "address_lines": list(recipient.postal),
                   "documents": self._documents_of(item)}
        environment = make_environment(LETTER_TEMPLATES)
        letter, _ = render_pdf(environment.get_template("passphrase_letter.html").render(context),
                               source="distribution/letters/passphrase_letter.html")
        letters = self.context.folder / "letters"
        if self.context.letters is not None and recipient.postal:
            delivery = self.context.letters.send(letter, envelope_from=self.context.sender_address, recipients=[],
                                                 idempotency_key=person.letter)
            write_atomically(letters / f"{person.letter}.posted", f"{delivery.transport} {delivery.reference}\n".encode(),
                             mode=0o600)
        else:
            write_atomically(letters / f"{person.letter}.pdf", letter, mode=0o600)

    def _documents_of(self, item: OutboxItem) -> list[str]:
        """The protected documents the conference sends ``item``'s recipient, in plain words, by deadline."""
        items = list_items(self.context.runtime.sessions, reference=item.conference_reference, limit=10_000)
        words: list[str] = []
        for other in [*items, item]:
            text = wording(other.document).words
            if (other.recipient == item.recipient and other.family_copy and other.state != "cancelled"
                    and text not in words):
                words.append(text)
        return words

    # -- what was built, kept for a repeated send -------------------------------------------------

    def _outgoing(self, item: OutboxItem, suffix: str) -> Path:
        return self.context.folder / "outgoing" / f"{message_token(item.message_id)}{suffix}"

    def _archive(self, item: OutboxItem) -> Path:
        return self.context.folder / "archive" / f"{message_token(item.message_id)}.p7m"

    def _keep(self, item: OutboxItem, built: Built, message: bytes) -> None:
        write_atomically(self._outgoing(item, ".eml"), message, mode=0o600)
        write_atomically(self._outgoing(item, ".json"), json.dumps(asdict(built)).encode("utf-8"), mode=0o600)

    def _kept(self, item: OutboxItem, content: Content) -> tuple[Built, bytes] | None:
        """The message built earlier for ``item``, if it was built from the content as it is now."""
        try:
            built = _built(json.loads(self._outgoing(item, ".json").read_text(encoding="utf-8")))
            message = self._outgoing(item, ".eml").read_bytes()
        except (OSError, ValueError, TypeError):
            return None
        same = (built.message_id, built.content_version, built.content_sha256) == (
            item.message_id, content.version, content.sha256)
        return (built, message) if same else None


def _built(data: dict[str, Any]) -> Built:
    return Built(**{**data, "recipients": tuple(data.get("recipients", ()))})


def _addressed(item: OutboxItem, address: str) -> OutboxItem:
    return item if item.recipient_address == address else replace(item, recipient_address=address)


def _copy_spec_of(case: dict[str, Any], item: OutboxItem, shared: frozenset[str]) -> CopySpec:
    copy_spec = next((j for j in plan_copies(case, shared) if j.stem == item.copy), None)
    if copy_spec is not None:
        return copy_spec
    if item.family_copy:
        raise ApprovalError(f"{item.copy} is no longer part of conference {item.conference_reference}'s pack "
                            "(a report may no longer be shared with parents); it is held until the chair decides")
    raise DocgenError(f"{item.copy} is no longer part of conference {item.conference_reference}'s pack; schedule "
                      "the conference again (`docgen schedule`) so the outbox follows the case")
