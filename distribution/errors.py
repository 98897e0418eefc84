"""Errors of secure distribution, under the product's one root (``docgen.errors.DocgenError``)."""

from __future__ import annotations

from docgen.errors import DocgenError


class DistributionError(DocgenError):
    """Something about sealing or sending a document went wrong; nothing was sent in a weaker form."""


class CertificateError(DistributionError):
    """A recipient's or the authority's certificate cannot be used."""


class EncryptionError(DistributionError):
    """A document could not be signed or encrypted; nothing was sent."""


class TransportError(DistributionError):
    """A message could not be handed to its transport.

    ``transient`` says whether trying again later may succeed.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
