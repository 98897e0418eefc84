"""A conference's recipients as business support sees them: each professional with the certificate
on file for them, and a professional's certificate uploaded from the web page, checked as the
command line checks it (``docgen certificate import``) and recorded with who uploaded it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from sqlalchemy import select

from distribution.certificates import CertificateSummary, load_certificates
from distribution.errors import CertificateError
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm import Professional
from docgen.adapters.orm_directory import RecipientCertificate
from docgen.configuration.scheduler import load_scheduler_settings
from docgen.errors import ConfigurationError, NotFoundError
from docgen.services.audit_trail import record_event
from docgen.services.directory import import_certificate_bytes
from docgen.services.importing import stored_version
from docgen.services.runtime import Runtime

#: An encryption certificate is a few kilobytes; anything much larger is not one.
MAX_CERTIFICATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class CertificateOnFile:
    subject: str
    not_after: datetime  # UTC
    expired: bool


@dataclass(frozen=True)
class Recipient:
    """A professional of the conference and the newest certificate the directory holds for them."""

    index: int  # their place in the conference's professionals: what a form names them by
    key: str
    name: str
    role: str
    email: str
    certificate: CertificateOnFile | None


def conference_recipients(runtime: Runtime, reference: str) -> list[Recipient]:
    """Each professional of the conference's newest version, with their certificate on file, if any."""
    case = stored_version(runtime, reference).case
    now = runtime.clock().astimezone(UTC).replace(tzinfo=None)
    keys = [p["id"] for p in case["professionals"]]
    newest: dict[str, RecipientCertificate] = {}
    with unit_of_work(runtime.sessions) as session:
        rows = session.execute(select(Professional.key, RecipientCertificate).join(
            RecipientCertificate, RecipientCertificate.professional_id == Professional.id)
            .where(Professional.key.in_(keys)).order_by(RecipientCertificate.not_after))
        for key, row in rows:
            newest[key] = row  # the one valid longest comes last
    recipients = []
    for index, person in enumerate(case["professionals"]):
        found = newest.get(person["id"])
        on_file = CertificateOnFile(found.subject, found.not_after, found.not_after < now) if found else None
        recipients.append(Recipient(index, person["id"], person["name"], person.get("role", ""),
                                    person.get("email", ""), on_file))
    return recipients


def trust_anchors(config_dir: Path | None = None) -> list[x509.Certificate] | None:
    """The CA certificates partner agencies' certificates must chain to: the scheduler's ``ca_bundle``
    (``DOCGEN_CA_BUNDLE``), the same anchors every send is checked against; None when not configured."""
    bundle = load_scheduler_settings(config_dir).ca_bundle
    if bundle is None:
        return None
    try:
        return load_certificates(bundle.read_bytes(), source=str(bundle))
    except OSError as exc:
        raise ConfigurationError(f"cannot read the CA bundle {bundle}: {exc.strerror}") from None


def upload_certificate(runtime: Runtime, reference: str, index: int, data: bytes, *, actor: str,
                       ca_certificates: list[x509.Certificate] | None) -> tuple[Recipient, CertificateSummary]:
    """Check the uploaded certificate of the conference's ``index``-th professional and add it to the
    directory; ``CertificateError`` says why it was refused (unreadable, expired, another address,
    not trusted). Recorded in the audit trail with ``actor`` either way."""
    recipients = conference_recipients(runtime, reference)
    if not 0 <= index < len(recipients):
        raise NotFoundError(f"conference {reference} has no professional {index}")
    person = recipients[index]
    if not data:
        raise CertificateError("The file is empty; choose the certificate file the agency sent.")
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(f"The file is {len(data) // 1024} KB; a certificate is at most "
                               f"{MAX_CERTIFICATE_BYTES // 1024} KB. Choose the certificate file the agency sent.")
    try:
        summary = import_certificate_bytes(runtime, person.key, data, source="The uploaded file",
                                           ca_certificates=ca_certificates)
    except CertificateError as error:
        record_event(runtime, "certificate_refused", actor=actor, reference=reference, subject=person.key,
                     details={"reason": str(error)[:300]})
        raise
    record_event(runtime, "certificate_imported", actor=actor, reference=reference, subject=person.key,
                 details={"sha256": summary.sha256_fingerprint, "subject": summary.subject[:200],
                          "not_after": summary.not_after.isoformat()})
    return person, summary
