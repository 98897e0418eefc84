"""The newest version of each conference spread over relational tables, for queries, and read back.

Documents are made from the stored version itself (``case_store``); these rows are what queries
across conferences use (dates, people, the recipient directory), and they are rewritten whenever a
new version is saved. ``read_rows`` rebuilds a case from them; the migration that introduced
versions used it to carry existing conferences over.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docgen.adapters.orm import (
    Agency,
    Child,
    Conference,
    ContentItem,
    CoreGroupMember,
    Decision,
    Discharge,
    FamilyMember,
    Invitation,
    PlanAction,
    PlanOutcome,
    Professional,
    Report,
)
from docgen.errors import NotFoundError


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _marking_in(node: dict[str, Any]) -> dict[str, Any]:
    withheld = node.get("withheld_from")
    confidentiality = node.get("confidentiality", "open")
    return {"confidentiality": confidentiality, "withheld_from": list(withheld) if withheld else None,
            "withheld_reason": node.get("reason")}


def _marking_out(row: Any, out: dict[str, Any]) -> dict[str, Any]:
    if row.confidentiality != "open":
        out["confidentiality"] = row.confidentiality
    if row.withheld_from:
        out["withheld_from"] = list(row.withheld_from)
    if row.withheld_reason:
        out["reason"] = row.withheld_reason
    return out


def _address_in(node: dict[str, Any] | None) -> dict[str, Any]:
    if node is None:
        return {}
    return {"address_lines": list(node["lines"]), "address_postcode": node.get("postcode"),
            "address_confidentiality": node.get("confidentiality"),
            "address_withheld_from": list(node["withheld_from"]) if node.get("withheld_from") else None,
            "address_withheld_reason": node.get("reason")}


def _address_out(row: Child | FamilyMember) -> dict[str, Any] | None:
    if row.address_lines is None:
        return None
    return _compact({"lines": list(row.address_lines), "postcode": row.address_postcode,
                     "confidentiality": row.address_confidentiality, "withheld_from": row.address_withheld_from,
                     "reason": row.address_withheld_reason})


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if value is not None}


def _upsert_directory(session: Session, case: dict[str, Any]) -> tuple[dict[str, Agency], dict[str, Professional]]:
    agencies: dict[str, Agency] = {}
    for entry in case["agencies"]:
        agency = session.scalar(select(Agency).where(Agency.key == entry["id"])) or Agency(key=entry["id"])
        agency.name, agency.kind = entry["name"], entry["kind"]
        agency.address, agency.email = entry.get("address"), entry.get("email")
        session.add(agency)
        agencies[entry["id"]] = agency
    professionals: dict[str, Professional] = {}
    for entry in case["professionals"]:
        person = session.scalar(select(Professional).where(Professional.key == entry["id"])) or Professional(key=entry["id"])
        person.name, person.role, person.email, person.phone = entry["name"], entry["role"], entry["email"], entry.get("phone")
        person.agency = agencies[entry["agency"]]
        session.add(person)
        professionals[entry["id"]] = person
    return agencies, professionals


def _sections_in(conference: Conference, sections: list[dict[str, Any]], report: Report | None) -> None:
    for s, section in enumerate(sections):
        parent = ContentItem(position=s, kind="section", title=section["title"], **_marking_in(section))
        parent.report_id = None
        items: list[ContentItem] = []
        for i, item in enumerate(section["items"]):
            if "text" in item:
                row = ContentItem(position=i, kind="text", body=item["text"], **_marking_in(item))
            elif "opinion" in item:
                row = ContentItem(position=i, kind="opinion", body=item["opinion"]["text"],
                                  opinion_by=item["opinion"]["by"], **_marking_in(item))
            else:
                table = item["table"]
                row = ContentItem(position=i, kind="table", columns=list(table["columns"]), **_marking_in(item))
                for r, cells in enumerate(table["rows"]):
                    items.append(ContentItem(position=r, kind="row", cells=list(cells["cells"]), **_marking_in(cells),
                                             parent_item=row))
            row.parent_item = parent
            items.append(row)
        for row in [parent, *items]:
            row.report = report
            conference.content.append(row)


def write_rows(session: Session, case: dict[str, Any], *, version: int, source_sha256: str, now: datetime) -> Conference:
    """Spread a validated case over the conference tables as its content version ``version``,
    in place of the rows of its earlier version; its agencies and professionals are added to the
    directory, or update the entries there with the same ids."""
    existing = session.scalar(select(Conference).where(Conference.reference == case["reference"]))
    agencies, professionals = _upsert_directory(session, case)
    if existing is not None:
        session.delete(existing)
        session.flush()
    c = case["conference"]
    conference = Conference(
        reference=case["reference"], kind=c["kind"], starts_at=_dt(c["starts_at"]), ends_at=_dt(c.get("ends_at")),
        strategy_discussion_on=_d(c.get("strategy_discussion_on")), transfer_agreed_on=_d(c.get("transfer_agreed_on")),
        previous_conference_on=_d(c.get("previous_conference_on")), venue=c.get("venue"), virtual_link=c.get("virtual_link"),
        chair=professionals[c["chair"]], minute_taker=c.get("minute_taker"), quorate=c.get("quorate"),
        purpose=c.get("purpose"), booking_delay_reason=c.get("booking_delay_reason"),
        next_conference_on=_d(c.get("next_conference_on")), content_version=version,
        source_sha256=source_sha256, imported_at=now)
    children: dict[str, Child] = {}
    for position, entry in enumerate(case["children"]):
        child = Child(position=position, key=entry["id"], name=entry["name"], date_of_birth=_d(entry.get("date_of_birth")),
                      expected_on=_d(entry.get("expected_on")), gender=entry.get("gender"), subject=entry["subject"],
                      first_language=entry.get("first_language"), views=entry.get("views"),
                      school=agencies[entry["school"]] if "school" in entry else None, **_address_in(entry.get("address")))
        conference.children.append(child)
        children[entry["id"]] = child
    family: dict[str, FamilyMember] = {}
    for position, entry in enumerate(case["family"]):
        member = FamilyMember(
            position=position, key=entry["id"], name=entry["name"], name_in_own_script=entry.get("name_in_own_script"),
            relationship_to_child=entry["relationship"], parental_responsibility=entry["parental_responsibility"],
            lives_with_child=entry["lives_with_child"], preferred_language=entry.get("preferred_language"),
            interpreter_needed=entry.get("interpreter_needed"), communication_needs=entry.get("communication_needs"),
            email=entry.get("email"), phone=entry.get("phone"), **_address_in(entry.get("address")))
        conference.family.append(member)
        family[entry["id"]] = member
    for position, entry in enumerate(case["invitations"]):
        key = entry["invitee"]
        conference.invitations.append(Invitation(
            position=position, child=children.get(key), family_member=family.get(key), professional=professionals.get(key),
            attendance=entry["attendance"], exclusion_reason=entry.get("exclusion_reason"), note=entry.get("note"),
            supporter=entry.get("supporter"), invited_separately=entry.get("invited_separately"),
            report_due_on=_d(entry.get("report_due_on"))))
    for position, entry in enumerate(case["reports"]):
        report = Report(position=position, key=entry["id"], kind=entry["kind"], title=entry["title"],
                        author=professionals[entry["author"]], agency=agencies.get(entry.get("agency", "")),
                        received_on=_d(entry.get("received_on")), shared_with_parents=entry["shared_with_parents"],
                        sharing_note=entry.get("sharing_note"), **_marking_in(entry))
        conference.reports.append(report)
        _sections_in(conference, entry["sections"], report)
    _sections_in(conference, case["record"]["sections"], None)
    for position, entry in enumerate(case["decisions"]):
        conference.decisions.append(Decision(
            position=position, child=children[entry["child"]], plan=entry["plan"], category=entry.get("category"),
            other_concerns=entry.get("other_concerns"), reasons=entry["reasons"], dissent=entry.get("dissent")))
    if "plan" in case:
        plan = case["plan"]
        conference.lead_social_worker = professionals[plan["lead_social_worker"]]
        conference.plan_contingency = plan["contingency"]
        conference.core_group_first_meeting_on = _d(plan["core_group"]["first_meeting_on"])
        for position, text in enumerate(plan.get("outcomes", [])):
            conference.plan_outcomes.append(PlanOutcome(position=position, text=text))
        for position, entry in enumerate(plan["actions"]):
            conference.plan_actions.append(PlanAction(
                position=position, what=entry["what"], who=entry["who"], by_when=_d(entry["by_when"]),
                progress_check=entry["progress_check"], child=children.get(entry.get("child", "")), **_marking_in(entry)))
        for position, key in enumerate(plan["core_group"]["members"]):
            conference.core_group.append(CoreGroupMember(
                position=position, professional=professionals.get(key), family_member=family.get(key)))
    for position, entry in enumerate(case["discharge"]):
        conference.discharges.append(Discharge(
            position=position, child=children[entry["child"]], discharged_on=_d(entry["discharged_on"]),
            reason=entry["reason"], details=entry.get("details"), continuing_support=entry.get("continuing_support")))
    session.add(conference)
    session.flush()
    return conference


def _sections_out(conference: Conference, report: Report | None) -> list[dict[str, Any]]:
    mine = [row for row in conference.content if row.report is report]
    by_parent: dict[int, list[ContentItem]] = {}
    for row in mine:
        if row.parent_id is not None:
            by_parent.setdefault(row.parent_id, []).append(row)
    sections = []
    for section in sorted((r for r in mine if r.kind == "section"), key=lambda r: r.position):
        items = []
        for row in sorted(by_parent.get(section.id, []), key=lambda r: r.position):
            if row.kind == "text":
                item: dict[str, Any] = {"text": row.body}
            elif row.kind == "opinion":
                item = {"opinion": {"by": row.opinion_by, "text": row.body}}
            else:
                rows = sorted(by_parent.get(row.id, []), key=lambda r: r.position)
                item = {"table": {"columns": list(row.columns or []),
                                  "rows": [_marking_out(r, {"cells": list(r.cells or [])}) for r in rows]}}
            items.append(_marking_out(row, item))
        sections.append(_marking_out(section, {"title": section.title, "items": items}))
    return sections


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_from_conference(conference: Conference, agencies: list[Agency], professionals: list[Professional]) -> dict[str, Any]:
    """The conference as a case file, with its defaults explicit (as validation leaves them)."""
    def invitee_key(invitation: Invitation) -> str:
        person = invitation.child or invitation.family_member or invitation.professional
        assert person is not None
        return person.key

    case: dict[str, Any] = {
        "format": "docgen.case/1",
        "reference": conference.reference,
        "conference": _compact({
            "kind": conference.kind, "starts_at": _iso(conference.starts_at), "ends_at": _iso(conference.ends_at),
            "strategy_discussion_on": _iso(conference.strategy_discussion_on),
            "transfer_agreed_on": _iso(conference.transfer_agreed_on),
            "previous_conference_on": _iso(conference.previous_conference_on),
            "venue": conference.venue, "virtual_link": conference.virtual_link, "chair": conference.chair.key,
            "minute_taker": conference.minute_taker, "quorate": conference.quorate, "purpose": conference.purpose,
            "booking_delay_reason": conference.booking_delay_reason,
            "next_conference_on": _iso(conference.next_conference_on)}),
        "children": [_compact({
            "id": c.key, "name": c.name, "date_of_birth": _iso(c.date_of_birth), "expected_on": _iso(c.expected_on),
            "gender": c.gender, "subject": c.subject, "first_language": c.first_language,
            "school": c.school.key if c.school else None, "address": _address_out(c), "views": c.views})
            for c in conference.children],
        "family": [_compact({
            "id": f.key, "name": f.name, "name_in_own_script": f.name_in_own_script,
            "relationship": f.relationship_to_child, "parental_responsibility": f.parental_responsibility,
            "lives_with_child": f.lives_with_child, "preferred_language": f.preferred_language,
            "interpreter_needed": f.interpreter_needed, "communication_needs": f.communication_needs,
            "email": f.email, "phone": f.phone, "address": _address_out(f)}) for f in conference.family],
        "agencies": [_compact({"id": a.key, "name": a.name, "kind": a.kind, "address": a.address, "email": a.email})
                     for a in agencies],
        "professionals": [_compact({"id": p.key, "name": p.name, "role": p.role, "agency": p.agency.key,
                                    "email": p.email, "phone": p.phone}) for p in professionals],
        "invitations": [_compact({
            "invitee": invitee_key(i), "attendance": i.attendance, "supporter": i.supporter,
            "invited_separately": i.invited_separately, "exclusion_reason": i.exclusion_reason, "note": i.note,
            "report_due_on": _iso(i.report_due_on)}) for i in conference.invitations],
        "reports": [_marking_out(r, _compact({
            "id": r.key, "kind": r.kind, "title": r.title, "author": r.author.key,
            "agency": r.agency.key if r.agency else None, "received_on": _iso(r.received_on),
            "shared_with_parents": r.shared_with_parents, "sharing_note": r.sharing_note,
            "sections": _sections_out(conference, r)})) for r in conference.reports],
        "record": {"sections": _sections_out(conference, None)},
        "decisions": [_compact({
            "child": d.child.key, "plan": d.plan, "category": d.category, "other_concerns": d.other_concerns,
            "reasons": d.reasons, "dissent": d.dissent}) for d in conference.decisions],
        "discharge": [_compact({
            "child": d.child.key, "discharged_on": _iso(d.discharged_on), "reason": d.reason, "details": d.details,
            "continuing_support": d.continuing_support}) for d in conference.discharges],
    }
    if conference.lead_social_worker is not None:
        case["plan"] = {
            "lead_social_worker": conference.lead_social_worker.key,
            "outcomes": [o.text for o in conference.plan_outcomes],
            "actions": [_marking_out(a, _compact({
                "what": a.what, "who": a.who, "by_when": _iso(a.by_when), "progress_check": a.progress_check,
                "child": a.child.key if a.child else None})) for a in conference.plan_actions],
            "contingency": conference.plan_contingency,
            "core_group": {"members": [(m.professional or m.family_member).key for m in conference.core_group],  # type: ignore[union-attr]
                           "first_meeting_on": _iso(conference.core_group_first_meeting_on)},
        }
    return case


def find_conference(session: Session, reference: str) -> Conference:
    """The conference's rows with this reference, or NotFoundError."""
    conference = session.scalar(select(Conference).where(Conference.reference == reference))
    if conference is None:
        raise NotFoundError(f"no conference with the reference {reference!r} has been imported")
    return conference


def read_rows(session: Session, reference: str) -> dict[str, Any]:
    """A conference rebuilt from its rows as a case file, with only the agencies and professionals
    it mentions, as they are in the directory now, in the directory's order."""
    conference = find_conference(session, reference)
    professionals: dict[int, Professional] = {}
    for person in [conference.chair, conference.lead_social_worker, *(i.professional for i in conference.invitations),
                   *(r.author for r in conference.reports), *(m.professional for m in conference.core_group)]:
        if person is not None:
            professionals[person.id] = person
    agencies: dict[int, Agency] = {p.agency.id: p.agency for p in professionals.values()}
    for entry in [*(c.school for c in conference.children), *(r.agency for r in conference.reports)]:
        if entry is not None:
            agencies[entry.id] = entry
    return case_from_conference(conference, sorted(agencies.values(), key=lambda a: a.id),
                                sorted(professionals.values(), key=lambda p: p.id))
