"""The documents the scheduler sends: each outbox item rendered for its recipient and encrypted.

Agencies receive each document signed by the authority and encrypted to their certificate
(S/MIME). Family members receive their copy as an AES-256 protected PDF, with the passphrase
going separately by letter and, where a phone number is known, a text message: one passphrase
per person per conference (``distribution.passphrases``), one letter naming the documents it
opens; the delivery record keeps only a verifier of it. People without an email address (children, whose copies their social worker hands
over, and parents without email) get the same protected PDF through the hand-delivery folder.
Every copy carries a per-recipient line, and every family copy passes the chair's release check
on its exact bytes before it is built into a message.

Nothing unencrypted is written anywhere: documents are rendered in memory, and only encrypted
bytes (and the passphrase letters meant for posting) leave this module. What mail systems see
says nothing of the family: the Message-ID is the item's random one, the subject and the
attachment's name say what the document is in plain words (``distribution.wording``), and every
file is named by the Message-ID's random part, never by the idempotency key. The message built for an
item is kept (encrypted) under ``outgoing/``, so a send repeated after a crash is the same
message with the same passphrase, not a second one. When the transport has accepted it, a
delivery record (with the SHA-256 of what was sent before and after encryption) and a
"sent" audit entry are written in the same transaction that marks the item sent, and an
archive copy encrypted to the authority's archive certificate is kept.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.abc import Delivery
from distribution.cms import encrypt_for_archive, sign_and_encrypt
from distribution.keys import SigningIdentity
from distribution.passphrases import LETTER_TEMPLATES, PassphraseBook, PersonPassphrase
from distribution.pdf_protection import passphrase_verifier, protect_pdf
from distribution.wording import subject, wording
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
from docgen.errors import ApprovalError, DocgenError
from docgen.services.approval import Content, approved_reports, check_approval, content_hash, current_content, view_hash
from docgen.services.copies import recipient_copy
from docgen.services.directory import certificate_for
from docgen.services.dispatch import list_items
from docgen.services.runtime import Runtime


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    organisation: str
    address: str | None  # email
    phone: str | None = None


def recipient_of(case: dict[str, Any], key: str) -> Recipient:
    """The person ``key`` of the conference, as a recipient of its documents."""
    agencies = {a["id"]: a["name"] for a in case["agencies"]}
    for person in case["professionals"]:
        if person["id"] == key:
            return Recipient(key, person["name"], agencies[person["agency"]], person["email"], person.get("phone"))
    for person in case["family"]:
        if person["id"] == key:
            return Recipient(key, person["name"], "Family", person.get("email"), person.get("phone"))
    for child in case["children"]:
        if child["id"] == key:
            return Recipient(key, child["name"], "Family", None)
    raise DocgenError(f"conference {case['reference']} has no one called {key!r} any more; schedule it again "
                      "(`docgen schedule`) so the outbox follows the case")


@dataclass
class DeliveryContext:
    """What building messages needs: keys and certificates, and where the letters and archive go."""

    runtime: Runtime
    signer: SigningIdentity
    archive_certificate: x509.Certificate
    ca_certificates: list[x509.Certificate] | None
    folder: Path  # archive/, letters/, sms/ and outgoing/ go here
    sender_address: str


@dataclass(frozen=True)
class Built:
    """What was built for an item, kept beside its message under ``outgoing/``."""

    message_id: str
    content_version: int
    content_sha256: str
    document_kind: str
    audience: str
    recipient: str
    channel: str  # smime or protected_pdf
    plaintext_sha256: str
    ciphertext_sha256: str
    passphrase_verifier: str | None
    letter: str | None = None  # the passphrase letter's name under letters/ (and sms/), for a family copy


class DocumentMessages:
    """The scheduler's message builder: ``build`` for each item, ``record_sent`` once it has gone.

    Wire it into the dispatcher as ``Dispatcher(..., build_message=messages.build,
    approval_gate=messages.approval_gate, on_sent=messages.record_sent)``.
    """

    def __init__(self, context: DeliveryContext) -> None:
        self.context = context

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

    def build(self, item: OutboxItem) -> bytes:
        """The complete, encrypted message for ``item``, carrying the item's Message-ID.

        Raises ApprovalError for a family copy the chair has not released (the dispatcher holds
        it), CertificateError when the recipient's certificate fails its check, and DocgenError
        for anything else that stops this item; nothing is sent in any of those cases.
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
            return message
        recipient = recipient_of(content.case, item.recipient)
        certificate = None if copy_spec.audience.is_family_copy else self._certificate(item, recipient)
        today = runtime.clock().date()
        line = f"Copy for: {recipient.name}, {recipient.organisation}, {today.day} {today:%B %Y}"
        copy = recipient_copy(runtime, copy_spec, content.case, generated_on=today, recipient_line=line, fmt="pdf")
        if copy_spec.audience.is_family_copy:
            self._check_approval(content, copy_spec, sha256(copy.data))
            message, ciphertext, verifier, letter = self._protected(item, content.case, recipient, copy.data, today)
            channel = "protected_pdf"
        else:
            assert certificate is not None
            message, ciphertext = self._smime(item, copy_spec, certificate, copy.data)
            channel, verifier, letter = "smime", None, None
        built = Built(item.message_id, content.version, content.sha256, copy_spec.kind.key, copy_spec.audience.slug, recipient.key,
                      channel, sha256(copy.data), sha256(ciphertext), verifier, letter)
        write_atomically(self._archive(item), encrypt_for_archive(copy.data, self.context.archive_certificate))
        self._keep(item, built, message)
        return message

    def record_sent(self, session: Session, item: OutboxItem, delivery: Delivery) -> None:
        """In the transaction that marks ``item`` sent: the delivery record and the "sent" entry."""
        if session.scalar(select(DeliveryRecord.id).where(DeliveryRecord.idempotency_key == item.idempotency_key)):
            return
        built = Built(**json.loads(self._outgoing(item, ".json").read_text(encoding="utf-8")))
        now = self.context.runtime.clock()
        session.add(DeliveryRecord(
            idempotency_key=item.idempotency_key, conference_reference=item.conference_reference,
            document_kind=built.document_kind, audience=built.audience, recipient_key=item.recipient,
            recipient_address=item.recipient_address or "by hand", channel=built.channel, transport=delivery.transport,
            message_id=delivery.message_id, sent_at=now.replace(tzinfo=None), plaintext_sha256=built.plaintext_sha256,
            ciphertext_sha256=built.ciphertext_sha256, archive_path=str(self._archive(item)),
            passphrase_verifier=built.passphrase_verifier))
        append_event(session, at=now, actor="distribution", action="sent", reference=item.conference_reference,
                     subject=f"{item.copy} to {item.recipient}",
                     details={"channel": built.channel, "transport": delivery.transport,
                              "message_id": delivery.message_id, "plaintext_sha256": built.plaintext_sha256,
                              "ciphertext_sha256": built.ciphertext_sha256, "outbox_item": item.id})
        if item.family_copy and not session.scalar(select(OutboxItemRow.id).where(
                OutboxItemRow.conference_reference == item.conference_reference,
                OutboxItemRow.recipient == item.recipient, OutboxItemRow.family_copy.is_(True),
                OutboxItemRow.id != item.id, OutboxItemRow.state.not_in(FINAL_STATES)).limit(1)):
            # The person's last protected document of the conference has gone: the passphrase is no
            # longer needed to send anything, so it is not kept (the letter that printed it has gone too).
            PassphraseBook(self.context.folder / "passphrases").forget(item.conference_reference, item.recipient)

    # -- building -----------------------------------------------------------------------------

    def _check_approval(self, content: Content, copy_spec: CopySpec, copy_sha256: str) -> None:
        assert copy_spec.audience.person is not None
        check_approval(self.context.runtime, content.reference, copy_spec.audience.person, copy_sha256, content.version,
                      view_sha256=view_hash(content.case, copy_spec.audience), content_sha256=content_hash(content.case),
                      report=copy_spec.report)

    def _certificate(self, item: OutboxItem, recipient: Recipient) -> x509.Certificate:
        """The recipient's certificate, checked now (before anything is rendered for them)."""
        if not item.recipient_address:
            raise DocgenError(f"{recipient.name} has no email address for encrypted delivery; nothing was sent")
        runtime = self.context.runtime
        with unit_of_work(runtime.sessions) as session:
            return certificate_for(session, recipient.key, at=runtime.clock(),
                                   ca_certificates=self.context.ca_certificates)

    def _smime(self, item: OutboxItem, copy_spec: CopySpec, certificate: x509.Certificate, pdf: bytes) -> tuple[bytes, bytes]:
        secure = sign_and_encrypt(
            pdf, filename=wording(copy_spec.kind.key).filename, content_type="application/pdf",
            signer=self.context.signer, recipients=[certificate],
            subject=subject(copy_spec.kind.key, self.context.runtime.settings.marking.protective_marking),
            sender=self.context.sender_address, to=item.recipient_address or "", at=self.context.runtime.clock(),
            message_id=item.message_id)
        return secure.message, secure.p7m

    def _protected(self, item: OutboxItem, case: dict[str, Any], recipient: Recipient, pdf: bytes,
                   today: date) -> tuple[bytes, bytes, str, str]:
        # One passphrase for each person in each conference; its letter is written when it is made,
        # before any document it opens is kept, so the message that goes always has its letter.
        book = PassphraseBook(self.context.folder / "passphrases")
        person, new = book.for_person(item.conference_reference, item.recipient)
        letter = self.context.folder / "letters" / f"{person.letter}.pdf"
        if new or not letter.exists():
            self._passphrase_notices(item, recipient, person, today)
        protected = protect_pdf(pdf, person.passphrase)
        authority = self.context.runtime.settings.authority
        words = wording(item.document)
        message = EmailMessage(policy=email_policy.SMTP)
        message["From"] = self.context.sender_address
        if item.recipient_address:
            message["To"] = item.recipient_address
            note = (f"Dear {recipient.name},\n\nThe attached {words.words} is locked. It opens with the passphrase we "
                    "have sent you by letter: the same passphrase opens every document about this conference.\n\n")
        else:
            note = (f"For hand delivery to {recipient.name} by {_hand_deliverer(case)}.\nThe {words.words} is locked "
                    "with the passphrase that goes to them separately by letter.\n\n")
        message["Subject"] = subject(item.document, self.context.runtime.settings.marking.protective_marking)
        message["Date"] = format_datetime(self.context.runtime.clock())
        message["Message-ID"] = item.message_id
        message.set_content(f"{note}If you have any questions, phone {authority.phone}.\n\n{authority.service}\n")
        message.add_attachment(protected, maintype="application", subtype="pdf", filename=words.filename)
        return message.as_bytes(), protected, passphrase_verifier(person.passphrase), person.letter

    def _passphrase_notices(self, item: OutboxItem, recipient: Recipient, person: PersonPassphrase,
                            today: date) -> None:
        """The passphrase's own channel: one letter for posting and, where a phone number is known,
        one text, naming the documents of the conference it opens."""
        settings = self.context.runtime.settings
        context = {"authority": settings.authority, "recipient_name": recipient.name, "passphrase": person.passphrase,
                   "date_text": f"{today.day} {today:%B %Y}", "by_email": bool(item.recipient_address),
                   "documents": self._documents_of(item)}
        environment = make_environment(LETTER_TEMPLATES)
        letter, _ = render_pdf(environment.get_template("passphrase_letter.html").render(context),
                               source="distribution/letters/passphrase_letter.html")
        write_atomically(self.context.folder / "letters" / f"{person.letter}.pdf", letter, mode=0o600)
        if recipient.phone:
            text = environment.get_template("passphrase_sms.txt").render(context)
            write_atomically(self.context.folder / "sms" / f"{person.letter}.txt",
                             f"To: {recipient.phone}\n{text.strip()}\n".encode(), mode=0o600)

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
            built = Built(**json.loads(self._outgoing(item, ".json").read_text(encoding="utf-8")))
            message = self._outgoing(item, ".eml").read_bytes()
        except (OSError, ValueError, TypeError):
            return None
        same = (built.message_id, built.content_version, built.content_sha256) == (
            item.message_id, content.version, content.sha256)
        return (built, message) if same else None


def _copy_spec_of(case: dict[str, Any], item: OutboxItem, shared: frozenset[str]) -> CopySpec:
    copy_spec = next((j for j in plan_copies(case, shared) if j.stem == item.copy), None)
    if copy_spec is not None:
        return copy_spec
    if item.family_copy:
        raise ApprovalError(f"{item.copy} is no longer part of conference {item.conference_reference}'s pack "
                            "(a report may no longer be shared with parents); it is held until the chair decides")
    raise DocgenError(f"{item.copy} is no longer part of conference {item.conference_reference}'s pack; schedule "
                      "the conference again (`docgen schedule`) so the outbox follows the case")


def _hand_deliverer(case: dict[str, Any]) -> str:
    """Who hands a copy over: the lead social worker named in the plan, or the child's social worker."""
    lead = (case.get("plan") or {}).get("lead_social_worker")
    person = next((p for p in case["professionals"] if p["id"] == lead), None)
    return f"{person['name']}, social worker" if person else "the child's social worker"
