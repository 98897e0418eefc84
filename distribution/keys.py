"""The authority's signing identity: its private key and certificate, loaded from a protected file.

Two file formats are accepted:

* PKCS#12 (``.p12`` or ``.pfx``): key, certificate and optionally the CA chain, as exported by
  Windows, macOS Keychain or ``openssl pkcs12 -export``.
* PEM (``.pem``): ONE file holding an encrypted private key (``BEGIN ENCRYPTED PRIVATE KEY`` or a
  traditional ``Proc-Type: 4,ENCRYPTED`` key) followed by the signing certificate and any chain
  certificates. One file keeps key and certificate from drifting apart when one is renewed.

The passphrase comes from an environment variable or, failing that, a prompt callable. A key file
that is not protected by a passphrase is refused. The private key is never shown in a repr, and no
error message carries the passphrase or key material.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from distribution.certificates import CertificateSummary, certificate_emails
from distribution.errors import CertificateError
from docgen.errors import ConfigurationError

DEFAULT_PASSPHRASE_ENV = "DOCGEN_SIGNING_PASSPHRASE"
_PKCS12_SUFFIXES = {".p12", ".pfx"}
_PEM_SUFFIXES = {".pem"}

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SigningIdentity:
    """The authority's signing key with its certificate and the certificates that chain it to a CA."""

    certificate: x509.Certificate
    private_key: SigningKey = field(repr=False, compare=False)
    chain: tuple[x509.Certificate, ...] = ()
    source: str = ""

    def __repr__(self) -> str:
        return (
            f"SigningIdentity(subject={self.certificate.subject.rfc4514_string()!r}, "
            f"source={self.source!r}, private_key=<hidden>)"
        )

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SigningIdentity holds a private key and cannot be pickled")

    @property
    def emails(self) -> list[str]:
        """The email addresses the signing certificate is issued to."""
        return certificate_emails(self.certificate)

    def summary(self) -> CertificateSummary:
        return CertificateSummary.of(self.certificate)


def _read_passphrase(passphrase_env: str, prompt: Callable[[str], str] | None, source: str) -> bytes:
    value = os.environ.get(passphrase_env)
    if not value and prompt is not None:
        value = prompt(f"Passphrase for the signing identity {source}: ")
    if not value:
        raise ConfigurationError(
            f"No passphrase for the signing identity {source}: set the environment variable "
            f"{passphrase_env} or run interactively so that it can be asked for."
        )
    return value.encode("utf-8")


def _load_pkcs12(data: bytes, passphrase: Callable[[], bytes], source: str) -> SigningIdentity:
    for no_password in (None, b""):
        try:
            pkcs12.load_key_and_certificates(data, no_password)
        except ValueError:
            continue  # needs a password: that is what we want
        raise CertificateError(
            f"The signing identity {source} is not protected by a passphrase. Export it again "
            "with a passphrase (at least 16 characters) and store only the protected file."
        )
    secret = passphrase()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        raise CertificateError(
            f"Cannot open the signing identity {source}: the passphrase is wrong or the file "
            "is not a PKCS#12 file. Check the passphrase variable and the file."
        ) from None
    if key is None or cert is None:
        raise CertificateError(
            f"The signing identity {source} must hold both a private key and its certificate."
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"The signing key in {source} must be RSA or EC.")
    return SigningIdentity(cert, key, tuple(extra), source)


def _pem_blocks(text: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("-----BEGIN "):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.startswith("-----END "):
                blocks.append("\n".join(current) + "\n")
                current = None
    return blocks


def _load_pem(data: bytes, passphrase: Callable[[], bytes], source: str) -> SigningIdentity:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise CertificateError(f"The signing identity {source} is not a PEM text file.") from None
    blocks = _pem_blocks(text)
    key_blocks = [b for b in blocks if "PRIVATE KEY-----" in b.splitlines()[0]]
    cert_blocks = [b for b in blocks if b.startswith("-----BEGIN CERTIFICATE-----")]
    if len(key_blocks) != 1 or not cert_blocks:
        raise CertificateError(
            f"The signing identity {source} must hold exactly one encrypted private key and its "
            f"certificate (found {len(key_blocks)} keys and {len(cert_blocks)} certificates)."
        )
    key_block = key_blocks[0]
    encrypted = key_block.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") or (
        "Proc-Type: 4,ENCRYPTED" in key_block
    )
    if not encrypted:
        raise CertificateError(
            f"The private key in {source} is not encrypted. Encrypt it (for example "
            "`openssl pkcs8 -topk8 -v2 aes-256-cbc`) or export a PKCS#12 file with a passphrase."
        )
    secret = passphrase()
    try:
        key = serialization.load_pem_private_key(key_block.encode("ascii"), secret)
    except (ValueError, TypeError):
        raise CertificateError(
            f"Cannot open the private key in {source}: the passphrase is wrong or the key is "
            "damaged. Check the passphrase variable and the file."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"The signing key in {source} must be RSA or EC.")
    try:
        certs = [x509.load_pem_x509_certificate(b.encode("ascii")) for b in cert_blocks]
    except ValueError:
        raise CertificateError(f"A certificate in {source} cannot be read.") from None
    matching = [c for c in certs if c.public_key() == key.public_key()]
    if not matching:
        raise CertificateError(
            f"None of the certificates in {source} belongs to its private key; put the signing "
            "certificate in the same file as its key."
        )
    leaf = matching[0]
    return SigningIdentity(leaf, key, tuple(c for c in certs if c is not leaf), source)


def load_signing_identity(
    path: Path | str,
    passphrase_env: str = DEFAULT_PASSPHRASE_ENV,
    prompt: Callable[[str], str] | None = None,
) -> SigningIdentity:
    """Load the authority's signing identity from a PKCS#12 or PEM file.

    The passphrase is read from ``passphrase_env``; if that is unset or empty, ``prompt`` is
    called with a question (use ``getpass.getpass``). Raises :class:`ConfigurationError` when no
    passphrase is available and :class:`CertificateError` for anything wrong with the file.
    """
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(
            f"Cannot read the signing identity {source}: {exc.strerror or exc}."
        ) from None

    def passphrase() -> bytes:
        return _read_passphrase(passphrase_env, prompt, source)

    suffix = path.suffix.lower()
    if suffix in _PKCS12_SUFFIXES:
        identity = _load_pkcs12(data, passphrase, source)
    elif suffix in _PEM_SUFFIXES:
        identity = _load_pem(data, passphrase, source)
    else:
        raise CertificateError(
            f"The signing identity {source} must be a .p12, .pfx or .pem file."
        )
    return identity


def check_signing_identity(identity: SigningIdentity, *, at: datetime) -> None:
    """Refuse a signing certificate that is out of date or not meant for signing email."""
    cert = identity.certificate
    where = f"The authority's signing certificate ({identity.source or 'signing identity'})"
    if at < cert.not_valid_before_utc:
        raise CertificateError(
            f"{where} is not valid until {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC."
        )
    if at > cert.not_valid_after_utc:
        raise CertificateError(
            f"{where} expired on {cert.not_valid_after_utc:%Y-%m-%d}; install the renewed identity."
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise CertificateError(f"{where} does not allow digital signatures (key usage).")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and not {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    } & set(eku):
        raise CertificateError(f"{where} is not issued for email protection (extended key usage).")
