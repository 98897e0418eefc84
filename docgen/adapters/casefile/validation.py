"""Checks a parsed case file against the published JSON Schema and the rules between fields.

Every problem is collected, each with its field path, so that whoever prepared the file can fix
them all in one go. A valid file comes back with the safe defaults filled in explicitly.
"""

from __future__ import annotations

import copy
import json
import unicodedata
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


PREVIEW_CHARACTERS = 60

# Format characters that spell words correctly in some scripts (Persian, Indic): a zero-width
# non-joiner and joiner. Every other invisible format character can only disguise text.
_ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})


def preview(value: object) -> str:
    """A value as a message may show it: at most its first 60 characters, so that a message never
    repeats a long value or more case content than is needed to find the place."""
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= PREVIEW_CHARACTERS else text[:PREVIEW_CHARACTERS] + "..."
    # repr shows control and format characters as escapes, so the preview cannot hide them either.
    return repr(value[:PREVIEW_CHARACTERS]) + ("..." if len(value) > PREVIEW_CHARACTERS else "")


def _hidden_character(character: str) -> bool:
    category = unicodedata.category(character)
    if category == "Cc":
        return character not in "\n\t"
    return category == "Cf" and character not in _ALLOWED_FORMAT_CHARACTERS


def _has_hidden(text: str) -> bool:
    return any(_hidden_character(character) for character in text)


def _character_problems(node: object, path: tuple[object, ...] = ()) -> Iterator[str]:
    """Control and invisible format characters anywhere in the file, keys included, with their field path.

    A right-to-left override, a null byte or a zero-width space can make text read differently from
    what it is, and can hide withheld text from the checks that look for it; none belongs in a case file.
    """
    if isinstance(node, str):
        found = sorted({f"U+{ord(c):04X} {unicodedata.name(c, 'control character').lower()}" for c in node if _hidden_character(c)})
        if found:
            yield (f"{format_path(path)}: contains {', '.join(found)}, which may not appear in a case file "
                   f"(it can disguise text); remove it. The value starts {preview(node)}")
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and _has_hidden(key):
                yield f"{format_path(path)}: a field name contains a control or invisible format character; remove it"
            yield from _character_problems(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _character_problems(value, (*path, index))


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "maxLength":
        return (f"is {len(error.instance)} characters long; the limit is {error.validator_value}. "
                f"The value starts {preview(error.instance)}")
    if error.validator == "minLength":
        return f"must be at least {error.validator_value} character(s) long"
    if error.validator == "maxItems":
        return f"has {len(error.instance)} entries; the limit is {error.validator_value}"
    if error.validator == "minItems":
        return f"must have at least {error.validator_value} entries"
    if error.validator == "pattern":
        return f"{preview(error.instance)} is not in the expected form (pattern {error.validator_value})"
    if error.validator == "uniqueItems":
        return "lists the same entry twice"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field {missing!r}"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s), not allowed")
    if error.validator == "oneOf" and error.schema.get("description", "").startswith("One item"):
        return "an item must have exactly one of 'text', 'opinion' or 'table'"
    if error.validator == "format":
        return f"{preview(error.instance)} is not a valid {error.validator_value}"
    if error.validator == "const":
        return f"must be {error.validator_value!r}"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{preview(error.instance)} is not one of {allowed}"
    if error.validator == "type":
        return f"{preview(error.instance)} is not of type {error.validator_value}"
    # jsonschema's own messages quote the whole value; show only its start.
    return error.message.replace(repr(error.instance), preview(error.instance))


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
    for index, member in enumerate(case["family"]):
        for key, allowed, what in (("at_risk_from", refs.family, "family member"),
                                   ("contact_shareable_with", refs.family_audiences, "family member or child"),
                                   ("contact_withheld_from", refs.family_audiences, "family member or child")):
            for w, person in enumerate(member.get(key, [])):
                need(("family", index, key, w), person, allowed, what)
        if member["id"] in member.get("at_risk_from", []):
            problems.append(f"family[{index}].at_risk_from: a person cannot be at risk from themselves")
    for path, node in _marked_nodes(case):
        for w, person in enumerate(node["withheld_from"]):
            need((*path, "withheld_from", w), person, refs.family_audiences, "family member or child")
    return problems


def _address_key(address: dict[str, Any] | None) -> tuple[str, ...] | None:
    """Two addresses are the same home when their lines and postcode match, case and spacing aside."""
    if address is None:
        return None
    parts = [*address["lines"], address.get("postcode", "")]
    return tuple(" ".join(part.split()).casefold() for part in parts)


def _homes(case: dict[str, Any]) -> dict[str, tuple[str, ...] | None]:
    """Where each family member and child lives, as far as the file says.

    A child with no address of their own lives with the adults who live with the children, if those
    adults share one address; in shared care (two homes) the child's home is unknown, and nothing
    is shared with them on the strength of it.
    """
    homes = {person["id"]: _address_key(person.get("address")) for person in [*case["children"], *case["family"]]}
    carer_homes = {homes[f["id"]] for f in case["family"] if f["lives_with_child"] and homes[f["id"]] is not None}
    single_home = next(iter(carer_homes)) if len(carer_homes) == 1 else None
    for person in [*case["children"], *case["family"]]:
        lives_with_children = person.get("lives_with_child", True)
        if homes[person["id"]] is None and lives_with_children:
            homes[person["id"]] = single_home
    return homes


def _default_address_markings(case: dict[str, Any]) -> None:
    """Make every unmarked address's and contact's marking explicit, withholding where that is safest.

    A family member's or child's address, phone and email are withheld from every family member and
    child who does not live at the same address, unless named in ``contact_shareable_with``. Two
    parents who both live with the children at different addresses (shared care) therefore do not
    see each other's address, nor the children's address at the other parent's home.
    """
    homes = _homes(case)
    everyone = set(homes)
    family = {f["id"] for f in case["family"]}
    for person in [*case["children"], *case["family"]]:
        home = homes[person["id"]]
        sharers = {person["id"], *person.get("contact_shareable_with", ())}
        if home is not None:
            sharers |= {other for other, their_home in homes.items() if their_home == home}
        withheld = sorted(everyone - sharers)
        address = person.get("address")
        if address is not None and "withheld_from" not in address and "confidentiality" not in address and withheld:
            address["withheld_from"] = withheld
        # Phone and email go wherever the address may go, and no further: an address marked by hand
        # (stricter than the default) takes the contact details with it.
        contact = set(withheld)
        if address is not None:
            contact |= set(address.get("withheld_from", ()))
            if address.get("confidentiality") == "confidential":
                contact |= everyone - {person["id"]}
        has_contact = person["id"] in family and (person.get("phone") or person.get("email"))
        if has_contact and "contact_withheld_from" not in person and contact:
            person["contact_withheld_from"] = sorted(contact)


def _add_withheld(node: dict[str, Any], people: Iterable[str], reason: str) -> None:
    """Withhold ``node`` from ``people`` as well as whoever it is withheld from already."""
    if node.get("confidentiality") == "confidential":
        return
    merged = sorted({*node.get("withheld_from", ()), *people})
    if merged:
        node["withheld_from"] = merged
        node.setdefault("reason", reason)


def _at_risk_markings(case: dict[str, Any]) -> None:
    """Withhold whatever could locate a person at risk from each person they are at risk from.

    That is their address, phone and email; the addresses and the school or nursery of the children
    who live with them; and every node marked with reason ``victim_whereabouts``.
    """
    homes = _homes(case)
    agencies = {a["id"]: a for a in case["agencies"]}
    all_risks: set[str] = set()
    for member in case["family"]:
        risks = set(member.get("at_risk_from", ()))
        if not risks:
            continue
        all_risks |= risks
        if "address" in member:
            _add_withheld(member["address"], risks, "victim_whereabouts")
        if member.get("phone") or member.get("email"):
            member["contact_withheld_from"] = sorted({*member.get("contact_withheld_from", ()), *risks})
        home = homes[member["id"]]
        for child in case["children"]:
            if home is None or homes[child["id"]] != home:
                continue
            if "address" in child:
                _add_withheld(child["address"], risks, "victim_whereabouts")
            if "school" in child:
                _add_withheld(agencies[child["school"]], risks, "victim_whereabouts")
    if all_risks:
        for _, node in _reason_nodes(case, "victim_whereabouts"):
            _add_withheld(node, all_risks, "victim_whereabouts")


def _reason_nodes(node: object, reason: str, path: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("reason") == reason:
            yield path, node
        for key, value in node.items():
            yield from _reason_nodes(value, reason, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _reason_nodes(value, reason, (*path, index))


def _apply_defaults(case: dict[str, Any]) -> dict[str, Any]:
    case = copy.deepcopy(case)
    _default_address_markings(case)
    _at_risk_markings(case)
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


def _unmarkable_problems(case: dict[str, Any]) -> list[str]:
    """The chair and the lead social worker are named in every document a family member gets,
    as the people to contact, so neither they nor their agency can be withheld from anyone."""
    professionals = {p["id"]: (i, p) for i, p in enumerate(case["professionals"])}
    agencies = {a["id"]: (i, a) for i, a in enumerate(case["agencies"])}
    roles = [("conference.chair", case["conference"]["chair"])]
    if "plan" in case:
        roles.append(("plan.lead_social_worker", case["plan"]["lead_social_worker"]))
    problems = []
    for where, key in roles:
        index, person = professionals[key]
        agency_index, agency = agencies[person["agency"]]
        for path, node in ((f"professionals[{index}]", person), (f"agencies[{agency_index}]", agency)):
            if node.get("confidentiality") == "confidential" or node.get("withheld_from"):
                problems.append(f"{path}: is marked as withheld, but {where} ({key!r}) is named in every family "
                                "document and cannot be withheld; remove the marking or choose another person")
    return problems


def validate_case(data: object, *, source: str) -> ValidatedCase:
    """Validate a parsed case file; return it with defaults made explicit, or raise CaseFileError."""
    problems = list(_character_problems(data))
    if problems:
        raise CaseFileError(source, problems)
    problems = _schema_problems(data)
    if problems:
        raise CaseFileError(source, problems)
    assert isinstance(data, dict)
    problems = _reference_problems(data)
    if problems:
        raise CaseFileError(source, problems)
    case = _apply_defaults(data)
    problems = _unmarkable_problems(case)
    if problems:
        raise CaseFileError(source, problems)
    return ValidatedCase(case)
