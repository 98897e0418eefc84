"""Transports that hand encrypted messages on: an outbox folder of ``.eml`` files, or SMTP over TLS.

The interface is :class:`distribution.abc.Transport`; each backend is a module named after its
technology. Their settings are read by ``docgen.configuration.transports`` and the transport is
built from them by ``docgen.bootstrap.build_transport``.
"""

from distribution.abc import Delivery, Transport
from distribution.transports.hand_delivery import HandDeliveryTransport
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.smtp import SmtpTransport

__all__ = [
    "Delivery",
    "HandDeliveryTransport",
    "OutboxFolderTransport",
    "SmtpTransport",
    "Transport",
]
