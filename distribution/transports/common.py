"""Checks every transport makes before it accepts a message: envelope addresses and Message-ID."""

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
