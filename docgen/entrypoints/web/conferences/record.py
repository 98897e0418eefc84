"""The record editor: the conference record's sections, their paragraphs, opinions and tables, and each
table's rows, each with its confidentiality marking; add, change, remove and move up or down with real
links and buttons, so the keyboard alone is enough. Saving goes through the editing service, as in
``editing``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences import edit_forms as forms
from docgen.entrypoints.web.conferences.editing import FormPage, Page, based_on, choices, show_form, submit
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import CaseFileError
from docgen.services.editing import AddEntry, Edit, EditConflict, MoveEntry, Path, RemoveEntry, SetFields, save_edit

ITEM_FIELDS = {"paragraph": forms.PARAGRAPH, "opinion": forms.OPINION, "table": forms.TABLE}
MARKING = ("confidentiality", "withheld_from", "reason")


def _sections(case: dict[str, Any]) -> list[dict[str, Any]]:
    return list((case.get("record") or {}).get("sections") or [])


def _section(case: dict[str, Any], s: int) -> dict[str, Any]:
    sections = _sections(case)
    if not 0 <= s < len(sections):
        abort(404)
    return sections[s]


def _item(case: dict[str, Any], s: int, i: int) -> dict[str, Any]:
    items = _section(case, s).get("items") or []
    if not 0 <= i < len(items):
        abort(404)
    return items[i]  # type: ignore[no-any-return]


def kind_of(item: dict[str, Any]) -> str:
    return "opinion" if "opinion" in item else "table" if "table" in item else "paragraph"


def _back(reference: str, anchor: str) -> str:
    return url_for("conferences.record", reference=reference) + f"#{anchor}"


def _item_entry(kind: str, values: dict[str, object], item: dict[str, Any]) -> dict[str, object]:
    """An item as the case file has it, from its form's values."""
    marking = {key: values.get(key) for key in MARKING}
    if kind == "opinion":
        return {"opinion": {key: values[key] for key in ("by", "text") if values.get(key) is not None}, **marking}
    if kind == "table":
        table = dict(item.get("table") or {"rows": []})
        table["columns"] = values.get("columns") or []
        return {"table": table, **marking}
    return {"text": values.get("text"), **marking}


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """An item's fields as its form has them (an opinion's by and text, a table's columns)."""
    return {**item, **(item.get("opinion") or {}), **({"columns": item["table"].get("columns")} if "table" in item else {})}


def _blankless(entry: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in entry.items() if value is not None}


@conferences.route("/<reference>/record")
@requires(Permission.EDIT_CONFERENCES)
def record(reference: str) -> str:
    version = visible_conference(reference)
    return _record_page(version)


def _record_page(version: Any, **extra: Any) -> str:
    return render_template("conferences/record.html", version=version, case=version.case,
                           sections=_sections(version.case), names=dict(choices(version.case)["everyone"]),
                           reasons=dict(forms.REASONS), kind_of=kind_of, **extra)


@conferences.route("/<reference>/record/sections/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def add_section(reference: str) -> Page:
    version = visible_conference(reference)
    page = FormPage("Add a section", reference, forms.SECTION, ("record", "sections"),
                    _back(reference, "sections"), button="Add section")
    if request.method == "POST":
        return submit(reference, page, lambda v: AddEntry(("record", "sections"), {**_blankless(v), "items": []}),
                      adding=True)
    return show_form(page, version.case, version.version, forms.form_values(forms.SECTION, {}), adding=True)


@conferences.route("/<reference>/record/sections/<int:s>", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def edit_section(reference: str, s: int) -> Page:
    version = visible_conference(reference)
    section = _section(version.case, s)
    page = FormPage(f"Change section {s + 1}", reference, forms.SECTION, ("record", "sections", s),
                    _back(reference, f"section-{s}"))
    if request.method == "POST":
        return submit(reference, page, lambda v: SetFields(("record", "sections", s), v))
    return show_form(page, version.case, version.version, forms.form_values(forms.SECTION, section))


@conferences.route("/<reference>/record/sections/<int:s>/items/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def add_item(reference: str, s: int) -> Page:
    kind = request.args.get("kind", "paragraph")
    if kind not in ITEM_FIELDS:
        abort(404)
    version = visible_conference(reference)
    _section(version.case, s)
    fields = ITEM_FIELDS[kind]
    page = FormPage(f"Add {'an' if kind == 'opinion' else 'a'} {kind} to section {s + 1}", reference, fields,
                    ("record", "sections", s, "items"), _back(reference, f"section-{s}"), button=f"Add {kind}")
    if request.method == "POST":
        return submit(reference, page, lambda v: AddEntry(("record", "sections", s, "items"),
                                                          _blankless(_item_entry(kind, v, {}))), adding=True)
    return show_form(page, version.case, version.version, forms.form_values(fields, {}), adding=True)


@conferences.route("/<reference>/record/sections/<int:s>/items/<int:i>", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def edit_item(reference: str, s: int, i: int) -> Page:
    version = visible_conference(reference)
    item = _item(version.case, s, i)
    kind = kind_of(item)
    fields = ITEM_FIELDS[kind]
    path: Path = ("record", "sections", s, "items", i)
    page = FormPage(f"Change {kind} {i + 1} of section {s + 1}", reference, fields, path,
                    _back(reference, f"item-{s}-{i}"))
    if request.method == "POST":
        return submit(reference, page, lambda v: SetFields(path, _item_entry(kind, v, item)))
    return show_form(page, version.case, version.version, forms.form_values(fields, _flat(item)))


def _table(case: dict[str, Any], s: int, i: int) -> dict[str, Any]:
    item = _item(case, s, i)
    if "table" not in item:
        abort(404)
    return item["table"]  # type: ignore[no-any-return]


@conferences.route("/<reference>/record/sections/<int:s>/items/<int:i>/rows/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def add_row(reference: str, s: int, i: int) -> Page:
    version = visible_conference(reference)
    fields = forms.row_fields(_table(version.case, s, i).get("columns") or [])
    at: Path = ("record", "sections", s, "items", i, "table", "rows")
    page = FormPage(f"Add a row to table {i + 1} of section {s + 1}", reference, fields, at,
                    _back(reference, f"item-{s}-{i}"), button="Add row")
    if request.method == "POST":
        return submit(reference, page, lambda v: AddEntry(at, _blankless(v)), adding=True)
    return show_form(page, version.case, version.version, forms.form_values(fields, {}), adding=True)


@conferences.route("/<reference>/record/sections/<int:s>/items/<int:i>/rows/<int:r>", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def edit_row(reference: str, s: int, i: int, r: int) -> Page:
    version = visible_conference(reference)
    table = _table(version.case, s, i)
    rows = table.get("rows") or []
    if not 0 <= r < len(rows):
        abort(404)
    fields = forms.row_fields(table.get("columns") or [])
    path: Path = ("record", "sections", s, "items", i, "table", "rows", r)
    page = FormPage(f"Change row {r + 1} of table {i + 1} in section {s + 1}", reference, fields, path,
                    _back(reference, f"item-{s}-{i}"))
    if request.method == "POST":
        return submit(reference, page, lambda v: SetFields(path, v))
    return show_form(page, version.case, version.version, forms.form_values(fields, rows[r]))


def _arranged(at: str, action: str) -> Edit:
    """The edit a move or remove button asks for: ``at`` is "S", "S.I" or "S.I.R" (section, item, row)."""
    try:
        numbers = [int(part) for part in at.split(".")]
    except ValueError:
        abort(400)
    if not 1 <= len(numbers) <= 3 or action not in ("up", "down", "remove"):
        abort(400)
    names = ("sections", "items", "rows")
    path: list[str | int] = ["record"]
    for depth, number in enumerate(numbers):
        path += (["table"] if depth == 2 else []) + [names[depth], number]
    if action == "remove":
        return RemoveEntry(tuple(path))
    return MoveEntry(tuple(path), -1 if action == "up" else 1)


@conferences.route("/<reference>/record/arrange", methods=["POST"])
@requires(Permission.EDIT_CONFERENCES)
def arrange_record(reference: str) -> Response | tuple[str, int]:
    visible_conference(reference)
    at, action = request.form.get("at", ""), request.form.get("action", "")
    edit = _arranged(at, action)
    try:
        saved = save_edit(runtime(), reference, edit, based_on=based_on(), actor=account().actor)
    except EditConflict as conflict:
        return _record_page(visible_conference(reference), conflict=conflict, reopen=request.path.rsplit("/", 1)[0],
                            errors=[{"text": "Someone else saved this conference after you opened this page; "
                                             "nothing was changed", "href": "#changes"}]), 409
    except CaseFileError as error:
        return _record_page(visible_conference(reference),
                            errors=[{"text": problem} for problem in error.problems[:20]]), 400
    said = "; ".join(change.text for change in saved.changes[:5]) or "no change"
    flash(f"Saved as version {saved.version.version}: {said}.")
    return redirect(_back(reference, "sections"))
