"""The demo: the example conference imported, its pack written, approved by the chair, and sent
encrypted through the outbox folder, with keys and certificates made on the spot."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from distribution.demo_pki import create_demo_pki
from distribution.keys import load_signing_identity
from distribution.transports import OutboxFolderTransport
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.bootstrap import Runtime, bootstrap
from docgen.documents import plan_jobs
from docgen.services import approval
from docgen.services.delivery import DeliveryContext, Outcome, deliver_conference
from docgen.services.directory import import_certificate
from docgen.services.importing import import_case_file, stored_case
from docgen.services.pack import Artifact, build_pack

PASSPHRASE_ENV = "DOCGEN_SIGNING_PASSPHRASE"


@dataclass
class DemoResult:
    folder: Path
    references: list[str]
    artifacts: dict[str, list[Artifact]]
    outcomes: list[Outcome]
    example_message: Path | None
    example_recipient_cert: Path | None
    example_recipient_key: Path | None
    ca_cert: Path


def run_demo(out: Path, examples: list[Path]) -> DemoResult:
    """Import each example conference, write its pack, and send it; the first example's agency
    messages are the ones the printed openssl commands open."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    runtime = bootstrap(f"sqlite:///{out / 'docgen.sqlite3'}")
    cases = [stored_case(runtime, import_case_file(runtime, example)[0]) for example in examples]
    artifacts = {case["reference"]: build_pack(case, runtime.settings, out / "pack" / case["reference"],
                                               generated_on=runtime.clock().date()) for case in cases}
    for reference, made in artifacts.items():
        approval.record_event(runtime, "generated", actor="docgen demo", reference=reference,
                              subject=str(out / "pack" / reference), details={"files": len(made)})
    case = cases[0]

    # The demo's keys are made now and never leave out/; the signing passphrase comes from the
    # environment, or is made up for this run only and never printed.
    passphrase = os.environ.get(PASSPHRASE_ENV) or secrets.token_urlsafe(24)
    professionals = list({p["email"]: (p["name"], p["email"]) for c in cases for p in c["professionals"]}.values())
    pki = create_demo_pki(out / "keys", at=runtime.clock(), signing_passphrase=passphrase,
                          authority_email=runtime.settings.authority.email, recipients=professionals)
    for person in {p["id"]: p for c in cases for p in c["professionals"]}.values():
        import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                           ca_certificates=[pki.ca.certificate])
    for each in cases:
        _approve_family_copies(runtime, each, each["conference"]["chair"])
    (out / "outbox").mkdir()
    context = DeliveryContext(
        runtime=runtime, transport=OutboxFolderTransport(out / "outbox"),
        signer=load_signing_identity(pki.signing_p12_path, passphrase_env=PASSPHRASE_ENV, prompt=lambda _: passphrase),
        archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate], folder=out / "delivery",
        release_check=lambda reference, job, data: approval.check_release_of(
            runtime, reference, job, data, case=next(c for c in cases if c["reference"] == reference)),
        sender_address=runtime.settings.authority.email)
    outcomes = [outcome for each in cases for outcome in deliver_conference(context, each)]
    _write_deliveries(runtime, out / "deliveries.json", outcomes)
    example = next((o for o in outcomes if o.channel == "smime" and o.status == "sent"
                    and o.job.kind.key == "conference_record"), None)
    message = cert = key = None
    if example is not None:
        issued = next(i for i in pki.recipients.values() if i.email == example.recipient.address)
        message = out / "outbox" / f"{example.key}.eml"
        cert, key = issued.cert_path, issued.key_path
    return DemoResult(out, [c["reference"] for c in cases], artifacts, outcomes, message, cert, key, pki.ca.cert_path)


def _approve_family_copies(runtime: Runtime, case: dict, chair: str) -> None:
    """The chair reviews and approves each family member's copies (the demo plays the chair)."""
    people = {job.audience.person for job in plan_jobs(case) if job.audience.is_family_copy}
    for person in sorted(p for p in people if p):
        approval.approve(runtime, case["reference"], person, chair=chair, comment="Approved for the demo.")


def _write_deliveries(runtime: Runtime, path: Path, outcomes: list[Outcome]) -> None:
    """The delivery manifest: every document and recipient, with what was sent and its hashes."""
    with unit_of_work(runtime.sessions) as session:
        records = {r.idempotency_key: r for r in session.scalars(select(DeliveryRecord))}
    rows = []
    for o in outcomes:
        record = records.get(o.key)
        rows.append({"key": o.key, "document": o.job.stem, "kind": o.job.kind.key, "recipient": o.recipient.key,
                     "name": o.recipient.name, "address": o.recipient.address, "status": o.status, "channel": o.channel,
                     "detail": o.detail, "message_id": o.message_id,
                     "plaintext_sha256": record.plaintext_sha256 if record else None,
                     "ciphertext_sha256": record.ciphertext_sha256 if record else None})
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
