"""Transports that hand messages on: email (an outbox folder of ``.eml`` files, SMTP over TLS, hand
delivery), text messages (an SMS folder) and letters (the post room's print batch), and GOV.UK
Notify for all three (``distribution.transports.notify``, imported by name: it brings an HTTP client).

The interface is :class:`distribution.abc.Transport`; each backend is a module named after its
technology. Their settings are read by ``docgen.configuration.transports`` and the transport is
built from them by ``docgen.bootstrap.build_transport``.
"""

from distribution.abc import Delivery, Transport
from distribution.transports.hand_delivery import HandDeliveryTransport
from distribution.transports.outbox_folder import OutboxFolderTransport
from distribution.transports.print_batch import PrintBatchTransport
from distribution.transports.sms_folder import SmsFolderTransport
from distribution.transports.smtp import SmtpTransport

__all__ = [
    "Delivery",
    "HandDeliveryTransport",
    "OutboxFolderTransport",
    "PrintBatchTransport",
    "SmsFolderTransport",
    "SmtpTransport",
    "Transport",
]
