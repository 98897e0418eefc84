"""A throw-away public key infrastructure made at run time, for tests and ``docgen demo``.

Nothing here is for production: keys are 2048-bit RSA so tests stay fast, recipient keys are
written unencrypted (mode 0600) so that ``openssl cms -decrypt -inkey`` can read them, and every
certificate is issued by one demo CA. Bad certificates (expired, not yet valid, wrong key usage,
wrong email) can be issued deliberately to exercise the checks in
:mod:`distribution.certificates`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_KEY_SIZE = 2048
_DEFAULT_LIFETIME = timedelta(days=365)
_BACKDATE = timedelta(hours=1)


@dataclass(frozen=True)
class KeyUsageFlags:
    """Which X.509 key usage bits a demo end-entity certificate carries."""

    digital_signature: bool = True
    content_commitment: bool = False
    key_encipherment: bool = True

    def extension(self) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=self.digital_signature,
            content_commitment=self.content_commitment,
            key_encipherment=self.key_encipherment,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )


RECIPIENT_USAGE = KeyUsageFlags(digital_signature=True, key_encipherment=True)
SIGNING_USAGE = KeyUsageFlags(digital_signature=True, content_commitment=True, key_encipherment=False)
SIGNATURE_ONLY_USAGE = KeyUsageFlags(digital_signature=True, key_encipherment=False)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate, its private key and where both were written."""

    name: str
    email: str
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey = field(repr=False)
    cert_path: Path
    key_path: Path | None
    """Unencrypted PEM key (mode 0600), or ``None`` when the key was not written out."""


@dataclass(frozen=True)
class DemoCertificateAuthority:
    """The demo CA: it issues every other demo certificate."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey = field(repr=False)
    cert_path: Path


@dataclass(frozen=True)
class DemoPki:
    """Everything :func:`create_demo_pki` made, by role."""

    folder: Path
    ca: DemoCertificateAuthority
    signing: IssuedCertificate
    signing_p12_path: Path
    archive: IssuedCertificate
    recipients: dict[str, IssuedCertificate]
    """Recipient certificates keyed by email address."""


def _write_public(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _write_private(path: Path, data: bytes) -> Path:
    """Write a file only its owner can read, even if it already existed with wider rights."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    return path


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _unencrypted_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=DEMO_KEY_SIZE)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "recipient"


def create_certificate_authority(folder: Path, *, at: datetime, name: str = "Docgen Demo CA") -> DemoCertificateAuthority:
    """Make a self-signed CA certificate valid from just before ``at`` for ten years."""
    key = _new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Docgen Demo Authority"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - _BACKDATE)
        .not_valid_after(at + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = _write_public(folder / "authority-ca.pem", _pem(cert))
    return DemoCertificateAuthority(certificate=cert, private_key=key, cert_path=path)


def _leaf_builder(
    ca: DemoCertificateAuthority,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )


def issue_email_certificate(
    ca: DemoCertificateAuthority,
    folder: Path,
    *,
    name: str,
    email: str,
    at: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    usage: KeyUsageFlags = RECIPIENT_USAGE,
    san_email: str | None = None,
    file_stem: str | None = None,
    write_key: bool = True,
) -> IssuedCertificate:
    """Issue an S/MIME certificate for ``email`` and write ``<stem>.cert.pem`` and ``<stem>.key.pem``.

    ``san_email`` puts a different address in the certificate (to make a wrong-email
    certificate); the validity window defaults to one hour before ``at`` until a year after.
    """
    key = _new_key()
    in_cert = san_email if san_email is not None else email
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        _leaf_builder(
            ca,
            subject,
            key,
            not_before if not_before is not None else at - _BACKDATE,
            not_after if not_after is not None else at + _DEFAULT_LIFETIME,
        )
        .add_extension(usage.extension(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(in_cert)]), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )
    stem = file_stem or _slug(email)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = _write_public(folder / f"{stem}.cert.pem", _pem(cert))
    key_path = _write_private(folder / f"{stem}.key.pem", _unencrypted_pem(key)) if write_key else None
    return IssuedCertificate(name, email, cert, key, cert_path, key_path)


def issue_server_certificate(
    ca: DemoCertificateAuthority,
    folder: Path,
    *,
    at: datetime,
    hostname: str = "localhost",
    ip_addresses: Sequence[str] = ("127.0.0.1",),
) -> IssuedCertificate:
    """Issue a TLS server certificate for ``hostname`` and ``ip_addresses`` (a loopback SMTP server)."""
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    cert = (
        _leaf_builder(ca, subject, key, at - _BACKDATE, at + _DEFAULT_LIFETIME)
        .add_extension(
            KeyUsageFlags(digital_signature=True, key_encipherment=True).extension(), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses)]
            ),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    stem = f"server-{_slug(hostname)}"
    cert_path = _write_public(folder / f"{stem}.cert.pem", _pem(cert))
    key_path = _write_private(folder / f"{stem}.key.pem", _unencrypted_pem(key))
    return IssuedCertificate(hostname, "", cert, key, cert_path, key_path)


def write_pkcs12(
    path: Path, issued: IssuedCertificate, ca: DemoCertificateAuthority, passphrase: str
) -> Path:
    """Write key, certificate and CA as PKCS#12 (AES-256, PBKDF2, HMAC-SHA256), mode 0600."""
    if not passphrase:
        raise ValueError("a PKCS#12 file needs a non-empty passphrase")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(200_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase.encode("utf-8"))
    )
    data = pkcs12.serialize_key_and_certificates(
        issued.name.encode("utf-8"), issued.private_key, issued.certificate, [ca.certificate], encryption
    )
    return _write_private(path, data)


def create_demo_pki(
    folder: Path,
    *,
    at: datetime,
    signing_passphrase: str,
    authority_email: str = "cp-conferences@authority.example.gov.uk",
    archive_email: str = "cp-archive@authority.example.gov.uk",
    recipients: Sequence[tuple[str, str]] = (),
    lifetime: timedelta = _DEFAULT_LIFETIME,
) -> DemoPki:
    """Make a CA, the authority's signing identity, an archive certificate and recipients.

    The signing identity is saved as ``authority-signing.p12`` protected by
    ``signing_passphrase`` (mode 0600). ``recipients`` are ``(name, email)`` pairs. Every certificate
    but the CA's is valid from an hour before ``at`` for ``lifetime`` (the CA's for ten years).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca = create_certificate_authority(folder, at=at)
    signing = issue_email_certificate(
        ca,
        folder,
        name="Child Protection Conference Service",
        email=authority_email,
        at=at,
        usage=SIGNING_USAGE,
        file_stem="authority-signing",
        write_key=False,
        not_after=at + lifetime,
    )
    p12_path = write_pkcs12(folder / "authority-signing.p12", signing, ca, signing_passphrase)
    archive = issue_email_certificate(
        ca, folder, name="Conference Records Archive", email=archive_email, at=at, file_stem="archive",
        not_after=at + lifetime,
    )
    issued = {
        email: issue_email_certificate(ca, folder, name=name, email=email, at=at, not_after=at + lifetime)
        for name, email in recipients
    }
    return DemoPki(folder, ca, signing, p12_path, archive, issued)


def make_expired_certificate(
    ca: DemoCertificateAuthority, folder: Path, *, name: str, email: str, at: datetime
) -> IssuedCertificate:
    """A recipient certificate that expired a day before ``at``."""
    return issue_email_certificate(
        ca, folder, name=name, email=email, at=at,
        not_before=at - timedelta(days=400), not_after=at - timedelta(days=1),
        file_stem=f"expired-{_slug(email)}",
    )


def make_not_yet_valid_certificate(
    ca: DemoCertificateAuthority, folder: Path, *, name: str, email: str, at: datetime
) -> IssuedCertificate:
    """A recipient certificate that only becomes valid ten days after ``at``."""
    return issue_email_certificate(
        ca, folder, name=name, email=email, at=at,
        not_before=at + timedelta(days=10), not_after=at + timedelta(days=400),
        file_stem=f"future-{_slug(email)}",
    )


def make_wrong_key_usage_certificate(
    ca: DemoCertificateAuthority, folder: Path, *, name: str, email: str, at: datetime
) -> IssuedCertificate:
    """A certificate that may sign but not be encrypted to (no keyEncipherment)."""
    return issue_email_certificate(
        ca, folder, name=name, email=email, at=at, usage=SIGNATURE_ONLY_USAGE,
        file_stem=f"sign-only-{_slug(email)}",
    )


def make_wrong_email_certificate(
    ca: DemoCertificateAuthority, folder: Path, *, name: str, email: str, wrong_email: str, at: datetime
) -> IssuedCertificate:
    """A certificate for ``wrong_email``, to be offered as if it belonged to ``email``."""
    return issue_email_certificate(
        ca, folder, name=name, email=email, at=at, san_email=wrong_email,
        file_stem=f"wrong-email-{_slug(email)}",
    )
