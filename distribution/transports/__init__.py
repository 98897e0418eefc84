"""Transports that hand encrypted messages on: an outbox folder of ``.eml`` files, or SMTP over TLS.

The interface is :class:`distribution.abc.Transport`; each backend is a module named after its
technology.
"""

from distribution.abc import Delivery, Transport
from distribution.transports.config import (
    OutboxFolderConfig,
    SmtpConfig,
    TransportConfig,
    build_transport,
)
from distribution.transports.hand_delivery import HandDeliveryTransport
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.smtp import SmtpTransport

__all__ = [
    "Delivery",
    "HandDeliveryTransport",
    "OutboxFolderConfig",
    "OutboxFolderTransport",
    "SmtpConfig",
    "SmtpTransport",
    "Transport",
    "TransportConfig",
    "build_transport",
]
