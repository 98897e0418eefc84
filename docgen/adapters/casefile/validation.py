"""Checks a parsed case file against the published JSON Schema and the rules between fields.

Every problem is collected, each with its field path, so that whoever prepared the file can fix
them all in one go. A valid file comes back with the safe defaults filled in explicitly.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, NewType

import jsonschema

from docgen.errors import CaseFileError

SCHEMA_RESOURCE = "case-file.schema.json"

# A case that passed validate_case, defaults filled in. Only validate_case makes one, and the case
# store gives back exactly what it was given, so code that is handed one need not check it again.
ValidatedCase = NewType("ValidatedCase", dict[str, Any])


@cache
def case_file_schema() -> dict[str, Any]:
    """The published JSON Schema of the case-file format."""
    text = resources.files("docgen.adapters.casefile").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(["email"])

    @checker.checks("date", raises=ValueError)
    def _is_date(value: object) -> bool:
        if isinstance(value, str):
            date.fromisoformat(value)
            if len(value) != 10:
                raise ValueError("dates are written YYYY-MM-DD")
        return True

    @checker.checks("date-time", raises=ValueError)
    def _is_local_datetime(value: object) -> bool:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                raise ValueError("times are local (Europe/London) and carry no offset")
        return True

    return checker


def format_path(parts: Iterable[object]) -> str:
    """``("children", 0, "address")`` becomes ``children[0].address``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field {missing!r}"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s), not allowed")
    if error.validator == "oneOf" and error.schema.get("description", "").startswith("One item"):
        return "an item must have exactly one of 'text', 'opinion' or 'table'"
    if error.validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value}"
    if error.validator == "const":
        return f"must be {error.validator_value!r}"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of {allowed}"
    if error.validator == "type":
        return f"{error.instance!r} is not of type {error.validator_value}"
    return error.message


def _schema_problems(data: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(case_file_schema(), format_checker=_format_checker())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(f"{format_path(error.absolute_path)}: {_schema_message(error)}")
    return problems


class _References:
    """The ids declared in a case file, by what they name."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.children = {c["id"] for c in case["children"]}
        self.subject_children = {c["id"] for c in case["children"] if c["subject"]}
        self.family = {f["id"] for f in case["family"]}
        self.professionals = {p["id"] for p in case["professionals"]}
        self.agencies = {a["id"] for a in case["agencies"]}
        self.people = self.children | self.family | self.professionals
        self.family_audiences = self.children | self.family


def _duplicates(entries: list[dict[str, Any]], key: str) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        value = entry[key]
        if value in seen:
            yield index, value
        seen.add(value)


def _marked_nodes(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        if "withheld_from" in node:
            yield path, node
        for key, value in node.items():
            yield from _marked_nodes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _marked_nodes(value, (*path, index))


def _opinions(case: dict[str, Any]) -> Iterator[tuple[tuple[object, ...], str]]:
    containers: list[tuple[tuple[object, ...], dict[str, Any]]] = [(("record",), case.get("record", {}))]
    containers += [(("reports", i), report) for i, report in enumerate(case.get("reports", []))]
    for prefix, container in containers:
        for s, section in enumerate(container.get("sections", [])):
            for i, item in enumerate(section["items"]):
                if "opinion" in item:
                    yield (*prefix, "sections", s, "items", i, "opinion", "by"), item["opinion"]["by"]


def _reference_problems(case: dict[str, Any]) -> list[str]:
    refs = _References(case)
    problems: list[str] = []

    def need(path: tuple[object, ...], value: str, allowed: set[str], what: str) -> None:
        if value not in allowed:
            problems.append(f"{format_path(path)}: {value!r} is not the id of any {what} in this file")

    for section, key in (("children", "id"), ("family", "id"), ("professionals", "id"), ("agencies", "id"), ("reports", "id")):
        for index, value in _duplicates(case.get(section, []), key):
            problems.append(f"{format_path((section, index, key))}: the id {value!r} is used twice")
    for index, value in _duplicates(case["invitations"], "invitee"):
        problems.append(f"{format_path(('invitations', index, 'invitee'))}: {value!r} is invited twice")
    shared_ids = (refs.children & refs.family) | (refs.children & refs.professionals) | (refs.family & refs.professionals)
    for value in sorted(shared_ids):
        problems.append(f"(top level): the id {value!r} names more than one person; ids must be unique across children, family and professionals")

    conference = case["conference"]
    need(("conference", "chair"), conference["chair"], refs.professionals, "professional")
    kind = conference["kind"]
    required_anchor = {"initial": "strategy_discussion_on", "pre_birth": "strategy_discussion_on",
                       "transfer_in": "transfer_agreed_on", "review": "previous_conference_on"}[kind]
    if required_anchor not in conference:
        problems.append(f"conference.{required_anchor}: required for a {kind.replace('_', '-')} conference")
    starts = datetime.fromisoformat(conference["starts_at"])
    if "ends_at" in conference and datetime.fromisoformat(conference["ends_at"]) <= starts:
        problems.append("conference.ends_at: must be after conference.starts_at")
    if required_anchor in conference and date.fromisoformat(conference[required_anchor]) > starts.date():
        problems.append(f"conference.{required_anchor}: must be on or before the conference date")
    if "next_conference_on" in conference and date.fromisoformat(conference["next_conference_on"]) <= starts.date():
        problems.append("conference.next_conference_on: must be after the conference date")

    for index, child in enumerate(case["children"]):
        if "date_of_birth" not in child and "expected_on" not in child:
            problems.append(f"children[{index}]: give date_of_birth, or expected_on for an unborn child")
        if "school" in child:
            need(("children", index, "school"), child["school"], refs.agencies, "agency")
    for index, professional in enumerate(case["professionals"]):
        need(("professionals", index, "agency"), professional["agency"], refs.agencies, "agency")
    for index, invitation in enumerate(case["invitations"]):
        need(("invitations", index, "invitee"), invitation["invitee"], refs.people, "child, family member or professional")
        if invitation.get("attendance") == "excluded" and invitation["invitee"] in refs.professionals:
            problems.append(f"invitations[{index}].attendance: only a family member can be excluded")
    for index, report in enumerate(case.get("reports", [])):
        need(("reports", index, "author"), report["author"], refs.professionals, "professional")
        if "agency" in report:
            need(("reports", index, "agency"), report["agency"], refs.agencies, "agency")
    for path, by in _opinions(case):
        need(path, by, refs.professionals | refs.family, "professional or family member")
    decided: set[str] = set()
    for index, decision in enumerate(case.get("decisions", [])):
        need(("decisions", index, "child"), decision["child"], refs.subject_children, "subject child")
        if decision["child"] in decided:
            problems.append(f"decisions[{index}].child: {decision['child']!r} has more than one decision")
        decided.add(decision["child"])
        for d, dissent in enumerate(decision.get("dissent", [])):
            need(("decisions", index, "dissent", d, "by"), dissent["by"], refs.people, "person")
    if "plan" in case:
        plan = case["plan"]
        need(("plan", "lead_social_worker"), plan["lead_social_worker"], refs.professionals, "professional")
        for index, member in enumerate(plan["core_group"]["members"]):
            need(("plan", "core_group", "members", index), member, refs.professionals | refs.family, "professional or family member")
        for index, action in enumerate(plan["actions"]):
            if "child" in action:
                need(("plan", "actions", index, "child"), action["child"], refs.children, "child")
    for index, discharge in enumerate(case.get("discharge", [])):
        need(("discharge", index, "child"), discharge["child"], refs.subject_children, "subject child")
    for path, node in _marked_nodes(case):
        for w, person in enumerate(node["withheld_from"]):
            need((*path, "withheld_from", w), person, refs.family_audiences, "family member or child")
    return problems


def _default_address_markings(case: dict[str, Any]) -> None:
    """Make every unmarked address's marking explicit, withholding it where that is safest.

    A child's address is withheld from family members who do not live with the child; a family
    member's address from every other family member and child who does not share their household.
    """
    household = {f["id"] for f in case["family"] if f["lives_with_child"]} | {c["id"] for c in case["children"]}
    everyone = {f["id"] for f in case["family"]} | {c["id"] for c in case["children"]}
    for person in [*case["children"], *case["family"]]:
        address = person.get("address")
        if address is None or "withheld_from" in address or "confidentiality" in address:
            continue
        in_household = person["id"] in household and person.get("lives_with_child", True)
        sharers = household if in_household else {person["id"]}
        withheld = sorted(everyone - sharers)
        if withheld:
            address["withheld_from"] = withheld


def _apply_defaults(case: dict[str, Any]) -> dict[str, Any]:
    case = copy.deepcopy(case)
    _default_address_markings(case)
    for report in case.get("reports", []):
        report.setdefault("shared_with_parents", "chair_decides")
        report.setdefault("sections", [])
    for invitation in case["invitations"]:
        invitation.setdefault("attendance", "invited")
    case.setdefault("reports", [])
    case.setdefault("decisions", [])
    case.setdefault("discharge", [])
    case.setdefault("record", {"sections": []})
    return case


def validate_case(data: object, *, source: str) -> ValidatedCase:
    """Validate a parsed case file; return it with defaults made explicit, or raise CaseFileError."""
    problems = _schema_problems(data)
    if problems:
        raise CaseFileError(source, problems)
    assert isinstance(data, dict)
    problems = _reference_problems(data)
    if problems:
        raise CaseFileError(source, problems)
    return ValidatedCase(_apply_defaults(data))
