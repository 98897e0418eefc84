"""The work the benchmark times as "a pack": every copy of every document in PDF and DOCX, with
family copies redacted and verified and the manifest written (``build_pack``), then every PDF made
ready for its recipients: each professional copy signed and encrypted (S/MIME) once for each
professional who receives it, each family copy protected with its own passphrase.

The delivery step works on the pack's own PDFs. Real delivery (``docgen.services.delivery``) also
stamps each copy with a "Copy for" line for its recipient, records it and archives it; that is
the end-to-end figure (``bench/endtoend.py``), not this one. Who receives which copy is fixed here (``professional_recipients``,
the rule of ``recipients_for`` in docgen.services.delivery at commit 46412f7), so the amount of
work timed stays the same while the delivery code changes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from distribution.cms import sign_and_encrypt
from distribution.demo_pki import create_demo_pki
from distribution.keys import SigningIdentity, load_signing_identity
from distribution.pdf_protection import new_passphrase, protect_pdf
from docgen.adapters.copy_store import CopyStore
from docgen.domain.authority import Settings
from docgen.domain.documents import CopySpec, plan_copies
from docgen.services.pack import Artifact, build_pack

_PASSPHRASE_ENV = "DOCGEN_BENCH_SIGNING_PASSPHRASE"  # never set: the passphrase comes from the prompt below


@dataclass(frozen=True)
class Keys:
    """The authority's signing identity and every professional's certificate, made at run time."""

    signer: SigningIdentity
    certificates: dict[str, x509.Certificate]  # by email address


def make_keys(cases: list[dict[str, Any]], folder: Path, settings: Settings) -> Keys:
    """A throw-away PKI with a certificate for every professional of ``cases``."""
    passphrase = secrets.token_urlsafe(24)
    professionals = {p["email"]: (p["name"], p["email"]) for case in cases for p in case["professionals"]}
    pki = create_demo_pki(folder, at=datetime.now(UTC), signing_passphrase=passphrase,
                          authority_email=settings.authority.email, recipients=list(professionals.values()))
    signer = load_signing_identity(pki.signing_p12_path, passphrase_env=_PASSPHRASE_ENV, prompt=lambda _: passphrase)
    return Keys(signer, {email: issued.certificate for email, issued in pki.recipients.items()})


@dataclass(frozen=True)
class PackFigures:
    """What one pack held, to print beside its timing."""

    files: int
    pdf_pages: dict[str, int]  # by the PDF's path in the pack
    sealed_messages: int  # S/MIME messages, one per professional copy and recipient
    protected_copies: int  # passphrase-protected family PDFs
    build_s: float  # seconds in build_pack
    seal_s: float  # seconds signing, encrypting and protecting

    def pages_of(self, stem: str) -> int | None:
        return next((pages for path, pages in self.pdf_pages.items() if path.endswith(f"/{stem}.pdf")), None)


def make_pack(case: dict[str, Any], settings: Settings, keys: Keys, out_dir: Path, *, generated_on: date,
              store: CopyStore | None = None) -> PackFigures:
    """Build the pack into ``out_dir`` (which must not exist or be empty), then seal every PDF copy."""
    started = time.perf_counter()
    artifacts = build_pack(case, settings, out_dir, generated_on=generated_on, store=store)
    built = time.perf_counter()
    sealed, protected = deliverable_copies(case, settings, keys, out_dir)
    return PackFigures(len(artifacts), _pages(artifacts), sealed, protected, built - started, time.perf_counter() - built)


def deliverable_copies(case: dict[str, Any], settings: Settings, keys: Keys, pack_dir: Path) -> tuple[int, int]:
    """Sign and encrypt each professional PDF for each of its recipients, and protect each family
    PDF for its reader; returns how many of each were made (the results are thrown away)."""
    sealed = protected = 0
    sender = settings.authority.email
    at = datetime.now(UTC)
    for copy_spec in plan_copies(case):
        pdf = (pack_dir / copy_spec.kind.family / f"{copy_spec.stem}.pdf").read_bytes()
        if copy_spec.audience.is_family_copy:  # one reader, by email, post or by hand
            protect_pdf(pdf, new_passphrase())
            protected += 1
            continue
        for address in professional_recipients(case, copy_spec):
            sign_and_encrypt(pdf, filename=f"{copy_spec.kind.key}.pdf", content_type="application/pdf", signer=keys.signer,
                             recipients=[keys.certificates[address]], subject=f"Conference document {case['reference']}",
                             sender=sender, to=address, at=at)
            sealed += 1
    return sealed, protected


COPIES_FOR_EVERY_PROFESSIONAL = {"social_worker_report", "agency_report", "conference_record", "decisions_notice",
                                 "outline_plan", "discharge_notification"}


def professional_recipients(case: dict[str, Any], copy_spec: CopySpec) -> list[str]:
    """Email addresses a professional copy goes to: reports, the record, decisions and plans to
    the chair and every invited professional; the guidance for professionals to every invited
    professional, as it goes with their invitations; a letter or form to the professional it is for."""
    emails = {p["id"]: p["email"] for p in case["professionals"]}
    if copy_spec.kind.key == "professional_guidance":
        return [emails[i["invitee"]] for i in case["invitations"] if i["invitee"] in emails]
    if copy_spec.kind.key in COPIES_FOR_EVERY_PROFESSIONAL:
        keys = [case["conference"]["chair"], *(i["invitee"] for i in case["invitations"] if i["invitee"] in emails)]
        return [emails[key] for key in dict.fromkeys(keys)]
    assert copy_spec.recipient is not None
    return [emails[copy_spec.recipient]]


def _pages(artifacts: list[Artifact]) -> dict[str, int]:
    return {a.path: a.pages for a in artifacts if a.format == "pdf" and a.pages is not None}
