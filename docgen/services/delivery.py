"""Delivery of a conference's documents, one recipient at a time, encrypted.

Agencies receive each document signed by the authority and encrypted to their certificate
(S/MIME). Family members receive their copy as an AES-256 protected PDF, with the passphrase
going separately by letter or text message; only a verifier of it is kept. Every copy carries
a per-recipient line, and every delivery is recorded with the SHA-256 of what was sent before
and after encryption, with an archive copy encrypted to the authority's archive certificate.
Nothing unencrypted is written anywhere: documents are rendered in memory and only encrypted
bytes (and the passphrase letters meant for posting) leave this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select

from distribution.abc import Transport
from distribution.cms import encrypt_for_archive, new_message_id, sign_and_encrypt
from distribution.keys import SigningIdentity
from distribution.pdf_protection import new_passphrase, passphrase_verifier, protect_pdf
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.pdf import render_pdf
from docgen.adapters.templating import html_environment, render_html
from docgen.bootstrap import Runtime
from docgen.documents import Job, plan_jobs
from docgen.errors import ApprovalError, CertificateError
from docgen.files import sha256, write_atomically
from docgen.services.directory import certificate_for
from docgen.services.approval import record_event
from docgen.services.pack import render_copy
from docgen.views import build_case_view

PROFESSIONAL_COPIES_FOR_ALL = {"social_worker_report", "agency_report", "conference_record", "decisions_notice",
                               "outline_plan", "discharge_notification"}


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    organisation: str
    address: str | None  # email
    phone: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one document for one recipient."""

    job: Job
    recipient: Recipient
    key: str  # the delivery's idempotency key; an outbox folder names the message after it
    status: str  # sent, already_sent, held
    channel: str
    detail: str
    message_id: str | None = None


ReleaseCheck = Callable[[str, Job, bytes], None]
"""Raises ApprovalError unless the family copy (conference reference, job, PDF bytes) may be released."""


def recipients_for(case: dict[str, Any], job: Job) -> list[Recipient]:
    """Who receives this copy."""
    professionals = {p["id"]: p for p in case["professionals"]}
    agencies = {a["id"]: a["name"] for a in case["agencies"]}
    family = {m["id"]: m for m in case["family"]}

    def professional(key: str) -> Recipient:
        person = professionals[key]
        return Recipient(key, person["name"], agencies[person["agency"]], person["email"], person.get("phone"))

    if job.audience.is_family_copy:
        person = family.get(job.audience.person or "")
        if person is None:  # a child's copy is handed over in person by the social worker
            return [Recipient(job.audience.person or "", job.audience.name, "Family", None)]
        return [Recipient(person["id"], person["name"], "Family", person.get("email"), person.get("phone"))]
    if job.kind.key in PROFESSIONAL_COPIES_FOR_ALL:
        keys = [case["conference"]["chair"]] + [i["invitee"] for i in case["invitations"] if i["invitee"] in professionals]
        return [professional(key) for key in dict.fromkeys(keys)]
    assert job.recipient is not None
    return [professional(job.recipient)]


def idempotency_key(reference: str, job: Job, recipient: Recipient) -> str:
    digest = hashlib.sha256(f"{reference}|{job.stem}|{recipient.key}".encode()).hexdigest()[:40]
    return f"d-{digest}"


@dataclass
class DeliveryContext:
    runtime: Runtime
    transport: Transport
    signer: SigningIdentity
    archive_certificate: x509.Certificate
    ca_certificates: list[x509.Certificate] | None
    folder: Path  # archive/, letters/, sms/ and for-hand-delivery/ go here
    release_check: ReleaseCheck
    sender_address: str


def deliver_conference(ctx: DeliveryContext, case: dict[str, Any], *, approved_reports: frozenset[str] = frozenset(),
                       kinds: set[str] | None = None) -> list[Outcome]:
    """Send every PDF copy of the conference's pack to each of its recipients."""
    view = build_case_view(case)
    today = ctx.runtime.clock().date()
    outcomes = []
    for job in plan_jobs(case, approved_reports):
        if kinds is not None and job.kind.key not in kinds:
            continue
        for recipient in recipients_for(case, job):
            outcomes.append(_deliver_one(ctx, case, view, job, recipient, today))
    return outcomes


def _deliver_one(ctx: DeliveryContext, case: dict[str, Any], view: dict[str, Any], job: Job, recipient: Recipient,
                 today: date) -> Outcome:
    reference = case["reference"]
    key = idempotency_key(reference, job, recipient)
    with unit_of_work(ctx.runtime.sessions) as session:
        done = session.scalar(select(DeliveryRecord).where(DeliveryRecord.idempotency_key == key))
        if done is not None:
            return Outcome(job, recipient, key, "already_sent", done.channel, f"sent {done.sent_at:%d/%m/%Y %H:%M}", done.message_id)
    line = f"Copy for: {recipient.name}, {recipient.organisation}, {today.day} {today:%B %Y}"
    try:
        copy = render_copy(job, view, ctx.runtime.settings, generated_on=today, fmt="pdf", recipient_line=line)
        if job.audience.is_family_copy:
            ctx.release_check(reference, job, copy.data)
            return _send_protected(ctx, reference, job, recipient, copy.data, key, today)
        return _send_smime(ctx, reference, job, recipient, copy.data, key)
    except (CertificateError, ApprovalError) as exc:
        return Outcome(job, recipient, key, "held", "none", str(exc))


def _record(ctx: DeliveryContext, reference: str, job: Job, recipient: Recipient, key: str, *, channel: str,
            message_id: str, plaintext: bytes, ciphertext: bytes, verifier: str | None) -> None:
    archive = ctx.folder / "archive" / f"{key}.p7m"
    write_atomically(archive, encrypt_for_archive(plaintext, ctx.archive_certificate))
    with unit_of_work(ctx.runtime.sessions) as session:
        session.add(DeliveryRecord(
            idempotency_key=key, conference_reference=reference, document_kind=job.kind.key, audience=job.audience.slug,
            recipient_key=recipient.key, recipient_address=recipient.address or "by hand", channel=channel,
            transport=ctx.transport.name if recipient.address else "hand-delivery", message_id=message_id,
            sent_at=ctx.runtime.clock().replace(tzinfo=None), plaintext_sha256=sha256(plaintext),
            ciphertext_sha256=sha256(ciphertext), archive_path=str(archive), passphrase_verifier=verifier))
    record_event(ctx.runtime, "released", actor="distribution", reference=reference, subject=f"{job.stem} to {recipient.key}",
                 details={"channel": channel, "message_id": message_id, "plaintext_sha256": sha256(plaintext),
                          "ciphertext_sha256": sha256(ciphertext)})


def _send_smime(ctx: DeliveryContext, reference: str, job: Job, recipient: Recipient, pdf: bytes, key: str) -> Outcome:
    if not recipient.address:
        raise CertificateError(f"{recipient.name} has no email address; nothing was sent")
    with unit_of_work(ctx.runtime.sessions) as session:
        certificate = certificate_for(session, recipient.key, at=ctx.runtime.clock(), ca_certificates=ctx.ca_certificates)
    secure = sign_and_encrypt(
        pdf, filename=f"{job.kind.key}.pdf", content_type="application/pdf", signer=ctx.signer,
        recipients=[certificate], subject=f"Conference document {reference}", sender=ctx.sender_address,
        to=recipient.address, at=ctx.runtime.clock(), message_id=_message_id(key, ctx.sender_address))
    delivery = ctx.transport.send(secure.message, envelope_from=ctx.sender_address, recipients=[recipient.address],
                                  idempotency_key=key)
    _record(ctx, reference, job, recipient, key, channel="smime", message_id=delivery.message_id,
            plaintext=pdf, ciphertext=secure.p7m, verifier=None)
    return Outcome(job, recipient, key, "sent", "smime", f"to {recipient.address}", delivery.message_id)


def _message_id(key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "docgen.invalid"
    return f"<{key}@{domain}>"


def _send_protected(ctx: DeliveryContext, reference: str, job: Job, recipient: Recipient, pdf: bytes, key: str,
                    today: date) -> Outcome:
    passphrase = new_passphrase()
    protected = protect_pdf(pdf, passphrase)
    _passphrase_notices(ctx, recipient, passphrase, key, today)
    if recipient.address:
        message = EmailMessage()
        settings = ctx.runtime.settings
        message["From"] = ctx.sender_address
        message["To"] = recipient.address
        message["Subject"] = f"A document from {settings.authority.name}"
        message["Date"] = format_datetime(ctx.runtime.clock())
        message["Message-ID"] = _message_id(key, ctx.sender_address)
        message.set_content(
            f"Dear {recipient.name},\n\nThe attached document is locked with a passphrase. We are sending the "
            f"passphrase to you separately.\n\nIf you have any questions, phone {settings.authority.phone}.\n\n"
            f"{settings.authority.service}\n")
        message.add_attachment(protected, maintype="application", subtype="pdf", filename="document.pdf")
        delivery = ctx.transport.send(message.as_bytes(), envelope_from=ctx.sender_address,
                                      recipients=[recipient.address], idempotency_key=key)
        message_id, detail = delivery.message_id, f"to {recipient.address}; passphrase by separate letter"
    else:
        write_atomically(ctx.folder / "for-hand-delivery" / f"{key}.pdf", protected, mode=0o600)
        message_id, detail = new_message_id(ctx.sender_address), "protected copy for hand delivery; passphrase by separate letter"
    _record(ctx, reference, job, recipient, key, channel="protected_pdf", message_id=message_id,
            plaintext=pdf, ciphertext=protected, verifier=passphrase_verifier(passphrase))
    return Outcome(job, recipient, key, "sent", "protected_pdf", detail, message_id)


def _passphrase_notices(ctx: DeliveryContext, recipient: Recipient, passphrase: str, key: str, today: date) -> None:
    """The passphrase's own channel: a letter for posting and, where a phone number is known, a text."""
    settings = ctx.runtime.settings
    context = {"authority": settings.authority, "recipient_name": recipient.name, "passphrase": passphrase,
               "date_text": f"{today.day} {today:%B %Y}"}
    letter, _ = render_pdf(render_html("notices/passphrase_letter.html", context), source="notices/passphrase_letter.html")
    write_atomically(ctx.folder / "letters" / f"{key}.pdf", letter, mode=0o600)
    if recipient.phone:
        text = html_environment().get_template("notices/passphrase_sms.txt").render(context)
        write_atomically(ctx.folder / "sms" / f"{key}.txt", f"To: {recipient.phone}\n{text.strip()}\n".encode(), mode=0o600)


def summarise(outcomes: list[Outcome]) -> str:
    sent = sum(1 for o in outcomes if o.status == "sent")
    held = [o for o in outcomes if o.status == "held"]
    lines = [f"{sent} documents sent, {len(held)} held."]
    lines += [f"  held: {o.job.stem} for {o.recipient.name}: {o.detail}" for o in held]
    return "\n".join(lines)

