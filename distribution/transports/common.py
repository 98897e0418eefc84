"""Checks transports make before they accept a message: envelope addresses and Message-ID for email,
the text and phone number of a text message, and that a letter is a PDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesHeaderParser

from distribution.errors import TransportError

Clock = Callable[[], datetime]
_ADDRESS = re.compile(r"[^\s<>@,;\"]+@[^\s<>@,;\"]+")


def utc_now() -> datetime:
    """The default clock for transports."""
    return datetime.now(UTC)


def check_envelope(envelope_from: str, recipients: list[str]) -> None:
    """Refuse an envelope with a malformed sender or no, or malformed, recipients."""
    if not _ADDRESS.fullmatch(envelope_from):
        raise TransportError(f"The envelope sender {envelope_from!r} is not an email address.", transient=False)
    if not recipients:
        raise TransportError("The message has no envelope recipients; nothing was sent.", transient=False)
    for address in recipients:
        if not _ADDRESS.fullmatch(address):
            raise TransportError(f"The envelope recipient {address!r} is not an email address.", transient=False)


def message_id_of(message: bytes) -> str:
    """The Message-ID header of ``message``; a message without one is refused."""
    headers = BytesHeaderParser(policy=email_policy.compat32).parsebytes(message)
    value = headers.get("Message-ID")
    if not value or not str(value).strip():
        raise TransportError(
            "The message has no Message-ID header, so a repeated send could not be recognised; "
            "nothing was sent.",
            transient=False,
        )
    return str(value).strip()


def sms_text(message: bytes) -> str:
    """The text of a text message: UTF-8, not empty."""
    try:
        text = message.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TransportError("The text message is not UTF-8 text; nothing was sent.", transient=False) from None
    if not text:
        raise TransportError("The text message is empty; nothing was sent.", transient=False)
    return text


def one_phone_number(recipients: list[str]) -> str:
    """The one phone number a text goes to (digits, spaces, brackets, dashes, a leading +)."""
    if len(recipients) != 1:
        raise TransportError(f"A text message goes to one phone number, not {len(recipients)}; nothing was sent.",
                             transient=False)
    number = recipients[0].strip()
    if not re.fullmatch(r"\+?[0-9][0-9 ()-]{5,20}", number):
        raise TransportError("The recipient of a text message is not a phone number; nothing was sent.",
                             transient=False)
    return number


def check_letter(message: bytes, recipients: list[str]) -> None:
    """A letter is a PDF, and its address is printed in it, not given as a recipient."""
    if recipients:
        raise TransportError("A letter's address is printed in the letter; it takes no recipients, so nothing "
                             "was sent.", transient=False)
    if not message.startswith(b"%PDF-"):
        raise TransportError("The letter is not a PDF; nothing was sent.", transient=False)
