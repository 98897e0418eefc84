"""The recipient directory: professionals' certificates, checked at import and before every send."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.certificates import CertificateSummary, check_recipient_certificate, load_certificate
from distribution.errors import CertificateError
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm import Professional
from docgen.adapters.orm_directory import RecipientCertificate
from docgen.errors import NotFoundError
from docgen.services.runtime import Runtime


def _professional(session: Session, key: str) -> Professional:
    person = session.scalar(select(Professional).where(Professional.key == key))
    if person is None:
        raise NotFoundError(f"no professional {key!r} is in the directory; import a case file that names them first")
    return person


def import_certificate(runtime: Runtime, professional_key: str, path: Path, *,
                       ca_certificates: list[x509.Certificate] | None = None) -> CertificateSummary:
    """Check a professional's certificate (PEM or DER) and add it to the directory."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"{path}: cannot be read: {exc.strerror}") from None
    return import_certificate_bytes(runtime, professional_key, data, source=str(path), ca_certificates=ca_certificates)


def import_certificate_bytes(runtime: Runtime, professional_key: str, data: bytes, *, source: str,
                             ca_certificates: list[x509.Certificate] | None = None) -> CertificateSummary:
    """:func:`import_certificate` for a certificate already read (an upload); ``source`` names it in
    messages and in the directory."""
    certificate = load_certificate(data, source=source)
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        person = _professional(session, professional_key)
        summary = check_recipient_certificate(certificate, email=person.email, at=now, ca_certificates=ca_certificates)
        fingerprint = summary.sha256_fingerprint.replace(":", "").lower()
        existing = session.scalar(select(RecipientCertificate).where(RecipientCertificate.fingerprint_sha256 == fingerprint))
        if existing is None:
            session.add(RecipientCertificate(
                professional=person, pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                fingerprint_sha256=fingerprint, subject=summary.subject[:500],
                not_before=certificate.not_valid_before_utc.replace(tzinfo=None),
                not_after=certificate.not_valid_after_utc.replace(tzinfo=None),
                source=source[:500], imported_at=now.replace(tzinfo=None)))
    return summary


def certificate_for(session: Session, professional_key: str, *, at: datetime,
                    ca_certificates: list[x509.Certificate] | None = None) -> x509.Certificate:
    """The professional's newest certificate, checked again now; CertificateError if none passes."""
    person = _professional(session, professional_key)
    rows = session.scalars(select(RecipientCertificate).where(RecipientCertificate.professional_id == person.id)
                           .order_by(RecipientCertificate.not_after.desc())).all()
    if not rows:
        raise CertificateError(
            f"{person.name} ({person.email}) has no certificate in the directory; nothing was sent to them. "
            f"Import one with: docgen certificate import {person.key} FILE")
    problems = []
    for row in rows:
        certificate = load_certificate(row.pem.encode("ascii"), source=f"directory certificate {row.fingerprint_sha256[:16]}")
        try:
            check_recipient_certificate(certificate, email=person.email, at=at, ca_certificates=ca_certificates)
            return certificate
        except CertificateError as exc:
            problems.append(str(exc))
    raise CertificateError(f"no usable certificate for {person.name}; nothing was sent to them: " + "; ".join(problems))
