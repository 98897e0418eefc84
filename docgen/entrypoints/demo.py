"""The demo: the example conferences imported, their packs written, approved by the chair, and sent
encrypted by the scheduler through an outbox folder as each circulation window opens, on a clock
that runs from the first booking to the last deadline. Keys and certificates are made on the spot.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from distribution.demo_pki import create_demo_pki
from distribution.keys import load_signing_identity
from distribution.transports import HandDeliveryTransport, OutboxFolderTransport
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.copy_store import CopyStore
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_outbox import OutboxItemRow, to_item
from docgen.bootstrap import bootstrap
from docgen.configuration.circulation import CirculationConfig, load_rules
from docgen.configuration.folder import config_file
from docgen.domain.calendar import LONDON
from docgen.domain.documents import plan_copies
from docgen.domain.outbox import NOTICE_RULE, OutboxItem, message_token
from docgen.services import approval, review, risk
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.directory import import_certificate
from docgen.services.dispatch import Dispatcher, DispatchPolicy, PassReport
from docgen.services.importing import import_case_file, stored_case
from docgen.services.pack import Artifact, build_pack
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference

PASSPHRASE_ENV = "DOCGEN_SIGNING_PASSPHRASE"


class DemoClock:
    """The demo's clock: set by the demo as it moves from one event to the next."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DemoResult:
    folder: Path
    references: list[str]
    artifacts: dict[str, list[Artifact]]
    items: list[OutboxItem]
    passes: PassReport
    example_message: Path | None
    example_recipient_cert: Path | None
    example_recipient_key: Path | None
    ca_cert: Path
    flags_resolved: int = 0


def run_demo(out: Path, examples: list[Path]) -> DemoResult:
    """Import each example conference, write its pack, and let the scheduler send it; the first
    example's agency messages are the ones the printed openssl commands open."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rules = load_rules(config_file("circulation.toml"))
    first = validate_case(load_case_file(examples[0]), source=str(examples[0]))
    clock = DemoClock(_booked_at(first, rules))  # the demo starts the day the first conference is booked
    runtime = bootstrap(f"sqlite:///{out / 'docgen.sqlite3'}", clock=clock)
    runtime.copies = CopyStore(out / "copies")  # the demo's own, made from nothing on every run
    cases = [stored_case(runtime, import_case_file(runtime, example, actor="docgen demo")[0]) for example in examples]
    artifacts = {case["reference"]: build_pack(case, runtime.settings, out / "pack" / case["reference"],
                                               generated_on=clock.now.date(), store=runtime.copies) for case in cases}
    for reference, made in artifacts.items():
        approval.record_event(runtime, "generated", actor="docgen demo", reference=reference,
                              subject=str(out / "pack" / reference), details={"files": len(made)})

    # The demo's keys are made now and never leave out/; the signing passphrase comes from the
    # environment, or is made up for this run only and never printed.
    passphrase = os.environ.get(PASSPHRASE_ENV) or secrets.token_urlsafe(24)
    professionals = list({p["email"]: (p["name"], p["email"]) for c in cases for p in c["professionals"]}.values())
    pki = create_demo_pki(out / "keys", at=clock.now, signing_passphrase=passphrase,
                          authority_email=runtime.settings.authority.email, recipients=professionals)
    for person in {p["id"]: p for c in cases for p in c["professionals"]}.values():
        import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                           ca_certificates=[pki.ca.certificate])
    # The chair's review copies are read and discarded: no document in clear outside the pack.
    with tempfile.TemporaryDirectory(prefix="docgen-review-") as review_dir:
        resolved = sum(_approve_family_copies(runtime, each, each["conference"]["chair"], Path(review_dir))
                       for each in cases)
    # A flag the chair withholds saves a new version: schedule what was approved.
    cases = [stored_case(runtime, case["reference"]) for case in cases]

    sender = runtime.settings.authority.email
    messages = DocumentMessages(DeliveryContext(
        runtime=runtime, signer=load_signing_identity(pki.signing_p12_path, passphrase_env=PASSPHRASE_ENV,
                                                      prompt=lambda _: passphrase),
        archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate],
        folder=out / "delivery", sender_address=sender))
    (out / "outbox").mkdir()
    dispatcher = Dispatcher(
        runtime.sessions, OutboxFolderTransport(out / "outbox", clock=clock), build_message=messages.build,
        approval_gate=messages.approval_gate, on_sent=messages.record_sent,
        hand_delivery=HandDeliveryTransport(out / "delivery" / "for-hand-delivery", clock=clock),
        policy=DispatchPolicy(envelope_from=sender, business_support_address=sender, calendar=rules.calendar,
                              zone=rules.zone),
        clock=clock, rng=random.Random(0))
    passes = _run_timeline(runtime, clock, rules, cases, dispatcher)
    items = _all_items(runtime)
    _write_deliveries(runtime, out / "deliveries.json", items)

    example = next((i for i in items if i.state == "sent" and i.document == "conference_record"
                    and not i.family_copy and i.recipient_address), None)
    message = cert = key = None
    if example is not None:
        issued = next(i for i in pki.recipients.values() if i.email == example.recipient_address)
        message = out / "outbox" / f"{message_token(example.message_id)}.eml"
        cert, key = issued.cert_path, issued.key_path
    return DemoResult(out, [c["reference"] for c in cases], artifacts, items, passes, message, cert, key,
                      pki.ca.cert_path, resolved)


def _booked_at(case: dict[str, Any], rules: CirculationConfig) -> datetime:
    """09:00 on the working day after the strategy discussion (or a week before the conference)."""
    conference = case["conference"]
    if conference.get("strategy_discussion_on"):
        day = rules.calendar.add_working_days(date.fromisoformat(str(conference["strategy_discussion_on"])), 1)
    else:
        day = datetime.fromisoformat(str(conference["starts_at"])).date() - timedelta(days=7)
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


def _moments(cases: Sequence[Mapping[str, Any]], items: Iterable[OutboxItem], after: datetime) -> list[datetime]:
    """When something happens: reports arrive, conferences start and end, plans end, windows open."""
    found: set[datetime] = set()

    def add(value: Any, at: time = time(9, 0)) -> None:
        if not value:
            return
        text = str(value)
        moment = datetime.fromisoformat(text) if "T" in text else datetime.combine(date.fromisoformat(text), at)
        found.add(moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment)

    for case in cases:
        conference = case["conference"]
        add(conference["starts_at"])
        add(conference.get("ends_at"))
        for report in case["reports"]:
            add(report.get("received_on"))
        for discharge in case.get("discharge") or []:
            add(discharge["discharged_on"])
    for item in items:
        if item.not_before is not None:
            found.add(item.not_before)
    # A minute after each event, so what it made ready is due; and never before the demo started.
    return sorted(m + timedelta(minutes=1) for m in found if m + timedelta(minutes=1) > after)


def _run_timeline(runtime: Runtime, clock: DemoClock, rules: CirculationConfig, cases: Sequence[Mapping[str, Any]],
                  dispatcher: Dispatcher) -> PassReport:
    """Schedule the conferences, then move the clock from event to event, dispatching at each."""
    total = PassReport()
    sender = runtime.settings.authority.email
    moments = [clock.now]
    while moments:
        clock.now = moments.pop(0)
        with unit_of_work(runtime.sessions) as session:
            for case in cases:
                schedule_conference(session, case, rules, now=clock.now, envelope_from=sender)
        total.add(dispatcher.drain())
        if not moments:
            moments = _moments(cases, _all_items(runtime), after=clock.now)
            moments = [m for m in moments if m > clock.now]
            if not moments:
                break
    return total


def _all_items(runtime: Runtime) -> list[OutboxItem]:
    with unit_of_work(runtime.sessions) as session:
        rows = session.scalars(select(OutboxItemRow).order_by(OutboxItemRow.id))
        return [to_item(row) for row in rows]


# How the demo's chair judges each kind of flag in the example conferences, with the reason kept
# with the resolution. The only flags the examples raise are the children's school in the father's
# copy: he has parental responsibility and Lena stayed at the school she went to before the
# separation, so naming it tells him nothing new about where the family lives.
DEMO_JUDGEMENT: dict[str, tuple[risk.Resolution, str]] = {
    "locates_person": ("share", "Mr Haddad has parental responsibility and already knows the children's school; "
                                "it has not changed since the separation"),
    "contact_details": ("withhold", "Contact details of someone else"),
    "unknown_name": ("withhold", "Names someone outside the family"),
    "repeats_withheld": ("withhold", "Repeats information withheld from this reader"),
}


def _approve_family_copies(runtime: Runtime, case: dict[str, Any], chair: str, review_dir: Path) -> int:
    """The chair opens the review of each family member's copy, resolves its disclosure flags and
    approves it (the demo plays the chair); the number of flags resolved."""
    people = {copy_spec.audience.person for copy_spec in plan_copies(case) if copy_spec.audience.is_family_copy}
    resolved = 0
    for person in sorted(p for p in people if p):
        while True:
            shown = review.preview(runtime, case["reference"], person, actor=chair, chair=chair, out_dir=review_dir)
            still_open = [flag for flag in shown.flags if flag.status == "open"]
            if not still_open:
                break
            for flag in still_open:
                resolution, reason = DEMO_JUDGEMENT[flag.kind]
                risk.resolve_flag(runtime, case["reference"], person, flag.key, resolution=resolution, reason=reason,
                                  chair=chair)
                resolved += 1
                if resolution == "withhold":
                    break  # a new version was saved: review it again
        approval.approve(runtime, case["reference"], person, chair=chair, comment="Approved for the demo.")
    return resolved


def _write_deliveries(runtime: Runtime, path: Path, items: list[OutboxItem]) -> None:
    """The delivery manifest: every item of the outbox, with what was sent and its hashes.

    ``key`` names the item's files (``outbox/<key>.eml``, ``delivery/for-hand-delivery/<key>.pdf``):
    the random part of its Message-ID. ``letter`` names a family member's passphrase letter
    (``delivery/letters/<letter>.pdf``), one per person per conference.
    """
    with unit_of_work(runtime.sessions) as session:
        records = {r.idempotency_key: r for r in session.scalars(select(DeliveryRecord))}
    outgoing = path.parent / "delivery" / "outgoing"
    rows = []
    for item in items:
        if item.rule == NOTICE_RULE:
            continue
        record = records.get(item.idempotency_key)
        built = outgoing / f"{message_token(item.message_id)}.json"
        letter = json.loads(built.read_text(encoding="utf-8")).get("letter") if built.exists() else None
        rows.append({
            "key": message_token(item.message_id), "letter": letter,
            "conference": item.conference_reference, "document": item.copy,
            "kind": item.document, "recipient": item.recipient, "name": item.recipient_name,
            "address": item.recipient_address, "rule": item.rule, "status": item.state,
            "channel": record.channel if record else None, "transport": record.transport if record else None,
            "message_id": item.message_id, "earliest": _iso(item.not_before), "latest": _iso(item.deadline),
            "sent_at": _iso(item.sent_at), "working_days_late": item.late_by, "detail": item.last_error or item.hold_reason,
            "plaintext_sha256": record.plaintext_sha256 if record else None,
            "ciphertext_sha256": record.ciphertext_sha256 if record else None})
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LONDON).isoformat() if moment is not None else None
