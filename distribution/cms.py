"""S/MIME for partner agencies: sign a document with the authority's key, then encrypt it to them.

The layers, from the inside out, are what standard mail clients and ``openssl cms`` expect:

1. the document as a single MIME part, ``Content-Disposition: attachment``, base64, CRLF lines;
2. that part clear-signed: ``multipart/signed; protocol="application/x-pkcs7-signature";
   micalg="sha-256"`` (detached CMS SignedData, SHA-256, signer certificate and chain included);
3. the signed entity enveloped with CMS EnvelopedData, AES-256-CBC content encryption and RSA
   key transport to every recipient certificate (``cryptography`` 50 offers AES-128-CBC and
   AES-256-CBC; OpenSSL 3.0 and every S/MIME client decrypt AES-256-CBC);
4. an RFC 5322 message whose body is that EnvelopedData: ``application/pkcs7-mime;
   smime-type=enveloped-data; name=smime.p7m``.

Only the outer headers (From, To, Subject, Date, Message-ID) travel in clear: the subject must
not identify a child or family. Nothing unencrypted is ever returned.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from distribution.certificates import certificate_emails
from distribution.errors import CertificateError, EncryptionError
from distribution.keys import SigningIdentity

# DER encodings of the object identifiers the output must contain, checked after encryption.
_OID_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")  # 1.2.840.113549.1.7.3
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
_BASE64_LINE = 64
_FILENAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class SecureMessage:
    """A signed and encrypted message, ready for a transport, and its fingerprints."""

    message: bytes = field(repr=False)
    """The complete RFC 5322 message (CRLF line endings)."""
    p7m: bytes = field(repr=False)
    """The CMS EnvelopedData alone, DER encoded (what ``smime.p7m`` holds)."""
    message_id: str
    plaintext_sha256: str
    """SHA-256 (hex) of the document before signing and encryption."""
    ciphertext_sha256: str
    """SHA-256 (hex) of :attr:`p7m`."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _base64_lines(data: bytes) -> bytes:
    # 64-character lines: what OpenSSL writes and what `openssl base64 -d` reads without -A.
    text = base64.b64encode(data)
    return b"".join(text[i : i + _BASE64_LINE] + b"\r\n" for i in range(0, len(text), _BASE64_LINE))


def _check_filename(filename: str) -> None:
    if not filename or _FILENAME_FORBIDDEN.search(filename) or filename in {".", ".."}:
        raise EncryptionError(
            f"The attachment name {filename!r} is not a plain file name (no folders or control "
            "characters allowed)."
        )


def _attachment_part(document: bytes, filename: str, content_type: str) -> bytes:
    """The document as one MIME entity with CRLF line endings, as it will be signed."""
    _check_filename(filename)
    maintype, _, subtype = content_type.partition("/")
    if not maintype or not subtype or any(c in content_type for c in ";\r\n "):
        raise EncryptionError(f"The content type {content_type!r} is not a plain type/subtype.")
    part = MIMEPart(policy=email_policy.SMTP)
    part["Content-Type"] = content_type
    part.set_param("name", filename)
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = "attachment"
    part.set_param("filename", filename, header="Content-Disposition")
    head = part.as_bytes(policy=email_policy.SMTP).split(b"\r\n\r\n", 1)[0]
    return head + b"\r\n\r\n" + _base64_lines(document)


def _sign(entity: bytes, signer: SigningIdentity) -> bytes:
    builder = pkcs7.PKCS7SignatureBuilder().set_data(entity)
    builder = builder.add_signer(signer.certificate, signer.private_key, hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    # Binary: the entity is already canonical (CRLF); nothing may rewrite it after hashing.
    return builder.sign(
        serialization.Encoding.SMIME,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )


def _envelope(content: bytes, recipients: Sequence[x509.Certificate]) -> bytes:
    if not recipients:
        raise EncryptionError("There is no recipient certificate to encrypt to; nothing was sent.")
    builder = pkcs7.PKCS7EnvelopeBuilder().set_data(content)
    for cert in recipients:
        if not isinstance(cert.public_key(), rsa.RSAPublicKey):
            raise CertificateError(
                f"The certificate {cert.subject.rfc4514_string()} does not have an RSA key; "
                "documents can only be encrypted to RSA certificates."
            )
        builder = builder.add_recipient(cert)
    builder = builder.set_content_encryption_algorithm(algorithms.AES256)
    try:
        der = builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    except (ValueError, TypeError) as exc:
        raise EncryptionError(f"Encryption failed ({exc}); nothing was sent.") from None
    _check_enveloped(der, content)
    return der


def _check_enveloped(der: bytes, plaintext: bytes) -> None:
    """Fail closed unless ``der`` is AES-256 EnvelopedData that does not contain the plaintext."""
    head = der[:32]
    if _OID_ENVELOPED_DATA not in head or _OID_AES256_CBC not in der:
        raise EncryptionError("The encrypted output is not AES-256 CMS EnvelopedData; nothing was sent.")
    probe = plaintext[-64:] if len(plaintext) >= 64 else plaintext
    if probe and probe in der:
        raise EncryptionError("The encrypted output contains plaintext; nothing was sent.")


def _domain_of(address: str) -> str:
    domain = address.rpartition("@")[2]
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain or "") else "docgen.invalid"


def new_message_id(sender: str) -> str:
    """A globally unique Message-ID in the sender's domain, angle brackets included."""
    return f"<{uuid.uuid4().hex}@{_domain_of(sender)}>"


def _outer_message(
    p7m: bytes, *, subject: str, sender: str, to: Sequence[str], at: datetime, message_id: str
) -> bytes:
    msg = EmailMessage(policy=email_policy.SMTP)
    try:
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(at)
        msg["Message-ID"] = message_id
    except (ValueError, TypeError) as exc:
        raise EncryptionError(f"A message header is not valid ({exc}); nothing was sent.") from None
    head = msg.as_bytes(policy=email_policy.SMTP).split(b"\r\n\r\n", 1)[0]
    # Written literally, in the form OpenSSL and the major mail clients produce.
    mime = (
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
    )
    return head + b"\r\n" + mime + b"\r\n" + _base64_lines(p7m)


def sign_and_encrypt(
    document: bytes,
    *,
    filename: str,
    content_type: str,
    signer: SigningIdentity,
    recipients: list[x509.Certificate],
    subject: str,
    sender: str,
    to: str | Sequence[str],
    at: datetime | None = None,
    message_id: str | None = None,
) -> SecureMessage:
    """Sign ``document`` as the authority and encrypt it to ``recipients`` as an S/MIME email.

    ``sender`` must be an address in the signing certificate, or mail clients would flag the
    signature. ``at`` (default: now) is the Date header; ``message_id`` (default: a new one)
    lets a retried send keep the same Message-ID. Check recipient certificates with
    :func:`distribution.certificates.check_recipient_certificate` first.
    """
    to_list = [to] if isinstance(to, str) else list(to)
    if not to_list:
        raise EncryptionError("The message has no To address; nothing was sent.")
    sender_address = parseaddr(sender)[1]
    signer_emails = {e.casefold() for e in certificate_emails(signer.certificate)}
    if not sender_address or sender_address.casefold() not in signer_emails:
        raise CertificateError(
            f"The sender address {sender_address or sender} is not in the authority's signing certificate "
            f"({', '.join(sorted(signer_emails)) or 'no address'}); recipients' mail clients "
            "would show the signature as not matching. Send from the certificate's address."
        )
    entity = _attachment_part(document, filename, content_type)
    try:
        signed = _sign(entity, signer)
    except (ValueError, TypeError) as exc:
        raise EncryptionError(f"Signing failed ({exc}); nothing was sent.") from None
    p7m = _envelope(signed, recipients)
    when = at if at is not None else datetime.now(UTC)
    mid = message_id if message_id is not None else new_message_id(sender_address)
    message = _outer_message(p7m, subject=subject, sender=sender, to=to_list, at=when, message_id=mid)
    return SecureMessage(
        message=message,
        p7m=p7m,
        message_id=mid,
        plaintext_sha256=_sha256(document),
        ciphertext_sha256=_sha256(p7m),
    )


def encrypt_for_archive(document: bytes, archive_cert: x509.Certificate) -> bytes:
    """Encrypt ``document`` (as is, no MIME) to the authority's archive certificate: CMS DER.

    Decrypt with ``openssl cms -decrypt -binary -inform DER -in copy.p7m -recip archive.pem
    -inkey archive.key -out document.pdf``.
    """
    return _envelope(document, [archive_cert])
