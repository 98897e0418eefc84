"""Recipient certificates: load them, check they can be encrypted to, and summarise them for support.

A partner agency's certificate is refused (with :class:`CertificateError`) when, at the time
given:

* it has expired or is not yet valid;
* its key is not RSA of at least 2048 bits. CMS encryption here uses RSA key transport (the
  only recipient type ``cryptography``'s envelope builder supports, and what agencies use), so
  EC certificates, which would need keyAgreement, are refused rather than half-supported;
* its KeyUsage extension is missing or lacks ``keyEncipherment``. A missing extension would
  technically allow every use (RFC 5280); it is refused because an encryption certificate
  without one is almost always a mistake;
* it has an ExtendedKeyUsage extension without ``emailProtection`` (or ``anyExtendedKeyUsage``).
  An absent ExtendedKeyUsage is accepted, as older government S/MIME certificates omit it;
* the recipient's email address is neither an rfc822Name in its SubjectAlternativeName nor the
  subject's emailAddress. Addresses are compared case-insensitively, as mail systems do;
* CA certificates are configured and the chain does not verify. Chain building uses
  ``cryptography.x509.verification``'s client verifier (signatures, validity at ``at``, basic
  constraints, Web PKI profile for CAs) with the end-entity ExtendedKeyUsage rule replaced by the
  S/MIME one above, since the stock client verifier insists on ``clientAuth``.

Revocation (CRL/OCSP) is not checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, Policy, PolicyBuilder, Store, VerificationError

from distribution.errors import CertificateError

MINIMUM_RSA_BITS = 2048
_EMAIL_USES = {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}


@dataclass(frozen=True)
class CertificateSummary:
    """What business support needs to identify a certificate when talking to an agency."""

    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    sha256_fingerprint: str
    emails: tuple[str, ...] = ()

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertificateSummary:
        digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "X"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            sha256_fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
            emails=tuple(certificate_emails(cert)),
        )

    def describe(self) -> str:
        """One line naming the certificate, for messages."""
        return f"{self.subject} (serial {self.serial}, issued by {self.issuer})"


def load_certificate(data: bytes, *, source: str) -> x509.Certificate:
    """Load one X.509 certificate from PEM or DER bytes; ``source`` names it in messages."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            f"{source} is not a readable X.509 certificate (PEM or DER expected). Ask the "
            "agency to send their encryption certificate again as a .cer, .crt or .pem file."
        ) from None


def load_certificates(data: bytes, *, source: str) -> list[x509.Certificate]:
    """Load every certificate from a PEM bundle, or the single certificate of a DER file."""
    if not data.lstrip().startswith(b"-----BEGIN"):
        return [load_certificate(data, source=source)]
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateError(f"{source} holds no readable PEM certificates.") from None
    return certs


def certificate_emails(cert: x509.Certificate) -> list[str]:
    """Email addresses a certificate is issued to: SAN rfc822Names, then subject emailAddress."""
    emails: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        emails.extend(san.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        pass
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        value = attribute.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        emails.append(value)
    return emails


def _email_use_validator(policy: Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    if eku is not None and not _EMAIL_USES & set(eku):
        raise ValueError("ExtendedKeyUsage does not include emailProtection")


def _verify_chain(
    cert: x509.Certificate,
    *,
    at: datetime,
    ca_certificates: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> None:
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _email_use_validator
    )
    verifier = (
        PolicyBuilder()
        .store(Store(list(ca_certificates)))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
        .build_client_verifier()
    )
    verifier.verify(cert, list(intermediates))


def check_recipient_certificate(
    cert: x509.Certificate,
    *,
    email: str,
    at: datetime,
    ca_certificates: Sequence[x509.Certificate] | None = None,
    intermediates: Sequence[x509.Certificate] = (),
) -> CertificateSummary:
    """Refuse ``cert`` unless documents for ``email`` may be encrypted to it at time ``at``.

    Returns the certificate's summary when it is accepted. ``ca_certificates`` are the trust
    anchors configured for partner agencies; when given, the chain (through ``intermediates``)
    must verify. ``at`` must be timezone-aware.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    summary = CertificateSummary.of(cert)
    who = f"The certificate for {email}, {summary.describe()},"
    fix = f"Ask the agency for a current encryption certificate for {email} and import it."

    if at < cert.not_valid_before_utc:
        raise CertificateError(
            f"{who} is not yet valid: it is valid from "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC. Send after that time or {fix[0].lower()}{fix[1:]}"
        )
    if at > cert.not_valid_after_utc:
        raise CertificateError(
            f"{who} expired on {cert.not_valid_after_utc:%Y-%m-%d}. {fix}"
        )

    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateError(
            f"{who} does not have an RSA key; only RSA encryption certificates are "
            f"supported (EC key agreement is not). {fix}"
        )
    if key.key_size < MINIMUM_RSA_BITS:
        raise CertificateError(
            f"{who} has a {key.key_size}-bit RSA key; at least {MINIMUM_RSA_BITS} bits are required. {fix}"
        )

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise CertificateError(
            f"{who} has no key usage extension, so it is not clearly an encryption "
            f"certificate. {fix}"
        ) from None
    if not usage.key_encipherment:
        raise CertificateError(
            f"{who} does not allow key encipherment (key usage), so documents cannot be "
            f"encrypted to it; it is probably the agency's signing-only certificate. {fix}"
        )
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and not _EMAIL_USES & set(eku):
        raise CertificateError(
            f"{who} is not issued for email protection (extended key usage). {fix}"
        )

    emails = certificate_emails(cert)
    if email.casefold() not in {e.casefold() for e in emails}:
        found = ", ".join(emails) if emails else "no email address"
        raise CertificateError(
            f"{who} does not match the recipient's address {email}: it names {found}. "
            f"Check the recipient's address, or {fix[0].lower()}{fix[1:]}"
        )

    if ca_certificates is not None:
        if not ca_certificates:
            raise CertificateError(
                f"No CA certificates are configured to check the certificate for {email}."
            )
        try:
            _verify_chain(cert, at=at, ca_certificates=ca_certificates, intermediates=intermediates)
        except VerificationError as exc:
            raise CertificateError(
                f"{who} does not chain to a trusted CA ({exc}). Check the certificate came "
                "from the agency and that its issuing CA is in the configured CA bundle."
            ) from None
    return summary
