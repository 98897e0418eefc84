"""The secure-email carrier: a transport that only ever sends to accredited domains.

Secure email attaches the document to a normal email and relies on TLS between the authority's
relay and the recipient's mail service, which is agreed only with accredited domains (gov.uk,
NHSmail, police.uk, cjsm.net and those the authority lists). The route policy chooses secure email
only for those addresses; this wrapper checks again, just before the message is handed on, so a
wrong address can never go this way whatever chose it. The transport it wraps must require TLS
with the server's certificate verified (``SmtpTransport`` always does; there is no plaintext mode).
"""

from __future__ import annotations

from distribution.abc import Delivery, Transport
from distribution.errors import TransportError
from docgen.domain.routes import is_accredited


class AccreditedDomainsOnly(Transport):
    """``transport``, refusing any message with a recipient outside ``domains`` (and their subdomains)."""

    def __init__(self, transport: Transport, domains: tuple[str, ...]) -> None:
        if not domains:
            raise ValueError("secure email needs at least one accredited domain")
        self.transport, self.domains = transport, domains
        self.name = f"secure_email:{transport.name}"

    def send(self, message: bytes, *, envelope_from: str, recipients: list[str], idempotency_key: str) -> Delivery:
        outside = [r for r in recipients if not is_accredited(r, self.domains)]
        if not recipients or outside:
            raise TransportError(
                f"secure email refused: {len(outside) or 'no'} recipient address(es) not at an accredited domain "
                "(config/delivery.toml, routes.accredited_domains); nothing was sent", transient=False)
        return self.transport.send(message, envelope_from=envelope_from, recipients=recipients,
                                   idempotency_key=idempotency_key)
