"""The demo: the example conferences imported, their packs written, approved by the chair, and sent by
the scheduler as each circulation window opens, on a clock that runs from the first booking to the
last deadline, by every route the product has: S/MIME to agencies with a certificate, secure email
to accredited domains through a mail server on loopback that requires STARTTLS, portal links to
everyone else (families included) with codes by text message through a local stand-in for GOV.UK
Notify, and the child's copies by hand with the passphrase letter in a print batch. Keys,
certificates, the portal's secret and the Notify key are made on the spot; nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from distribution.abc import Transport
from distribution.demo_pki import create_demo_pki
from distribution.keys import load_signing_identity
from distribution.transports import HandDeliveryTransport
from distribution.transports.accredited import AccreditedDomainsOnly
from distribution.transports.notify import NotifyClient, NotifySmsTransport
from distribution.transports.print_batch import PrintBatchTransport
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.copy_store import CopyStore
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_outbox import OutboxItemRow, to_item
from docgen.bootstrap import bootstrap, build_transport
from docgen.configuration.circulation import CirculationConfig, load_rules
from docgen.configuration.folder import config_file
from docgen.configuration.transports import load_transport
from docgen.configuration.web import load_web_settings
from docgen.domain.calendar import LONDON
from docgen.domain.documents import documents_date, plan_copies
from docgen.domain.outbox import NOTICE_RULE, OutboxItem, message_token
from docgen.domain.routes import DEFAULT_ACCREDITED_DOMAINS, Route, RoutePolicy, is_accredited
from docgen.entrypoints.demo_mail import LoopbackMailServer
from docgen.entrypoints.demo_notify import FakeNotify
from docgen.services import approval, portal_access, review, risk
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.directory import import_certificate
from docgen.services.dispatch import Dispatcher, DispatchPolicy, PassReport
from docgen.services.importing import import_case_file, stored_case, stored_version
from docgen.services.pack import Artifact, build_pack
from docgen.services.routing import PORTAL_SECRET_VARIABLE
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference

PASSPHRASE_ENV = "DOCGEN_SIGNING_PASSPHRASE"
NOTIFY_KEY_ENV = "DOCGEN_DEMO_NOTIFY_KEY"
#: The shipped accredited domains, and the example conferences' stand-ins for NHS and police addresses.
DEMO_ACCREDITED = (*DEFAULT_ACCREDITED_DOMAINS, "nhs.example.uk", "police.example.uk")


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
    parent: PortalVisit | None = None
    routes: dict[str, int] = field(default_factory=dict)
    """Copies sent by each route, in words."""


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
    versions = [stored_version(runtime, import_case_file(runtime, example, actor="docgen demo")[0]) for example in examples]
    cases = [version.case for version in versions]
    artifacts = {version.reference: build_pack(version.case, runtime.settings, out / "pack" / version.reference,
                                               generated_on=documents_date(version.saved_at), store=runtime.copies)
                 for version in versions}
    for reference, made in artifacts.items():
        approval.record_event(runtime, "generated", actor="docgen demo", reference=reference,
                              subject=str(out / "pack" / reference), details={"files": len(made)})

    # The demo's keys are made now and never leave out/; the signing passphrase comes from the
    # environment, or is made up for this run only and never printed.
    passphrase = os.environ.get(PASSPHRASE_ENV) or secrets.token_urlsafe(24)
    professionals = list({p["email"]: (p["name"], p["email"]) for c in cases for p in c["professionals"]}.values())
    pki = create_demo_pki(out / "keys", at=clock.now, signing_passphrase=passphrase,
                          authority_email=runtime.settings.authority.email, recipients=professionals)
    # Certificates only where secure email would not serve: the school and probation get S/MIME; the
    # council, health and the police (accredited domains) get secure email; the advocate, a portal link.
    for person in {p["id"]: p for c in cases for p in c["professionals"]}.values():
        if not is_accredited(person["email"], DEMO_ACCREDITED) and person["agency"] != "advocacy":
            import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                               ca_certificates=[pki.ca.certificate])
    # The chair's review copies are read and discarded: no document in clear outside the pack.
    with tempfile.TemporaryDirectory(prefix="docgen-review-") as review_dir:
        resolved = sum(_approve_family_copies(runtime, each, each["conference"]["chair"], Path(review_dir))
                       for each in cases)
    # A flag the chair withholds saves a new version: schedule what was approved.
    cases = [stored_case(runtime, case["reference"]) for case in cases]

    sender = runtime.settings.authority.email
    with _demo_secrets() as notify_key, LoopbackMailServer(out / "mail-server", keep=out / "outbox") as mail, \
            _local_notify() as notify:
        os.environ[notify_key] = notify.api_key
        email = build_transport(load_transport(mail.config))
        texts = NotifySmsTransport(NotifyClient(api_key_env=notify_key, base_url=notify.base_url),
                                   template_id=notify.sms_template.id)
        post = PrintBatchTransport(out / "post")
        messages = DocumentMessages(DeliveryContext(
            runtime=runtime, signer=load_signing_identity(pki.signing_p12_path, passphrase_env=PASSPHRASE_ENV,
                                                          prompt=lambda _: passphrase),
            archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate],
            folder=out / "delivery", sender_address=sender, routes=RoutePolicy(accredited_domains=DEMO_ACCREDITED),
            sms=True, portal_url=load_web_settings().public_url, letters=post))
        dispatcher = Dispatcher(
            runtime.sessions, email, build_message=messages.build,
            approval_gate=messages.approval_gate, on_sent=messages.record_sent,
            hand_delivery=HandDeliveryTransport(out / "delivery" / "for-hand-delivery", clock=clock),
            carriers={"secure_email": AccreditedDomainsOnly(email, DEMO_ACCREDITED), "sms": texts},
            policy=DispatchPolicy(envelope_from=sender, business_support_address=sender, calendar=rules.calendar,
                                  zone=rules.zone),
            clock=clock, rng=random.Random(0))
        passes = _run_timeline(runtime, clock, rules, cases, dispatcher)
        items = _all_items(runtime)
        _write_deliveries(runtime, out / "deliveries.json", items)
        parent = _a_parent_opens_the_portal(runtime, notify, mail, texts, sender)

    with unit_of_work(runtime.sessions) as session:
        channels = {record.idempotency_key: record.channel for record in session.scalars(select(DeliveryRecord))}
    by_smime = {key for key, channel in channels.items() if channel == "smime"}
    routes = Counter(Route(channel).words for channel in channels.values())
    example = next((i for i in items if i.state == "sent" and i.document == "conference_record"
                    and i.idempotency_key in by_smime), None)
    message = cert = key = None
    if example is not None:
        issued = next(i for i in pki.recipients.values() if i.email == example.recipient_address)
        message = out / "outbox" / f"{message_token(example.message_id)}.eml"
        cert, key = issued.cert_path, issued.key_path
    return DemoResult(out, [c["reference"] for c in cases], artifacts, items, passes, message, cert, key,
                      pki.ca.cert_path, resolved, parent, dict(routes.most_common()))


@contextmanager
def _demo_secrets() -> Iterator[str]:
    """The portal's secret (unless one is set) and the name of the variable that holds the local
    Notify's key, both for this run only; the environment is put back afterwards."""
    saved = {name: os.environ.get(name) for name in (PORTAL_SECRET_VARIABLE, NOTIFY_KEY_ENV)}
    os.environ.setdefault(PORTAL_SECRET_VARIABLE, secrets.token_hex(32))
    try:
        yield NOTIFY_KEY_ENV
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _local_notify() -> Iterator[FakeNotify]:
    notify = FakeNotify()
    notify.start()
    try:
        yield notify
    finally:
        notify.stop()


@dataclass(frozen=True)
class PortalVisit:
    """What a parent saw when they opened their portal link in the demo."""

    name: str
    link: str
    text_message: str
    documents: list[str]


def _a_parent_opens_the_portal(runtime: Runtime, notify: FakeNotify, mail: LoopbackMailServer, texts: Transport,
                               sender: str) -> PortalVisit | None:
    """The father opens the link his newest email gave him, asks for a code, reads it from the text
    message GOV.UK Notify's stand-in delivered to his phone, and sees his documents."""
    with unit_of_work(runtime.sessions) as session:
        karim = [to_item(row) for row in session.scalars(select(OutboxItemRow).where(
            OutboxItemRow.recipient == "karim", OutboxItemRow.state == "sent").order_by(OutboxItemRow.sent_at))]
    if not karim:
        return None
    newest = mail.store.mailbox.get(karim[-1].message_id, b"").decode("utf-8", "replace")
    found = re.search(r"https?://\S+/portal/(\S+)", newest.replace("=\r\n", "").replace("=\n", ""))
    if found is None:
        return None
    token, settings = found.group(1), load_web_settings()

    def send(channel: str, address: str, text: str, key: str) -> None:
        texts.send(text.encode(), envelope_from=sender, recipients=[address], idempotency_key=key)

    portal_access.send_code(runtime, token, send, settings)
    message = notify.sent("sms")[-1].body
    code = re.search(r"\b\d{6}\b", message)
    assert code is not None
    signed_in = portal_access.enter_code(runtime, token, code.group(0), settings)
    documents = [d.title for d in portal_access.documents_for(runtime, signed_in.link_id)]
    return PortalVisit("Karim Haddad", found.group(0), message, documents)


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
