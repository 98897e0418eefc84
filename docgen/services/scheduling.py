"""Scheduling a conference: every copy for every recipient, with its circulation rule and window.

``plan_distributions`` and ``booking_check`` are pure: a validated case and the circulation
configuration in, distributions and breaches out. ``schedule_conference`` writes the plan into
the outbox idempotently (running it again after the case changes updates windows and addresses,
releases documents that now exist, and cancels copies no longer planned) and insists on a
recorded reason for a booking that breaks a timescale, as the procedures require.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docgen.adapters.case_store import load_case
from docgen.adapters.orm import Conference
from docgen.adapters.outbox_store import OutboxSource, OutboxStore, outbox_store
from docgen.configuration.circulation import CirculationConfig
from docgen.domain.circulation import (
    Breach,
    CirculationRule,
    Window,
    applicable_rules,
    booking_breaches,
    unchecked_booking_rules,
)
from docgen.domain.documents import CopySpec, plan_copies
from docgen.domain.outbox import (
    BreachRecord,
    NewItem,
    OutboxItem,
    WindowChange,
    booking_key,
    idempotency_key,
    planned_item,
    window_changes,
)
from docgen.errors import SchedulingError
from docgen.services.report_sharing import reports_shared_in
from docgen.services.window_changes import WindowChangesNeedConfirmation, changes_digest

#: The pseudo-rule for documents the procedures give no timescale, which are useless once the
#: conference has started: invitations, the exclusion letter, report forms, reports to the chair.
BEFORE_CONFERENCE = "before-conference"
BEFORE_CONFERENCE_SOURCE = "docgen default: no timescale in the procedures; needed before the conference starts"
_ATTENDED = frozenset({"attended", "part_attended"})


@dataclass(frozen=True)
class Route:
    """Who receives a document: the members of ``audience`` (the rules' word) who have a copy.

    The window comes from the configured rules for (document, audience). Where there is none,
    ``fallback`` names a rule to borrow (a family copy goes with the professionals' copy) or
    ``BEFORE_CONFERENCE``. ``look_up`` false skips configured rules: ``absent-agency-views`` is
    about views coming back to the chair, not about the reports going out to the chair.
    """

    document: str
    audience: str
    fallback: str | None = None
    look_up: bool = True


ROUTES: tuple[Route, ...] = (
    Route("parent_invitation", "family", BEFORE_CONFERENCE),
    Route("child_invitation", "family", BEFORE_CONFERENCE),
    Route("exclusion_letter", "excluded_family", BEFORE_CONFERENCE),
    Route("professional_invitation", "professionals", BEFORE_CONFERENCE),
    Route("professional_guidance", "professionals", BEFORE_CONFERENCE),
    Route("agency_report_form", "professionals", BEFORE_CONFERENCE),
    Route("social_worker_report", "chair"),
    Route("social_worker_report", "family"),
    Route("social_worker_report", "excluded_family"),
    Route("social_worker_report", "absent_invitees"),
    Route("agency_report", "chair", BEFORE_CONFERENCE, look_up=False),
    Route("agency_report", "family"),
    Route("agency_report", "excluded_family", "agency-reports-to-family"),
    Route("conference_record", "attendees_and_invited"),
    Route("decisions_notice", "all_invited"),
    Route("outline_plan", "all_invited"),
    Route("discharge_notification", "ica_agencies"),
    Route("discharge_notification", "family", "discharge-notification"),
)


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    address: str | None
    kind: str  # professional, family or child


@dataclass(frozen=True)
class Distribution:
    """One planned delivery: a copy, its recipient, the rule that times it and its window."""

    idempotency_key: str
    rule: str
    rule_source: str
    copy_spec: CopySpec
    recipient: Person
    earliest: datetime | None
    latest: datetime | None
    content_ready: bool


@dataclass(frozen=True)
class BookingCheck:
    """Breaches of booking rules (need a recorded reason) and of meeting timescales (warnings)."""

    breaches: tuple[Breach, ...]
    unchecked: tuple[str, ...]
    meetings: tuple[tuple[str, Breach], ...]  # (what, breach): the first core group, the next review


class BookingReasonRequired(SchedulingError):
    """A booking breaks a timescale and no reason for the delay has been recorded."""

    def __init__(self, reference: str, breaches: tuple[Breach, ...]) -> None:
        self.reference = reference
        self.breaches = breaches
        lines = "\n".join(f"  - {describe_breach(b)}" for b in breaches)
        super().__init__(
            f"conference {reference} is booked outside the procedures' timescale:\n{lines}\n"
            "The procedures require the team manager's written agreement with reasons for a delay. Record "
            f"it with `docgen schedule {reference} --reason \"...\"` (or booking_delay_reason in the case file).")


def describe_breach(breach: Breach) -> str:
    if breach.working_days_late:
        return (f"{breach.rule}: {breach.working_days_late} working day(s) after the last allowed date "
                f"{breach.deadline:%a %d %b %Y} ({breach.source})")
    return (f"{breach.rule}: {breach.working_days_early} working day(s) before the first allowed date "
            f"{breach.deadline:%a %d %b %Y} ({breach.source})")


# -- pure planning ---------------------------------------------------------------------------------

def _local(config: CirculationConfig, value: str | date | datetime) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    return value.replace(tzinfo=config.zone) if value.tzinfo is None else value.astimezone(config.zone)


def conference_at(case: Mapping[str, Any], config: CirculationConfig) -> datetime:
    return _local(config, case["conference"]["starts_at"])


def anchors_of(case: Mapping[str, Any], config: CirculationConfig) -> dict[str, datetime]:
    """The anchor events the case records, as local datetimes (a date counts from 00:00)."""
    conference = case["conference"]
    anchors = {"conference": conference_at(case, config)}
    for anchor, key in (("strategy_discussion", "strategy_discussion_on"), ("transfer_agreed", "transfer_agreed_on"),
                        ("previous_conference", "previous_conference_on")):
        if conference.get(key):
            anchors[anchor] = _local(config, conference[key])
    plan = case.get("plan")
    if plan and plan["core_group"].get("first_meeting_on"):
        anchors["core_group"] = _local(config, plan["core_group"]["first_meeting_on"])
    if case.get("discharge"):
        anchors["plan_end"] = _local(config, min(d["discharged_on"] for d in case["discharge"]))
    return anchors


def _people(case: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for source in (extra, case):
        if source is None:
            continue
        for p in source["professionals"]:
            people[p["id"]] = Person(p["id"], p["name"], p.get("email"), "professional")
        for m in source["family"]:
            people[m["id"]] = Person(m["id"], m["name"], m.get("email"), "family")
        for c in source["children"]:
            people[c["id"]] = Person(c["id"], c["name"], c.get("email"), "child")
    return people


def _members(case: Mapping[str, Any], audience: str, people: Mapping[str, Person],
             initial_case: Mapping[str, Any] | None) -> list[str]:
    """Keys of the people an audience of the circulation rules means, for this conference."""
    attendance = {i["invitee"]: i["attendance"] for i in case["invitations"]}
    kind_of = {key: people[key].kind for key in attendance if key in people}
    professionals = [k for k in attendance if kind_of.get(k) == "professional"]
    if audience == "chair":
        return [case["conference"]["chair"]]
    if audience == "family":
        return [k for k in attendance if kind_of.get(k) == "child"
                or (kind_of.get(k) == "family" and attendance[k] != "excluded")]
    if audience == "excluded_family":
        return [k for k in attendance if kind_of.get(k) == "family" and attendance[k] == "excluded"]
    if audience == "professionals":
        return professionals
    if audience in ("all_invited", "attendees_and_invited"):
        return list(attendance)
    if audience == "absent_invitees":
        return [k for k in attendance if attendance[k] not in _ATTENDED]
    if audience == "ica_agencies":
        first = [i["invitee"] for i in (initial_case or {}).get("invitations", [])
                 if i["invitee"] in people and people[i["invitee"]].kind == "professional"]
        return list(dict.fromkeys([*first, *professionals]))
    if audience == "core_group":
        plan = case.get("plan")
        return list(plan["core_group"]["members"]) if plan else []
    return []


def _fits(copy_spec: CopySpec, person: Person) -> bool:
    """Whether ``copy_spec`` is the copy ``person`` should have."""
    if copy_spec.recipient is not None:
        return copy_spec.recipient == person.key
    if copy_spec.audience.is_family_copy:
        return copy_spec.audience.person == person.key
    return person.kind == "professional"


def content_ready(case: Mapping[str, Any], copy_spec: CopySpec, now: datetime, config: CirculationConfig) -> bool:
    """Whether the document of ``copy_spec`` exists yet, judged from the case."""
    kind = copy_spec.kind.key
    started = now >= conference_at(case, config)
    if kind in ("social_worker_report", "agency_report"):
        report = next((r for r in case["reports"] if r["id"] == copy_spec.report), None)
        return bool(report and report.get("received_on")
                    and date.fromisoformat(str(report["received_on"])) <= now.astimezone(config.zone).date())
    if kind == "decisions_notice":
        return started and bool(case.get("decisions"))
    if kind == "outline_plan":
        return started and "plan" in case
    if kind == "conference_record":
        ends = case["conference"].get("ends_at") or case["conference"]["starts_at"]
        return now >= _local(config, ends) and bool((case.get("record") or {}).get("sections"))
    if kind == "discharge_notification":
        return bool(case.get("discharge")) and now >= anchors_of(case, config)["plan_end"]
    return True


def _candidates(route: Route, kind: str, config: CirculationConfig, anchors: Mapping[str, datetime]
                ) -> list[tuple[str, str, Window]]:
    """(rule name, source, window) for a route; several when several rules apply."""
    found: list[tuple[str, str, Window]] = []
    if route.look_up:
        for rule in applicable_rules(config.rules, kind, route.document):  # type: ignore[arg-type]
            if rule.audience == route.audience and rule.anchor in anchors:
                found.append((rule.name, rule.source, config.window_for(rule, anchors[rule.anchor])))
    if found or route.fallback is None:
        return found
    if route.fallback == BEFORE_CONFERENCE:
        return [(BEFORE_CONFERENCE, BEFORE_CONFERENCE_SOURCE, Window(None, anchors["conference"]))]
    borrowed: CirculationRule | None = next(
        (r for r in applicable_rules(config.rules, kind) if r.name == route.fallback), None)  # type: ignore[arg-type]
    if borrowed is None or borrowed.anchor not in anchors:
        return []
    return [(borrowed.name, borrowed.source, config.window_for(borrowed, anchors[borrowed.anchor]))]


def plan_distributions(case: Mapping[str, Any], config: CirculationConfig, *, now: datetime,
                       approved_reports: frozenset[str] = frozenset(),
                       initial_case: Mapping[str, Any] | None = None) -> tuple[list[Distribution], list[str]]:
    """Every delivery of the conference's pack, and the copies no rule times (said, never dropped).

    A copy reaching one person by several routes goes once, under the rule with the earliest
    deadline. ``initial_case`` is the initial conference behind a review, whose agencies are
    told of a discharge.
    """
    kind = case["conference"]["kind"]
    anchors = anchors_of(case, config)
    people = _people(case, initial_case)
    chosen: dict[tuple[str, str], Distribution] = {}
    copy_specs = plan_copies(dict(case), approved_reports)
    reached: set[tuple[str, str]] = set()
    for route in ROUTES:
        members = [people[k] for k in _members(case, route.audience, people, initial_case) if k in people]
        for copy_spec in (j for j in copy_specs if j.kind.key == route.document):
            for person in (p for p in members if _fits(copy_spec, p)):
                reached.add((copy_spec.stem, person.key))
                for rule, source, window in _candidates(route, kind, config, anchors):
                    current = chosen.get((copy_spec.stem, person.key))
                    if current is not None and _deadline_order(current.latest) <= _deadline_order(window.latest):
                        continue
                    chosen[(copy_spec.stem, person.key)] = Distribution(
                        idempotency_key(case["reference"], rule, copy_spec.stem, person.key), rule, source, copy_spec, person,
                        window.earliest, window.latest, content_ready(case, copy_spec, now, config))
    untimed = sorted(f"{stem} for {person}" for stem, person in reached if (stem, person) not in chosen)
    unrouted = sorted({j.stem for j in copy_specs} - {stem for stem, _ in reached})
    notes = [f"{entry}: no circulation rule applies; not scheduled" for entry in untimed]
    notes += [f"{stem}: no recipient under the circulation rules; not scheduled" for stem in unrouted]
    return sorted(chosen.values(), key=lambda d: (_deadline_order(d.latest), d.copy_spec.stem, d.recipient.key)), notes


def _deadline_order(latest: datetime | None) -> float:
    return latest.timestamp() if latest is not None else float("inf")


def booking_check(case: Mapping[str, Any], config: CirculationConfig, *, first_review: bool = False) -> BookingCheck:
    """The booking rules this conference breaks, and the meeting timescales its plan breaks."""
    kind = case["conference"]["kind"]
    anchors = anchors_of(case, config)
    at = anchors["conference"]
    booking_anchors = {k: v for k, v in anchors.items() if k in ("strategy_discussion", "transfer_agreed",
                                                                  "previous_conference")}
    if kind == "review" and first_review and "previous_conference" in anchors:
        booking_anchors["initial_conference"] = anchors["previous_conference"]
        del booking_anchors["previous_conference"]
    breaches = booking_breaches(config.rules, kind, at, booking_anchors, config.calendar, zone=config.zone)
    unchecked = [r.name for r in unchecked_booking_rules(config.rules, kind, booking_anchors)]
    meetings: list[tuple[str, Breach]] = []
    if "core_group" in anchors:
        for rule in applicable_rules(config.rules, kind, "core_group"):
            if rule.anchor == "conference":
                as_booking = replace(rule, document="conference", conference_kinds=frozenset({kind}))
                meetings += [("first core group", b) for b in booking_breaches(
                    [as_booking], kind, anchors["core_group"], {"conference": at}, config.calendar, zone=config.zone)]
    next_on = case["conference"].get("next_conference_on")
    if next_on:
        anchor = "previous_conference" if kind == "review" else "initial_conference"
        meetings += [("next review", b) for b in booking_breaches(
            config.rules, "review", _local(config, next_on), {anchor: at}, config.calendar, zone=config.zone)]
    return BookingCheck(tuple(breaches), tuple(unchecked), tuple(meetings))


# -- the outbox ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleResult:
    reference: str
    created: int
    updated: int
    made_ready: int
    cancelled: int
    items: tuple[OutboxItem, ...]
    booking: BookingCheck
    notes: tuple[str, ...]
    moved: tuple[WindowChange, ...] = ()  # stored windows moved, with the caller's agreement


def previous_conference_case(session: Session, case: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stored conference held on a review's ``previous_conference_on`` date, as a case, if any."""
    previous = case["conference"].get("previous_conference_on")
    if case["conference"]["kind"] != "review" or not previous:
        return None
    day = date.fromisoformat(str(previous))
    for conference in session.scalars(select(Conference).where(Conference.reference != case["reference"])
                                      .order_by(Conference.starts_at)):
        if conference.starts_at.date() == day:
            return load_case(session, conference.reference)  # validated when it was saved
    return None


def is_first_review(previous: Mapping[str, Any] | None) -> bool:
    """A review is the first when the conference before it made the plan (initial, pre-birth, transfer-in)."""
    return previous is not None and previous["conference"]["kind"] in ("initial", "pre_birth", "transfer_in")


def _record_booking(store: OutboxStore, case: Mapping[str, Any], check: BookingCheck, reason: str | None,
                    now: datetime) -> None:
    reference = case["reference"]
    reason = reason or case["conference"].get("booking_delay_reason")
    recorded = {b.key: b for b in store.breaches(kind="booking", reference=reference)}
    missing = [b for b in check.breaches
               if not (reason or (booking_key(reference, b.rule) in recorded
                                  and recorded[booking_key(reference, b.rule)].reason))]
    if missing:
        raise BookingReasonRequired(reference, tuple(missing))
    for breach in check.breaches:
        store.record_booking(BreachRecord(
            key=booking_key(reference, breach.rule), kind="booking", conference_reference=reference, rule=breach.rule,
            deadline_on=breach.deadline, working_days_late=breach.working_days_late or -breach.working_days_early,
            detected_at=now, reason=reason or None))


def schedule_conference(session: Session, case: Mapping[str, Any], config: CirculationConfig, *, now: datetime,
                        envelope_from: str, reason: str | None = None, first_review: bool | None = None,
                        approved_reports: frozenset[str] | None = None,
                        initial_case: Mapping[str, Any] | None = None, accept_changes: bool = False,
                        confirmed: str | None = None) -> ScheduleResult:
    """Write the conference's distributions into the outbox; safe to run again and again.

    Everything is written in ``session``'s transaction, which the caller commits. Raises
    ``BookingReasonRequired`` (nothing written) when the booking breaks a timescale and no
    reason is recorded yet, and ``WindowChangesNeedConfirmation`` (nothing written) when a
    stored item's window would move, unless ``accept_changes``; with ``confirmed`` (the digest
    of the list a person was shown) only that very list is accepted. The reports shared with the
    family are those the chair has decided to share, as they stand now, unless
    ``approved_reports`` names them; the items of a report no longer shared are cancelled like
    any copy no longer planned.
    """
    reference = case["reference"]
    store = outbox_store(session)
    store.reserve()  # before anything is read: no dispatch pass claims an item between the read and the writes
    first_review, initial_case = _reviews(session, case, first_review, initial_case)
    check = booking_check(case, config, first_review=first_review)
    _record_booking(store, case, check, reason, now)
    planned, notes = _plan(session, case, config, now=now, envelope_from=envelope_from,
                           approved_reports=approved_reports, initial_case=initial_case)
    changes = window_changes(conference_items(store, reference), planned)
    if changes and confirmed is not None and confirmed != changes_digest(changes):
        raise WindowChangesNeedConfirmation(reference, changes, config.zone, stale=True)
    if changes and not (accept_changes or confirmed is not None):
        raise WindowChangesNeedConfirmation(reference, changes, config.zone)
    changed = store.replan(reference, planned, now=now)
    items = conference_items(store, reference)
    return ScheduleResult(reference, len(changed.create), len(changed.update), changed.made_ready,
                          len(changed.cancel), tuple(items), check, tuple(notes), changes)


def schedule_changes(session: Session, case: Mapping[str, Any], config: CirculationConfig, *, now: datetime,
                     envelope_from: str, first_review: bool | None = None,
                     approved_reports: frozenset[str] | None = None,
                     initial_case: Mapping[str, Any] | None = None) -> tuple[WindowChange, ...]:
    """A dry run of ``schedule_conference``: the stored windows it would move, nothing written to
    the outbox (reading the chair's decisions on reports may note in the audit trail that one no
    longer applies, as scheduling does)."""
    first_review, initial_case = _reviews(session, case, first_review, initial_case)
    planned, _ = _plan(session, case, config, now=now, envelope_from=envelope_from,
                       approved_reports=approved_reports, initial_case=initial_case)
    return window_changes(conference_items(outbox_store(session), case["reference"]), planned)


def _reviews(session: Session, case: Mapping[str, Any], first_review: bool | None,
             initial_case: Mapping[str, Any] | None) -> tuple[bool, Mapping[str, Any] | None]:
    previous = previous_conference_case(session, case)
    if first_review is None:
        first_review = is_first_review(previous)
    if initial_case is None and is_first_review(previous):
        initial_case = previous
    return first_review, initial_case


def _plan(session: Session, case: Mapping[str, Any], config: CirculationConfig, *, now: datetime, envelope_from: str,
          approved_reports: frozenset[str] | None, initial_case: Mapping[str, Any] | None
          ) -> tuple[list[NewItem], list[str]]:
    if approved_reports is None:
        approved_reports = reports_shared_in(session, case, now, actor="docgen")
    planned, notes = plan_distributions(case, config, now=now, approved_reports=approved_reports,
                                        initial_case=initial_case)
    return [_planned(case, d, envelope_from, now) for d in planned], list(notes)


def _planned(case: Mapping[str, Any], d: Distribution, envelope_from: str, now: datetime) -> NewItem:
    return planned_item(
        conference=case["reference"], rule=d.rule, document=d.copy_spec.kind.key, copy=d.copy_spec.stem,
        recipient=d.recipient.key, recipient_name=d.recipient.name, recipient_address=d.recipient.address,
        envelope_from=envelope_from, now=now, not_before=d.earliest, deadline=d.latest, ready=d.content_ready,
        family_copy=d.copy_spec.audience.is_family_copy, audience=d.copy_spec.audience.kind,
        audience_person=d.copy_spec.audience.person, report=d.copy_spec.report)


def conference_items(outbox: OutboxSource, reference: str) -> list[OutboxItem]:
    """The conference's outbox items (notices excluded), by deadline."""
    items = outbox_store(outbox).conference_items(reference)
    return sorted(items, key=lambda i: (_deadline_order(i.deadline), i.copy, i.recipient))


def item_as_dict(item: OutboxItem, zone: Any) -> dict[str, Any]:
    """An item for ``--json`` output: local ISO times, no internal claim fields."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat() if value is not None else None
    return {"id": item.id, "rule": item.rule, "document": item.document, "copy": item.copy,
            "recipient": item.recipient, "recipient_name": item.recipient_name, "address": item.recipient_address,
            "family_copy": item.family_copy, "earliest": iso(item.not_before), "latest": iso(item.deadline),
            "state": item.state, "attempts": item.attempts, "sent_at": iso(item.sent_at), "late_by": item.late_by,
            "last_error": item.last_error, "hold_reason": item.hold_reason, "idempotency_key": item.idempotency_key}

