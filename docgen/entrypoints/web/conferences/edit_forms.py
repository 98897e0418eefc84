"""The forms of the conference and record editors: which fields each entry has, how an entry becomes a
form's values and a form's values become the fields to save, and which form field a case-file
problem's path concerns. Only the shape of a form is decided here; every rule is the case file's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

YES_NO = (("yes", "Yes"), ("no", "No"))
REASONS = (("third_party", "Third-party information"), ("police_investigation", "Police investigation"),
           ("legal_advice", "Legal advice"), ("risk_to_child", "Risk to a child"),
           ("victim_whereabouts", "Where a victim lives or can be found"), ("child_disclosure", "A child's disclosure"),
           ("other", "Another reason"))
ATTENDANCE = (("invited", "Invited"), ("attended", "Attended"), ("part_attended", "Attended part of the conference"),
              ("apologies", "Sent apologies"), ("did_not_attend", "Did not attend"), ("excluded", "Excluded"))
KINDS = (("initial", "Initial conference"), ("review", "Review conference"), ("transfer_in", "Transfer-in conference"),
         ("pre_birth", "Pre-birth conference"))
AGENCY_KINDS = tuple((k, k.replace("_", " ").capitalize()) for k in (
    "social_care", "police", "health", "education", "probation", "legal", "advocacy", "housing", "other"))
GENDERS = (("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Not known"))
MAX_FIELD = 20000


@dataclass(frozen=True)
class Field:
    """One control of a form. ``key`` is the entry's field (and the control's name and id); ``kind`` is
    text, textarea, date, time, email, yesno, choice (radios), select (people or agencies of the
    case, named by ``options``), people (checkboxes), lines (one a line), marking (radios), reason."""

    key: str
    label: str
    kind: str = "text"
    hint: str = ""
    options: tuple[tuple[str, str], ...] | str = ()
    fixed: bool = False  # shown but not changed once the entry exists (others refer to it by it)


def marking_fields(what: str) -> tuple[Field, ...]:
    return (Field("marking", f"Who may see this {what}", "marking"),
            Field("withheld_from", "Withheld from", "people", "If it is withheld from named people: tick each family member or child who must not see it",
                  "people"),
            Field("reason", "Why it is withheld", "reason", "For the chair only; never printed in a family copy"))


ID_HINT = "A short name other entries use for it: lower-case letters, digits and hyphens, for example karim"
ADDRESS = (Field("address_lines", "Address", "lines", "One line of the address a line, without the postcode"),
           Field("address_postcode", "Postcode", "text"))

CONFERENCE = (
    Field("kind", "Kind of conference", "choice", options=KINDS),
    Field("starts_on", "Date of the conference", "date"),
    Field("starts_time", "Start time", "time", "24-hour clock, for example 10:00"),
    Field("ends_time", "End time", "time", "24-hour clock, for example 12:30"),
    Field("venue", "Venue"),
    Field("virtual_link", "Link to join online", hint="Starts https://"),
    Field("chair", "Chair", "select", options="professionals"),
    Field("minute_taker", "Minute taker"),
    Field("quorate", "Was the conference quorate?", "yesno"),
    Field("purpose", "Purpose of the conference", "textarea"),
    Field("strategy_discussion_on", "Date of the strategy discussion", "date", "Initial and pre-birth conferences"),
    Field("transfer_agreed_on", "Date the transfer was agreed", "date", "Transfer-in conferences"),
    Field("previous_conference_on", "Date of the previous conference", "date", "Review conferences"),
    Field("next_conference_on", "Date of the next conference", "date"),
    Field("booking_delay_reason", "Why a timescale was missed", "textarea"),
)

PARTS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "children": ("child", (
        Field("id", "Short name", hint=ID_HINT, fixed=True), Field("name", "Full name"),
        Field("subject", "Is this child a subject of the conference?", "yesno"),
        Field("date_of_birth", "Date of birth", "date"),
        Field("expected_on", "Expected date of birth", "date", "For an unborn child"),
        Field("gender", "Gender", "choice", options=GENDERS), Field("first_language", "First language"),
        Field("school", "School or nursery", "select", options="agencies"), *ADDRESS,
        Field("views", "The child's views", "textarea", "As they go in the record"))),
    "family": ("family member", (
        Field("id", "Short name", hint=ID_HINT, fixed=True), Field("name", "Full name"),
        Field("name_in_own_script", "Name in their own script"),
        Field("relationship", "Relationship to the children", hint="For example mother, father, grandmother"),
        Field("parental_responsibility", "Do they have parental responsibility?", "yesno"),
        Field("lives_with_child", "Do they live with the children?", "yesno"),
        Field("preferred_language", "Preferred language"),
        Field("interpreter_needed", "Do they need an interpreter?", "yesno"),
        Field("communication_needs", "Communication needs", "textarea"),
        Field("email", "Email address", "email"), Field("phone", "Phone number"), *ADDRESS,
        Field("contact_shareable_with", "Share their address and contact details with", "people",
              "Only people named here who do not live with them may see them", "people"),
        Field("at_risk_from", "At risk from", "people",
              "Everything that could locate them is withheld from each person ticked", "people"))),
    "agencies": ("agency", (
        Field("id", "Short name", hint=ID_HINT, fixed=True), Field("name", "Name"),
        Field("kind", "Kind of agency", "choice", options=AGENCY_KINDS), Field("email", "Email address", "email"),
        *marking_fields("agency"))),
    "professionals": ("professional", (
        Field("id", "Short name", hint=ID_HINT, fixed=True), Field("name", "Full name"), Field("role", "Role"),
        Field("agency", "Agency", "select", options="agencies"), Field("email", "Email address", "email"),
        Field("phone", "Phone number"), *marking_fields("professional"))),
    "invitations": ("invitation", (
        Field("invitee", "Who is invited", "select", options="everyone"),
        Field("attendance", "Attendance", "choice", options=ATTENDANCE),
        Field("exclusion_reason", "Why they were excluded", "textarea", "Only family members can be excluded"),
        Field("note", "Note", "textarea"), Field("supporter", "Supporter who came with them"),
        Field("invited_separately", "Invited to a separate part of the conference?", "yesno"),
        Field("report_due_on", "Date their written report is due", "date"), *marking_fields("invitation"))),
}

SECTION = (Field("title", "Section title"), *marking_fields("section"))
PARAGRAPH = (Field("text", "Paragraph", "textarea"), *marking_fields("paragraph"))
OPINION = (Field("by", "Whose opinion", "select", options="everyone"), Field("text", "Opinion", "textarea"),
           *marking_fields("opinion"))
TABLE = (Field("columns", "Column headings", "lines", "One heading a line, at most 12"), *marking_fields("table"))


def row_fields(columns: Sequence[str]) -> tuple[Field, ...]:
    return (*(Field(f"cell_{n}", column or f"Column {n + 1}") for n, column in enumerate(columns)),
            *marking_fields("row"))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def form_values(fields: Sequence[Field], entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a form shows for a stored entry."""
    values: dict[str, Any] = {}
    for field in fields:
        if field.kind == "people":
            values[field.key] = list(entry.get(field.key) or [])
        elif field.kind == "marking":
            values[field.key] = ("withheld" if entry.get("withheld_from") else
                                 "confidential" if entry.get("confidentiality") == "confidential" else "open")
        elif field.key == "address_lines":
            values[field.key] = "\n".join((entry.get("address") or {}).get("lines") or [])
        elif field.key == "address_postcode":
            values[field.key] = (entry.get("address") or {}).get("postcode") or ""
        elif field.kind == "lines":
            values[field.key] = "\n".join(entry.get(field.key) or [])
        elif field.key.startswith("cell_"):
            cells = entry.get("cells") or []
            index = int(field.key[5:])
            values[field.key] = cells[index] if index < len(cells) else ""
        else:
            values[field.key] = _text(entry.get(field.key))
    return values


def conference_form_values(conference: Mapping[str, Any]) -> dict[str, Any]:
    values = form_values(CONFERENCE, conference)
    starts, ends = str(conference.get("starts_at") or ""), str(conference.get("ends_at") or "")
    values.update(starts_on=starts[:10], starts_time=starts[11:16], ends_time=ends[11:16])
    return values


def posted_values(fields: Sequence[Field], form: MultiDict[str, str]) -> dict[str, Any]:
    """What the person typed, as a form shows it again (each text cut to the longest a field may be)."""
    return {field.key: ([v[:64] for v in form.getlist(field.key)][:50] if field.kind == "people"
                        else form.get(field.key, "")[:MAX_FIELD + 1]) for field in fields}


@dataclass(frozen=True)
class Parsed:
    """A form's values as the fields to set on the entry, and the form's own problems (a choice the
    form needs that the case file cannot express, such as withheld from nobody)."""

    values: dict[str, object]
    problems: dict[str, str]


def parse(fields: Sequence[Field], typed: Mapping[str, Any], entry: Mapping[str, Any]) -> Parsed:
    """The fields to set on ``entry`` from the typed ``values``; an empty answer removes the field."""
    values: dict[str, object] = {}
    problems: dict[str, str] = {}
    for field in fields:
        raw = typed.get(field.key)
        if field.fixed and "id" in entry:
            continue
        if field.key == "withheld_from" or field.kind in ("marking", "reason"):
            continue  # the marking, below
        if field.key.startswith(("address_", "cell_")) or field.key in ("starts_on", "starts_time", "ends_time"):
            continue  # put together below
        if field.kind == "people":
            values[field.key] = list(raw or []) or None
        elif field.kind == "yesno":
            values[field.key] = {"yes": True, "no": False}.get(str(raw))
        elif field.kind == "lines":
            values[field.key] = [line.strip() for line in str(raw).splitlines() if line.strip()] or None
        else:
            text = str(raw or "").replace("\r\n", "\n").strip()
            values[field.key] = text or None
    keys = {field.key for field in fields}
    if "marking" in keys:
        values.update(_marking(typed, entry, problems))
    if "address_lines" in keys:
        lines = [line.strip() for line in str(typed.get("address_lines", "")).splitlines() if line.strip()]
        postcode = str(typed.get("address_postcode", "")).strip()
        values["address"] = ({**(entry.get("address") or {}), "lines": lines,
                              **({"postcode": postcode} if postcode else {})} if lines or postcode else None)
        if isinstance(values["address"], dict) and not postcode:
            values["address"].pop("postcode", None)
    if "starts_on" in keys:
        day = str(typed.get("starts_on", "")).strip()
        start, end = str(typed.get("starts_time", "")).strip(), str(typed.get("ends_time", "")).strip()
        values["starts_at"] = f"{day}T{start or '10:00'}:00" if day else None
        values["ends_at"] = f"{day}T{end}:00" if day and end else None
    cells = sorted((int(field.key[5:]), field.key) for field in fields if field.key.startswith("cell_"))
    if cells:
        values["cells"] = [str(typed.get(key, "")).strip() for _n, key in cells]
    return Parsed(values, problems)


def _marking(typed: Mapping[str, Any], entry: Mapping[str, Any], problems: dict[str, str]) -> dict[str, object]:
    choice = typed.get("marking") or "open"
    people = list(typed.get("withheld_from") or [])
    reason = str(typed.get("reason") or "") or None
    if choice == "open":
        kept = entry.get("confidentiality") if entry.get("confidentiality") == "open" else None
        return {"confidentiality": kept, "withheld_from": None, "reason": None}
    if choice == "withheld" and not people:
        problems["withheld_from"] = "Tick who it is withheld from, or choose another option"
    if reason is None:
        problems["reason"] = "Choose why it is withheld"
    if choice == "confidential":
        return {"confidentiality": "confidential", "withheld_from": None, "reason": reason}
    if choice != "withheld":
        problems["marking"] = "Choose who may see it"
    return {"confidentiality": None, "withheld_from": people or None, "reason": reason}


#: Each field's paths in the case file, relative to its entry, when they are not just its key.
_PATHS = {"marking": ("confidentiality",), "address_lines": ("address.lines", "address"),
          "address_postcode": ("address.postcode",), "starts_on": ("starts_at",), "ends_time": ("ends_at",),
          "by": ("by", "opinion.by", "opinion"), "text": ("text", "opinion.text"), "columns": ("columns", "table.columns")}


def field_for(problem_path: str, entry_path: str, fields: Sequence[Field]) -> str | None:
    """The form field a case-file problem at ``problem_path`` concerns, for a form of the entry at
    ``entry_path``; None for a problem elsewhere (it goes in the error summary only)."""
    best: tuple[int, str] | None = None
    for field in fields:
        if field.key.startswith("cell_"):
            relative: tuple[str, ...] = (f"cells[{field.key[5:]}]",)
        else:
            relative = _PATHS.get(field.key, (field.key,))
        for path in relative:
            full = f"{entry_path}.{path}" if entry_path else path
            holds = problem_path == full or problem_path.startswith((f"{full}.", f"{full}["))
            if holds and (best is None or len(full) > best[0]):
                best = (len(full), field.key)
    return best[1] if best else None


def problems_for_form(problems: Sequence[str], entry_path: str,
                      fields: Sequence[Field]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The error summary's entries and each field's message, from a case file's problems
    ("PATH: message"), the field found by the longest path that holds the problem."""
    summary: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    for problem in problems:
        path, _, message = problem.partition(": ")
        text = f"{message[:1].upper()}{message[1:]}" if message else problem
        if path == (entry_path or "(top level)") and message.startswith("missing required field '"):
            path = f"{entry_path}.{message.split(chr(39))[1]}" if entry_path else message.split(chr(39))[1]
        key = field_for(path, entry_path, fields)
        if key is None:
            summary.append({"text": problem})
        else:
            by_field.setdefault(key, text)
            summary.append({"text": text, "href": f"#{key}"})
    return summary, by_field


def form_problems(problems: Mapping[str, str]) -> tuple[list[dict[str, str]], dict[str, str]]:
    return [{"text": text, "href": f"#{key}"} for key, text in problems.items()], dict(problems)
