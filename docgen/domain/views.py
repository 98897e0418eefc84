"""Builds the view of a conference that templates are rendered from.

The view is the case file with references resolved (an invitee's name and role, an opinion's
author) and readable values added, always *inside* the node they belong to, so that a node's
confidentiality marking covers everything derived from it.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

CATEGORY_NAMES = {"physical": "Physical abuse", "emotional": "Emotional abuse", "sexual": "Sexual abuse", "neglect": "Neglect"}
KIND_NAMES = {"initial": "Initial child protection conference", "review": "Review child protection conference",
              "transfer_in": "Transfer-in child protection conference", "pre_birth": "Pre-birth child protection conference"}
ATTENDANCE_NAMES = {"invited": "Invited", "attended": "Attended", "part_attended": "Attended part",
                    "apologies": "Sent apologies", "did_not_attend": "Did not attend", "excluded": "Excluded"}
SHARING_NAMES = {"yes": "Yes", "no": "No", "chair_decides": "Chair to decide"}
DISCHARGE_REASONS = {
    "no_longer_at_risk": "The conference decided the child is no longer likely to suffer significant harm",
    "moved_to_another_authority": "The child has moved to another local authority, which has held its own conference",
    "reached_18": "The child has reached 18", "moved_abroad": "The child has moved permanently abroad",
    "died": "The child has died", "other": "Other reason (see details)",
}


def long_date(value: str | date | None) -> str:
    """``2026-11-19`` becomes ``Thursday 19 November 2026``."""
    if value is None or value == "":
        return ""
    parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{parsed:%A} {parsed.day} {parsed:%B %Y}"


def short_date(value: str | date | None) -> str:
    if value is None or value == "":
        return ""
    parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{parsed.day} {parsed:%B %Y}"


def clock_time(value: str) -> str:
    moment = datetime.fromisoformat(value)
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M}{'am' if moment.hour < 12 else 'pm'}"


def age_on(born: str, on: date) -> int:
    birth = date.fromisoformat(born)
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _address(node: dict[str, Any] | None) -> None:
    if node is not None:
        node["text"] = ", ".join([*node["lines"], *([node["postcode"]] if node.get("postcode") else [])])


_MARKING = ("confidentiality", "withheld_from", "reason")


def marking_of(node: dict[str, Any]) -> dict[str, Any]:
    """A node's confidentiality marking alone, to be carried by a node that repeats its text."""
    return {key: copy.deepcopy(node[key]) for key in _MARKING if key in node}


def inherit_marking(target: dict[str, Any], *sources: dict[str, Any]) -> None:
    """Mark ``target`` so that it is withheld from everyone any of ``sources`` is withheld from.

    A node that repeats a marked node's text (an invitation naming a withheld professional) must be
    withheld wherever that node is; the stricter of the markings wins.
    """
    for source in sources:
        if source.get("confidentiality") == "confidential":
            target["confidentiality"] = "confidential"
        if source.get("withheld_from"):
            target["withheld_from"] = sorted({*target.get("withheld_from", ()), *source["withheld_from"]})
        if "reason" in source and (source.get("confidentiality") == "confidential" or source.get("withheld_from")):
            target.setdefault("reason", source["reason"])


def build_case_view(case: dict[str, Any]) -> dict[str, Any]:
    """The whole conference as one view; documents take what they need from it."""
    view = copy.deepcopy(case)
    conference = view["conference"]
    on = date.fromisoformat(conference["starts_at"][:10])
    professionals = {p["id"]: p for p in view["professionals"]}
    agencies = {a["id"]: a for a in view["agencies"]}
    for person in view["professionals"]:
        person["agency_name"] = agencies[person["agency"]]["name"]
        # The professional's node repeats the agency's name, so it carries the agency's marking too.
        inherit_marking(person, agencies[person["agency"]])
    people: dict[str, dict[str, Any]] = {**{c["id"]: c for c in view["children"]}, **{f["id"]: f for f in view["family"]},
                                         **professionals}

    conference["kind_name"] = KIND_NAMES[conference["kind"]]
    conference["date_text"] = long_date(conference["starts_at"])
    conference["time_text"] = clock_time(conference["starts_at"])
    conference["end_time_text"] = clock_time(conference["ends_at"]) if "ends_at" in conference else ""
    conference["chair_name"] = professionals[conference["chair"]]["name"]
    conference["next_conference_text"] = long_date(conference.get("next_conference_on"))
    conference["is_review"] = conference["kind"] == "review"

    for child in view["children"]:
        _address(child.get("address"))
        child["born_text"] = short_date(child.get("date_of_birth")) or f"expected {short_date(child.get('expected_on'))}"
        child["age"] = age_on(child["date_of_birth"], on) if "date_of_birth" in child else None
        school = agencies[child.pop("school")] if "school" in child else None
        # A marked school's name lives only inside its own marked node, never as the child's plain text.
        child["school_name"] = school["name"] if school is not None and not marking_of(school) else ""
        child["school_agency"] = copy.deepcopy(school)
    for member in view["family"]:
        _address(member.get("address"))
        # Phone and email are one node with their own marking (validation fills it in), so that a
        # template can never show them to someone they are withheld from.
        member["contact"] = {key: member.pop(key) for key in ("phone", "email") if key in member}
        if member.get("contact_withheld_from"):
            member["contact"]["withheld_from"] = member.pop("contact_withheld_from")
    view["subject_children"] = [c for c in view["children"] if c["subject"]]
    view["other_children"] = [c for c in view["children"] if not c["subject"]]

    for invitation in view["invitations"]:
        person = people[invitation["invitee"]]
        invitation["name"] = person["name"]
        if invitation["invitee"] in professionals:
            invitation["invitee_kind"] = "professional"
            inherit_marking(invitation, person)
            invitation["role"] = f"{person['role']}, {person['agency_name']}"
        elif any(c["id"] == invitation["invitee"] for c in view["children"]):
            invitation["invitee_kind"] = "child"
            invitation["role"] = "Child"
        else:
            invitation["invitee_kind"] = "family"
            invitation["role"] = person["relationship"].capitalize()
        invitation["attendance_text"] = ATTENDANCE_NAMES[invitation["attendance"]]
        invitation["report_due_text"] = long_date(invitation.get("report_due_on"))

    for report in view["reports"]:
        # A report names its author and agency throughout, so it is withheld wherever they are.
        inherit_marking(report, professionals[report["author"]], *([agencies[report["agency"]]] if "agency" in report else []))
        report["author_name"] = professionals[report["author"]]["name"]
        report["author_role"] = professionals[report["author"]]["role"]
        report["agency_name"] = agencies[report["agency"]]["name"] if "agency" in report else professionals[report["author"]]["agency_name"]
        report["received_text"] = short_date(report.get("received_on"))
        report["shared_text"] = SHARING_NAMES[report["shared_with_parents"]]
        _resolve_opinions(report["sections"], people)
    _resolve_opinions(view["record"]["sections"], people)

    for decision in view["decisions"]:
        decision["child_name"] = people[decision["child"]]["name"]
        decision["category_name"] = CATEGORY_NAMES.get(decision.get("category", ""), "")
        for dissent in decision.get("dissent", []):
            dissent["name"] = people[dissent["by"]]["name"]
            inherit_marking(dissent, people[dissent["by"]])
    if "plan" in view:
        plan = view["plan"]
        plan["lead_social_worker_name"] = professionals[plan["lead_social_worker"]]["name"]
        plan["lead_social_worker_contact"] = professionals[plan["lead_social_worker"]].get("phone", "")
        plan["core_group"]["first_meeting_text"] = long_date(plan["core_group"]["first_meeting_on"])
        # Each member's id and description live in their own node, carrying the member's marking;
        # a bare list of ids would spell a withheld member's name ("joanna-baker") outside it.
        plan["core_group"]["member_entries"] = [
            {"person": key, "text": _describe(people[key], professionals), **marking_of(people[key])}
            for key in plan["core_group"].pop("members")]
        for action in plan["actions"]:
            action["by_when_text"] = short_date(action["by_when"])
            action["child_name"] = people[action["child"]]["name"] if "child" in action else "All children"
    for discharge in view["discharge"]:
        discharge["child_name"] = people[discharge["child"]]["name"]
        discharge["date_text"] = long_date(discharge["discharged_on"])
        discharge["reason_text"] = DISCHARGE_REASONS[discharge["reason"]]
    return view


def _describe(person: dict[str, Any], professionals: dict[str, Any]) -> str:
    if person["id"] in professionals:
        return f"{person['name']}, {person['role']}"
    return f"{person['name']} ({person.get('relationship', 'child')})"


def _resolve_opinions(sections: list[dict[str, Any]], people: dict[str, dict[str, Any]]) -> None:
    for section in sections:
        for item in section["items"]:
            if "opinion" in item:
                author = people[item["opinion"]["by"]]
                inherit_marking(item, author)
                role = author.get("role") or author.get("relationship", "")
                item["opinion"]["by_name"] = f"{author['name']} ({role})" if role else author["name"]
