"""The message each delivery route sends, built from a copy already rendered and checked.

One function per route (``docgen.domain.routes``): S/MIME to a certificate on file; secure email
to an accredited domain, the document attached and the protective marking in the subject and a
header; a portal notice (the link, by email or text message) for a copy published to the
recipient portal; and the passphrase-protected PDF for hand delivery, whose passphrase goes by
post. Every email carries the item's random Message-ID and says nothing of the family in its
headers: the subject and the attachment's name say what the document is in plain words.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from cryptography import x509

from distribution.cms import sign_and_encrypt
from distribution.keys import SigningIdentity
from distribution.pdf_protection import protect_pdf
from distribution.wording import subject, wording
from docgen.domain.outbox import OutboxItem


@dataclass(frozen=True)
class Sender:
    """Who the messages are from, and how the authority is reached."""

    address: str
    service: str
    phone: str
    protective_marking: str | None
    marking_header: str = "X-Protective-Marking"


def smime_message(item: OutboxItem, pdf: bytes, *, certificate: x509.Certificate, signer: SigningIdentity,
                  sender: Sender, at: datetime) -> tuple[bytes, bytes]:
    """The document signed by the authority and encrypted to the recipient's certificate: (message, p7m)."""
    secure = sign_and_encrypt(
        pdf, filename=wording(item.document).filename, content_type="application/pdf", signer=signer,
        recipients=[certificate], subject=subject(item.document, sender.protective_marking), sender=sender.address,
        to=item.recipient_address or "", at=at, message_id=item.message_id)
    return secure.message, secure.p7m


def secure_email_message(item: OutboxItem, pdf: bytes, *, recipient_name: str, sender: Sender, at: datetime) -> bytes:
    """The document attached to a normal email for an accredited domain, marked for the mail gateway.

    Its protection is the relay's TLS to the accredited domain (the carrier refuses any other
    domain); the marking leads the subject and travels in ``sender.marking_header``.
    """
    words = wording(item.document)
    message = _email(item, sender, at, to=item.recipient_address or "")
    if sender.protective_marking:
        message[sender.marking_header] = sender.protective_marking
    message.set_content(
        f"Dear {recipient_name},\n\nThe {words.words} for a child protection conference is attached. It is sent to "
        f"your organisation's secure email and is {sender.protective_marking or 'confidential'}: keep it within your "
        f"organisation's secure systems and do not forward it outside them.\n\nIf you have any questions, phone "
        f"{sender.phone}.\n\n{sender.service}\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=words.filename)
    return message.as_bytes()


def portal_email(item: OutboxItem, *, recipient_name: str, url: str, new_link: bool, code_by: str,
                 sender: Sender, at: datetime) -> bytes:
    """The email that gives a recipient their portal link (or says a new document is there)."""
    words = wording(item.document)
    message = _email(item, sender, at, to=item.recipient_address or "")
    message.replace_header("Subject", _portal_subject(sender))
    message.set_content(f"Dear {recipient_name},\n\n{portal_text(words.words, url, new_link, code_by)}\n\n"
                        f"If you have any questions, phone {sender.phone}.\n\n{sender.service}\n")
    return message.as_bytes()


def portal_sms(item: OutboxItem, *, url: str, new_link: bool, code_by: str, sender: Sender) -> bytes:
    """The text message that gives a recipient their portal link (or says a new document is there)."""
    words = wording(item.document).words
    lead = (f"{sender.service}: documents about a child protection conference are ready for you."
            if new_link else f"{sender.service}: a new document ({words}) is ready for you.")
    code = "We will text you a code to open them." if code_by == "sms" else "We will email you a code to open them."
    return f"{lead} Open {url} {code} Questions: {sender.phone}".encode()


def portal_text(words: str, url: str, new_link: bool, code_by: str) -> str:
    code = "a text message to your phone" if code_by == "sms" else "an email to this address"
    if new_link:
        lead = ("Documents about a child protection conference are ready for you to read and download. The first is "
                f"the {words}. This link is for you only, and more documents will be added to it as they are ready:")
    else:
        lead = f"A new document, the {words}, is ready for you. Use the same link as before:"
    return (f"{lead}\n\n{url}\n\nWhen you open it, we will send a code by {code}. The link opens nothing without "
            "the code. Please do not forward this email.")


def protected_message(item: OutboxItem, pdf: bytes, *, passphrase: str, recipient_name: str, hand_deliverer: str,
                      sender: Sender, at: datetime) -> tuple[bytes, bytes]:
    """The passphrase-protected PDF for hand delivery: (message for the hand-delivery folder, protected PDF)."""
    protected = protect_pdf(pdf, passphrase)
    words = wording(item.document)
    message = _email(item, sender, at, to=None)
    message.set_content(
        f"For hand delivery to {recipient_name} by {hand_deliverer}.\nThe {words.words} is locked with the passphrase "
        f"that goes to them separately by letter.\n\nIf you have any questions, phone {sender.phone}.\n\n{sender.service}\n")
    message.add_attachment(protected, maintype="application", subtype="pdf", filename=words.filename)
    return message.as_bytes(), protected


def _email(item: OutboxItem, sender: Sender, at: datetime, *, to: str | None) -> EmailMessage:
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = sender.address
    if to:
        message["To"] = to
    message["Subject"] = subject(item.document, sender.protective_marking)
    message["Date"] = format_datetime(at)
    message["Message-ID"] = item.message_id
    return message


def _portal_subject(sender: Sender) -> str:
    text = "Documents about a child protection conference"
    marking = (sender.protective_marking or "").strip()
    return f"{marking}: {text}" if marking else text


def hand_deliverer(case: dict[str, Any]) -> str:
    """Who hands a copy over: the lead social worker named in the plan, or the child's social worker."""
    lead = (case.get("plan") or {}).get("lead_social_worker")
    person = next((p for p in case["professionals"] if p["id"] == lead), None)
    return f"{person['name']}, social worker" if person else "the child's social worker"



def code_email(address: str, text: str, *, sender: str, at: datetime) -> bytes:
    """The email that carries a portal one-time code, when the code goes by email."""
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = sender
    message["To"] = address
    message["Subject"] = "Your code"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{sender.rpartition('@')[2] or 'localhost'}>"
    message.set_content(f"{text}\n\nIf you did not ask for a code, you can ignore this email.\n")
    return message.as_bytes()
