"""A whole conference lifecycle on an injected clock, then scheduling, booking checks, compliance and the CLI.

The lifecycle: booking an initial conference, the reports arriving, the conference, its decisions
and plan, the record, the first core group, booking the first review, the review deciding to end
the plan, the discharge and the review's record. Dispatch passes run every three hours of fake
time throughout, as the scheduler would; every item must go out inside its window.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from distribution.demo_pki import DemoPki
from distribution.transports import OutboxFolderTransport
from docgen.adapters.case_store import save_case
from docgen.adapters.casefile import validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.outbox_store import SQLAlchemyOutboxStore
from docgen.configuration.circulation import CirculationConfig, load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.domain.calendar import LONDON
from docgen.domain.outbox import OutboxItem, window_state
from docgen.errors import ApprovalError
from docgen.services.compliance import as_csv, compliance_report
from docgen.services.dispatch import Dispatcher, DispatchPolicy, cancel_item, plain_message
from docgen.services.runtime import Runtime
from docgen.services.scheduling import BookingReasonRequired, booking_check, plan_distributions, schedule_conference
from tests.support.pki import SIGNING_PASSPHRASE

SENDER = "cp.conferences@northmoor.gov.uk"
SUPPORT = "business.support@northmoor.gov.uk"
ICPC = "NM-ICPC-2026-0147"
RCPC = "NM-RCPC-2027-0031"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.at = moment

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def rules() -> CirculationConfig:
    return load_rules(DEFAULT_CONFIG_DIR / "circulation.toml")


def initial_stages(example: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The initial conference's case file as it stands at each stage."""
    booked = copy.deepcopy(example)
    received = {r["id"]: r.pop("received_on") for r in booked["reports"]}
    full_record, decisions, plan = booked["record"], booked["decisions"], booked.pop("plan")
    booked.update(record={"sections": []}, decisions=[], discharge=[])
    sw_report = copy.deepcopy(booked)
    sw_report["reports"][0]["received_on"] = received["sw-report"]
    reports = copy.deepcopy(sw_report)
    for report in reports["reports"]:
        report["received_on"] = received[report["id"]]
    decided = copy.deepcopy(reports)
    decided.update(decisions=decisions, plan=plan)
    recorded = copy.deepcopy(decided)
    recorded["record"] = full_record
    return {"booked": booked, "sw_report": sw_report, "reports": reports, "decided": decided, "recorded": recorded}


def review_stages(example: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The first review: booked after the initial conference; it ends the plan."""
    stages = initial_stages(example)
    out: dict[str, dict[str, Any]] = {}
    for name, stage in stages.items():
        case = copy.deepcopy(stage)
        case["reference"] = RCPC
        conference = case["conference"]
        conference.update(kind="review", starts_at="2027-02-11T10:00:00", ends_at="2027-02-11T12:00:00",
                          previous_conference_on="2026-11-19")
        conference.pop("strategy_discussion_on")
        conference.pop("next_conference_on")
        for report in case["reports"]:
            if "received_on" in report:
                report["received_on"] = "2027-02-04"
        case.pop("plan", None)
        if case["decisions"]:
            case["decisions"] = [{"child": d["child"], "plan": False, "reasons": "The risk has reduced."}
                                 for d in case["decisions"]]
            case["discharge"] = [{"child": c, "discharged_on": "2027-02-11", "reason": "no_longer_at_risk"}
                                 for c in ("lena", "adam")]
        for invitation in case["invitations"]:
            invitation.pop("report_due_on", None)
        out[name] = case
    return out


class Lifecycle:
    """Drives the clock, the case files, the approvals and the dispatcher of one lifecycle."""

    def __init__(self, runtime: Runtime, rules: CirculationConfig, folder: Path) -> None:
        self.runtime, self.rules = runtime, rules
        self.clock = Clock(at("2026-11-03T09:00"))
        self.approvals: dict[tuple[str, str], datetime] = {}
        folder.mkdir()
        self.transport = OutboxFolderTransport(folder, clock=self.clock)
        self.dispatcher = Dispatcher(
            runtime.sessions, self.transport, clock=self.clock, approval_gate=self.gate, rng=random.Random(1),
            build_message=lambda item: plain_message(item, envelope_from=SENDER, at=self.clock()),
            policy=DispatchPolicy(envelope_from=SENDER, business_support_address=SUPPORT, calendar=rules.calendar,
                                  zone=rules.zone, warn_before=timedelta(hours=24)))

    def gate(self, item: OutboxItem) -> None:
        approved = self.approvals.get((item.conference_reference, item.document))
        if approved is None or approved > self.clock():
            raise ApprovalError(f"the chair has not approved {item.copy}")

    def approve(self, reference: str, *documents: str, when: str) -> None:
        for document in documents:
            self.approvals[(reference, document)] = at(when)

    def store(self, case: dict[str, Any]) -> None:
        case = validate_case(copy.deepcopy(case), source="lifecycle")
        digest = hashlib.sha256(json.dumps(case, sort_keys=True).encode()).hexdigest()
        with unit_of_work(self.runtime.sessions) as session:
            save_case(session, case, saved_by="lifecycle", source_sha256=digest, now=self.clock().replace(tzinfo=None), replace=True)
            result = schedule_conference(session, case, self.rules, now=self.clock(), envelope_from=SENDER)
            for item in result.items:  # children's copies are handed over by the social worker
                if item.recipient_address is None and item.state not in ("sent", "cancelled"):
                    cancel_item(session, item.id, reason="handed over by the social worker", now=self.clock())

    def run_until(self, when: str) -> None:
        end = at(when)
        while self.clock.at < end:
            self.dispatcher.drain()
            self.clock.at = min(end, self.clock.at + timedelta(hours=3))

    def items(self, reference: str | None = None) -> list[OutboxItem]:
        return SQLAlchemyOutboxStore(self.runtime.sessions).items(reference=reference, limit=100_000)


@pytest.mark.slow
def test_a_whole_lifecycle_sends_every_item_in_its_window(runtime: Runtime, rules: CirculationConfig,
                                                          example_case: dict[str, Any], tmp_path: Path) -> None:
    life = Lifecycle(runtime, rules, tmp_path / "outbox")
    icpc, rcpc = initial_stages(example_case), review_stages(example_case)

    life.approve(ICPC, "parent_invitation", "exclusion_letter", when="2026-11-03T10:00")
    life.store(icpc["booked"])  # the conference is booked 1 working day after the strategy discussion
    life.run_until("2026-11-13T12:00")
    sent = {(i.copy, i.recipient) for i in life.items(ICPC) if i.state == "sent"}
    assert ("exclusion_letter--family-karim", "karim") in sent
    records = [i for i in life.items(ICPC) if i.document == "conference_record" and i.recipient != "lena"]
    assert records and all(i.state == "waiting_for_content" for i in records)

    life.store(icpc["sw_report"])  # the social worker's report arrives on Friday
    life.run_until("2026-11-16T09:00")
    life.store(icpc["reports"])  # the agencies' reports on Monday morning
    life.approve(ICPC, "social_worker_report", "agency_report", when="2026-11-16T10:00")
    life.run_until("2026-11-19T13:00")
    assert not [i for i in life.items(ICPC) if i.document == "decisions_notice" and i.state == "sent"]

    life.store(icpc["decided"])  # the conference decides on a plan
    life.approve(ICPC, "decisions_notice", "outline_plan", when="2026-11-19T14:00")
    # Booking the first review the day after: within 3 months of the initial conference.
    life.approve(RCPC, "parent_invitation", "exclusion_letter", when="2026-11-20T11:00")
    life.clock.at = at("2026-11-20T10:00")
    life.store(rcpc["booked"])
    life.run_until("2026-12-01T10:00")
    life.store(icpc["recorded"])  # the record is finished
    life.approve(ICPC, "conference_record", when="2026-12-02T10:00")
    assert booking_check(icpc["recorded"], rules).meetings == ()  # first core group 3 Dec: in time

    life.run_until("2027-02-04T09:00")
    life.store(rcpc["reports"])
    life.approve(RCPC, "social_worker_report", "agency_report", when="2027-02-04T10:00")
    life.run_until("2027-02-11T13:00")
    life.store(rcpc["decided"])  # the plan ends: discharge
    life.approve(RCPC, "decisions_notice", "discharge_notification", when="2027-02-11T14:00")
    life.run_until("2027-03-01T10:00")
    life.store(rcpc["recorded"])
    life.approve(RCPC, "conference_record", when="2027-03-02T10:00")
    life.run_until("2027-03-15T09:00")

    items = [i for i in life.items() if i.document not in ("deadline_warning", "deadline_missed")]
    documents = {(i.conference_reference, i.document) for i in items}
    assert {(ICPC, "outline_plan"), (ICPC, "conference_record"), (RCPC, "discharge_notification"),
            (RCPC, "conference_record"), (RCPC, "professional_invitation")} <= documents
    cancelled = [i for i in items if i.state == "cancelled"]
    assert {i.recipient for i in cancelled} == {"lena"}
    delivered = [i for i in items if i.state != "cancelled"]
    assert all(i.state == "sent" for i in delivered), [(i.copy, i.recipient, i.state) for i in delivered
                                                       if i.state != "sent"]
    outside = [(i.copy, i.recipient, i.not_before, i.deadline, i.sent_at) for i in delivered
               if window_state(i.not_before, i.deadline, i.sent_at) != "open"]  # type: ignore[arg-type]
    assert outside == []
    assert all(i.late_by == 0 for i in delivered)
    discharge = [i for i in delivered if i.document == "discharge_notification" and not i.family_copy]
    assert {"rachel-moore", "sanjay-mehta", "claire-dunn"} <= {i.recipient for i in discharge}
    assert all(i.sent_at and i.sent_at >= at("2027-02-11T13:00") for i in discharge)
    # Karim's copies of the social worker's reports were not ready a day before their deadlines
    # (awaiting the chair; then awaiting the report): business support was warned, once each.
    warnings = [i for i in life.items() if i.document == "deadline_warning"]
    assert sorted(i.copy for i in warnings) == sorted(
        f"deadline_warning--item-{i.id}" for i in delivered
        if i.copy == "social_worker_report--sw-report--family-karim")
    assert all(i.state == "sent" and i.recipient_address == SUPPORT for i in warnings)
    assert SQLAlchemyOutboxStore(runtime.sessions).breaches() == []
    with unit_of_work(runtime.sessions) as session:
        report = compliance_report(session, now=life.clock(), calendar=rules.calendar, zone=rules.zone)
    totals = as_csv(report).splitlines()[-1].split(",")
    assert totals[:4] == ["total", str(len(items)), str(len(delivered)), "0"] and totals[5] == "0"
    # The outbox folder holds one file per message sent, and no more.
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(delivered) + len(warnings)


# -- scheduling ------------------------------------------------------------------------------------

def schedule(runtime: Runtime, case: dict[str, Any], rules: CirculationConfig, now: datetime, **options: Any) -> Any:
    case = validate_case(copy.deepcopy(case), source="test")
    with unit_of_work(runtime.sessions) as session:
        save_case(session, case, saved_by="test", source_sha256="0" * 64, now=now.replace(tzinfo=None), replace=True)
        return schedule_conference(session, case, rules, now=now, envelope_from=SENDER, **options)


def test_scheduling_twice_creates_nothing_new(runtime: Runtime, rules: CirculationConfig,
                                              example_case: dict[str, Any]) -> None:
    now = at("2026-11-05T09:00")
    first = schedule(runtime, example_case, rules, now)
    again = schedule(runtime, example_case, rules, now)
    assert first.created == len(first.items) > 40 and again.created == 0 and again.cancelled == 0
    assert [i.idempotency_key for i in first.items] == [i.idempotency_key for i in again.items]
    keys = [i.idempotency_key for i in first.items]
    assert len(keys) == len(set(keys))
    pairs = [(i.copy, i.recipient) for i in first.items]
    assert len(pairs) == len(set(pairs)), "one row per copy per recipient"


def test_windows_come_from_the_rules(runtime: Runtime, rules: CirculationConfig,
                                     example_case: dict[str, Any]) -> None:
    result = schedule(runtime, example_case, rules, at("2026-11-05T09:00"))
    by = {(i.copy, i.recipient): i for i in result.items}
    chair = by[("social_worker_report--sw-report--professional", "david-pryce")]
    assert (chair.rule, chair.not_before, chair.deadline) == ("sw-report-to-chair", None, at("2026-11-16T17:00"))
    karim = by[("social_worker_report--sw-report--family-karim", "karim")]
    assert (karim.rule, karim.deadline) == ("sw-report-to-excluded-family-initial", at("2026-11-16T17:00"))
    zofia = by[("social_worker_report--sw-report--family-zofia", "zofia")]
    assert (zofia.rule, zofia.deadline) == ("sw-report-to-family", at("2026-11-17T17:00"))
    absent = by[("social_worker_report--sw-report--professional", "sanjay-mehta")]
    assert (absent.rule, absent.deadline) == ("sw-report-to-absent-invitees", at("2026-12-17T17:00"))
    record = by[("conference_record--professional", "claire-dunn")]
    assert (record.not_before, record.deadline) == (at("2026-11-19T10:00"), at("2026-12-17T17:00"))
    invitation = by[("professional_invitation--claire-dunn--professional", "claire-dunn")]
    assert (invitation.rule, invitation.deadline) == ("before-conference", at("2026-11-19T10:00"))
    assert chair.state == "waiting_for_content" and invitation.state == "ready"
    assert record.state == "waiting_for_content"


def test_rescheduling_releases_arrived_documents_and_cancels_what_is_no_longer_planned(
        runtime: Runtime, rules: CirculationConfig, example_case: dict[str, Any]) -> None:
    first = schedule(runtime, example_case, rules, at("2026-11-05T09:00"))
    assert first.made_ready == 0
    changed = copy.deepcopy(example_case)
    changed["invitations"] = [i for i in changed["invitations"] if i["invitee"] != "ewa-nowak"]
    later = schedule(runtime, changed, rules, at("2026-11-14T09:00"))
    # The social worker's report arrived on the 13th: its copies for the chair, the absent GP,
    # Zofia and Karim are ready now; the agencies' reports (16th) are not.
    assert later.made_ready == 4
    ready = {(i.copy, i.recipient) for i in later.items if i.state == "ready" and i.report}
    assert ready == {("social_worker_report--sw-report--professional", "david-pryce"),
                     ("social_worker_report--sw-report--professional", "sanjay-mehta"),
                     ("social_worker_report--sw-report--family-zofia", "zofia"),
                     ("social_worker_report--sw-report--family-karim", "karim")}
    gone = [i for i in later.items if i.recipient == "ewa-nowak"]
    assert gone and all(i.state == "cancelled" for i in gone)


def test_a_booking_outside_the_timescale_needs_a_recorded_reason(
        runtime: Runtime, rules: CirculationConfig, example_case: dict[str, Any]) -> None:
    late = copy.deepcopy(example_case)
    late["conference"].update(starts_at="2026-11-25T10:00:00", ends_at="2026-11-25T12:00:00")
    with pytest.raises(BookingReasonRequired, match="initial-conference-booking: 2 working day") as caught:
        schedule(runtime, late, rules, at("2026-11-05T09:00"))
    assert [b.deadline.isoformat() for b in caught.value.breaches] == ["2026-11-23"]
    assert SQLAlchemyOutboxStore(runtime.sessions).items() == []  # nothing scheduled without the reason
    result = schedule(runtime, late, rules, at("2026-11-05T09:00"),
                      reason="Police disclosure awaited; agreed by M. Kowalczyk, team manager, 5/11/2026")
    assert result.created > 0
    assert schedule(runtime, late, rules, at("2026-11-05T10:00")).created == 0  # the reason is on record
    with unit_of_work(runtime.sessions) as session:
        report = compliance_report(session, now=at("2026-11-30T09:00"), calendar=rules.calendar, zone=rules.zone)
    [booking] = report.bookings
    assert (booking.rule, booking.working_days_late, booking.reason.split(";")[0]) == (  # type: ignore[union-attr]
        "initial-conference-booking", 2, "Police disclosure awaited")


@pytest.mark.parametrize(("review_on", "first_review", "breached"), [
    pytest.param("2027-02-18", True, [], id="first-review-on-its-last-day"),
    pytest.param("2027-02-19", True, ["first-review-booking"], id="first-review-a-day-late"),
    pytest.param("2027-02-19", False, [], id="later-review-has-six-months"),
    pytest.param("2027-05-21", False, ["further-review-booking"], id="later-review-too-late"),
])
def test_review_booking_rules(rules: CirculationConfig, example_case: dict[str, Any], review_on: str,
                              first_review: bool, breached: list[str]) -> None:
    review = review_stages(example_case)["booked"]
    review["conference"].update(starts_at=f"{review_on}T10:00:00", ends_at=f"{review_on}T12:00:00")
    check = booking_check(validate_case(review, source="test"), rules, first_review=first_review)
    assert [b.rule for b in check.breaches] == breached


def test_a_late_first_core_group_is_flagged(rules: CirculationConfig, example_case: dict[str, Any]) -> None:
    case = copy.deepcopy(example_case)
    case["plan"]["core_group"]["first_meeting_on"] = "2026-12-07"
    [(what, breach)] = booking_check(case, rules).meetings
    assert (what, breach.rule, breach.working_days_late) == ("first core group", "first-core-group", 2)


def test_copies_no_rule_times_are_reported_not_dropped(rules: CirculationConfig,
                                                       example_case: dict[str, Any]) -> None:
    from dataclasses import replace

    no_record_rule = replace(rules, rules=tuple(r for r in rules.rules if r.name != "record-to-invitees"))
    planned, notes = plan_distributions(example_case, no_record_rule, now=at("2026-11-05T09:00"))
    assert not [d for d in planned if d.copy_spec.kind.key == "conference_record"]
    assert "conference_record--professional for claire-dunn: no circulation rule applies; not scheduled" in notes


def test_the_guidance_goes_with_every_professional_invitation(rules: CirculationConfig,
                                                            example_case: dict[str, Any]) -> None:
    """One guidance document for the conference, sent to each professional with their invitation."""
    planned, _ = plan_distributions(example_case, rules, now=at("2026-11-05T09:00"))
    invited = {(d.recipient.key, d.latest) for d in planned if d.copy_spec.kind.key == "professional_invitation"}
    guided = {(d.recipient.key, d.latest) for d in planned if d.copy_spec.kind.key == "professional_guidance"}
    assert invited and guided == invited
    assert {d.copy_spec.stem for d in planned if d.copy_spec.kind.key == "professional_guidance"} == {
        "professional_guidance--professional"}


# -- the command line ------------------------------------------------------------------------------

@pytest.fixture
def cli(tmp_path: Path, example_case: dict[str, Any]) -> Iterator[Callable[..., str]]:
    from docgen.bootstrap import bootstrap
    from docgen.entrypoints.cli_schedule import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runtime = bootstrap(url)
    with unit_of_work(runtime.sessions) as session:
        save_case(session, example_case, saved_by="test", source_sha256="0" * 64, now=datetime(2026, 11, 1))
    runtime.engine.dispose()

    def run(*argv: str) -> str:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            main(["--database", url, *argv])
        return buffer.getvalue()

    yield run


def test_cli_schedule_json_outbox_and_compliance(cli: Callable[..., str], tmp_path: Path, pki: DemoPki,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    listing = json.loads(cli("schedule", ICPC, "--json"))
    assert listing["reference"] == ICPC and listing["created"] == len(listing["items"])
    first = listing["items"][0]
    assert set(first) >= {"rule", "document", "recipient", "earliest", "latest", "state"}
    assert json.loads(cli("schedule", ICPC, "--json"))["created"] == 0
    assert "booked within its timescales" in cli("book-check", ICPC)
    (tmp_path / "out").mkdir()
    transport = ("--transport", f"outbox-folder:{tmp_path / 'out'}", "--once", "--no-notices")
    with pytest.raises(SystemExit):  # no signing identity: the scheduler does not start
        cli("scheduler", *transport)
    monkeypatch.setenv("DOCGEN_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    report = json.loads(cli("scheduler", *transport, "--signing-identity", str(pki.signing_p12_path),
                            "--archive-certificate", str(pki.archive.cert_path), "--envelope-from", SENDER,
                            "--delivery-folder", str(tmp_path / "delivery")))
    # No professional has a certificate in the directory and the chair has approved nothing yet: the
    # council's staff (gov.uk is an accredited domain) get secure email; the other agencies (no
    # certificate, no accredited domain, no portal set up here) are held saying why; family copies wait.
    assert report["sent"] and report["held"] and not report["failed"]
    held = json.loads(cli("outbox", "list", "--state", "waiting_for_approval", "--json"))
    agencies = [i for i in held if "no delivery route" in (i["hold_reason"] or "")]
    assert agencies and all("no certificate in the directory" in i["hold_reason"] for i in agencies)
    sent = list((tmp_path / "out").glob("*.eml"))
    assert len(sent) == report["sent"]
    assert all(re.search(rb"^To: \S+@northmoor\.gov\.uk\r?$", path.read_bytes(), re.M) for path in sent)
    failed = agencies
    assert "is now ready" in cli("outbox", "release", str(failed[0]["id"]))
    assert "is now cancelled" in cli("outbox", "cancel", str(failed[0]["id"]), "--reason", "handed over")
    csv_text = cli("compliance", "--csv", "--from", "2026-11-01", "--to", "2026-12-31")
    assert csv_text.splitlines()[0].startswith("rule,items,on_time,late")
    assert "Rule" in cli("compliance")
