"""Editing a conference: a summary of each part (the conference, children, family, agencies,
professionals, invitations and attendance) with a "Change" link to one form per entry, adding and
removing entries. Every form carries the version it was made from; saving goes through the editing
service, which refuses a save on an older version and says what changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.adapters.casefile.validation import format_path
from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences import edit_forms as forms
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import CaseFileError
from docgen.services.editing import AddEntry, Edit, EditConflict, Path, RemoveEntry, SetFields, added_path, save_edit
from docgen.services.importing import stored_version

Page = Response | str | tuple[str, int]
PART_TITLES = {"children": "Children", "family": "Family members", "agencies": "Agencies",
               "professionals": "Professionals", "invitations": "Invitations and attendance"}


def choices(case: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The people and agencies of the case a form may choose from, by id."""
    def named(entries: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(str(e["id"]), str(e.get("name") or e["id"])) for e in entries]

    family, children = named(case.get("family") or []), named(case.get("children") or [])
    professionals = named(case.get("professionals") or [])
    return {"people": family + children, "agencies": named(case.get("agencies") or []),
            "professionals": professionals, "everyone": family + children + professionals}


def entry_name(case: dict[str, Any], part: str, entry: dict[str, Any]) -> str:
    """How a page names an entry: its name, or for an invitation, the invitee's."""
    if part == "invitations":
        names = dict(choices(case)["everyone"])
        return names.get(str(entry.get("invitee")), str(entry.get("invitee")))
    return str(entry.get("name") or entry.get("id") or "")


def based_on() -> int:
    """The version the posted form was made from (its hidden field)."""
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        abort(400)


@dataclass(frozen=True)
class FormPage:
    """One entry's form: what it is called, its fields, where the entry is, and where to go back to."""

    title: str
    caption: str
    fields: tuple[forms.Field, ...]
    path: Path
    back: str
    button: str = "Save"


def show_form(page: FormPage, case: dict[str, Any], version: int, values: dict[str, Any], *, status: int = 200,
              errors: list[dict[str, str]] | None = None, field_errors: dict[str, str] | None = None,
              conflict: EditConflict | None = None, adding: bool = False) -> Page:
    html = render_template("conferences/edit_form.html", page=page, case=case, version=version, values=values,
                           choices=choices(case), errors=errors or [], field_errors=field_errors or {},
                           conflict=conflict, adding=adding, reasons=forms.REASONS, reopen=request.path)
    return (html, status) if status != 200 else html


def submit(reference: str, page: FormPage, make_edit: Callable[[dict[str, object]], Edit], *,
           adding: bool = False) -> Page:
    """Save a posted form as an edit of the version it was made from: its own problems, the case
    file's problems by field, or the difference when someone saved first, shown on the form again
    with what was typed."""
    version = based_on()
    case = stored_version(runtime(), reference, version).case
    entry: dict[str, Any] = {} if adding else _entry(case, page.path)
    typed = forms.posted_values(page.fields, request.form)
    parsed = forms.parse(page.fields, typed, entry)
    if parsed.problems:
        summary, by_field = forms.form_problems(parsed.problems)
        return show_form(page, case, version, typed, status=400, errors=summary, field_errors=by_field, adding=adding)
    edit = make_edit(parsed.values)
    where = added_path(case, edit) if isinstance(edit, AddEntry) else page.path
    try:
        saved = save_edit(runtime(), reference, edit, based_on=version, actor=account().actor)
    except EditConflict as conflict:
        return show_form(page, case, version, typed, status=409, conflict=conflict, adding=adding,
                         errors=[{"text": "Someone else saved this conference after you opened this page; "
                                          "nothing was saved", "href": "#changes"}])
    except CaseFileError as error:
        summary, by_field = forms.problems_for_form(error.problems, format_path(where), page.fields)
        return show_form(page, case, version, typed, status=400, errors=summary, field_errors=by_field, adding=adding)
    said = "; ".join(change.text for change in saved.changes[:5]) or "no change"
    flash(f"Saved as version {saved.version.version}: {said}.")
    return redirect(page.back)


def _entry(case: dict[str, Any], path: Path) -> dict[str, Any]:
    node: Any = case
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            abort(404)
    if not isinstance(node, dict):
        abort(404)
    return node


def _without_blanks(values: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


@conferences.route("/<reference>/edit")
@requires(Permission.EDIT_CONFERENCES)
def edit_details(reference: str) -> str:
    version = visible_conference(reference)
    return render_template("conferences/edit.html", version=version, case=version.case, parts=PART_TITLES,
                           names=dict(choices(version.case)["everyone"]), attendance=dict(forms.ATTENDANCE),
                           kinds=dict(forms.KINDS))


@conferences.route("/<reference>/edit/conference", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def edit_conference(reference: str) -> Page:
    version = visible_conference(reference)
    page = FormPage("Conference details", reference, forms.CONFERENCE, ("conference",),
                    url_for("conferences.edit_details", reference=reference))
    if request.method == "POST":
        return submit(reference, page, lambda values: SetFields(("conference",), values))
    return show_form(page, version.case, version.version, forms.conference_form_values(version.case["conference"]))


def _part(part: str) -> tuple[str, tuple[forms.Field, ...]]:
    if part not in forms.PARTS:
        abort(404)
    return forms.PARTS[part]


@conferences.route("/<reference>/edit/<part>/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def add_entry(reference: str, part: str) -> Page:
    noun, fields = _part(part)
    version = visible_conference(reference)
    page = FormPage(f"Add {'an' if noun[0] in 'aeiou' else 'a'} {noun}", reference, fields, (part,),
                    url_for("conferences.edit_details", reference=reference) + f"#{part}", button=f"Add {noun}")
    if request.method == "POST":
        return submit(reference, page, lambda values: AddEntry((part,), _without_blanks(values)), adding=True)
    return show_form(page, version.case, version.version, forms.form_values(fields, {}), adding=True)


@conferences.route("/<reference>/edit/<part>/<int:index>", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def edit_entry(reference: str, part: str, index: int) -> Page:
    noun, fields = _part(part)
    version = visible_conference(reference)
    entry = _entry(version.case, (part, index))
    page = FormPage(f"Change the {noun}", entry_name(version.case, part, entry), fields, (part, index),
                    url_for("conferences.edit_details", reference=reference) + f"#{part}")
    if request.method == "POST":
        return submit(reference, page, lambda values: SetFields((part, index), values))
    return show_form(page, version.case, version.version, forms.form_values(fields, entry))


@conferences.route("/<reference>/edit/<part>/<int:index>/remove", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def remove_entry(reference: str, part: str, index: int) -> Page:
    noun, _fields = _part(part)
    version = visible_conference(reference)
    back = url_for("conferences.edit_details", reference=reference) + f"#{part}"
    if request.method == "GET":
        entry = _entry(version.case, (part, index))
        return render_template("conferences/edit_remove.html", case=version.case, version=version.version, noun=noun,
                               name=entry_name(version.case, part, entry), back=back)
    made_from = based_on()
    case = stored_version(runtime(), reference, made_from).case
    name = entry_name(case, part, _entry(case, (part, index)))
    try:
        saved = save_edit(runtime(), reference, RemoveEntry((part, index)), based_on=made_from, actor=account().actor)
    except EditConflict as conflict:
        return render_template("conferences/edit_remove.html", case=case, version=made_from, noun=noun, name=name,
                               back=back, conflict=conflict, reopen=request.path,
                               errors=[{"text": "Someone else saved this conference after you opened this page; "
                                                "nothing was removed", "href": "#changes"}]), 409
    except CaseFileError as error:
        return render_template("conferences/edit_remove.html", case=case, version=made_from, noun=noun, name=name,
                               back=back, errors=[{"text": problem} for problem in error.problems[:20]]), 400
    flash(f"Saved as version {saved.version.version}: {noun} {name} removed.")
    return redirect(back)
