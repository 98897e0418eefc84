"""Interfaces of the distribution layer that have several implementations.

A :class:`Transport` hands a finished, already encrypted message to something that delivers it.
Backends live in :mod:`distribution.transports` and are named after their technology
(``outbox_folder``, ``smtp``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Delivery:
    """A transport's receipt: it accepted the message for delivery at ``accepted_at``."""

    message_id: str
    transport: str
    accepted_at: datetime
    idempotency_key: str
    reference: str = ""
    """Where the message went: the outbox file name, or the SMTP server's final reply."""


class Transport(ABC):
    """Something that accepts a complete RFC 5322 message for delivery."""

    name: str
    """The backend's name as used in configuration, e.g. ``"smtp"``."""

    @abstractmethod
    def send(
        self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str
    ) -> Delivery:
        """Hand over ``message`` (which must carry a Message-ID header) for ``recipients``.

        ``idempotency_key`` is the same for every attempt at sending one outbox item and safe in a
        file name; the dispatcher gives the random part of the Message-ID, so it says nothing of
        what the message is or whom it is for.

        Raises :class:`distribution.errors.TransportError` whose ``transient`` flag says whether
        trying the same send again later may succeed. Nothing is delivered when it raises,
        as far as the backend can tell.
        """
