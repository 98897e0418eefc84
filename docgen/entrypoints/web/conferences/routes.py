"""Business support's conferences: the list with circulation windows, creating and importing a
conference, and each conference's overview. Editing, the record, recipients, the pack and the outbox
are in their own modules of this package, on the same blueprint."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission, Role, sees_every_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import CaseFileError, NotFoundError
from docgen.services.board import BoardFilter, WindowState, conference_board, conference_summary
from docgen.services.importing import conference_history, import_case_bytes, save_conference, stored_version
from docgen.services.returns import returned_copies
from docgen.services.runtime import Runtime

conferences = Blueprint("conferences", __name__, url_prefix="/conferences")

STATE_TAGS = {
    WindowState.OVERDUE: "govuk-tag--red",
    WindowState.DUE_SOON: "govuk-tag--yellow",
    WindowState.ON_TRACK: "govuk-tag--blue",
    WindowState.DONE: "govuk-tag--green",
    WindowState.NOT_SCHEDULED: "govuk-tag--grey",
}


def runtime() -> Runtime:
    return current_app.extensions["docgen.runtime"]  # type: ignore[no-any-return]


def only_chair() -> str | None:
    """A chair sees the conferences they chair; everyone else who may view conferences sees them all."""
    signed_in = account()
    if sees_every_conference(signed_in.role):
        return None
    return signed_in.professional or "\x00no professional id"


def visible_conference(reference: str):  # type: ignore[no-untyped-def]
    """The conference's newest version, if the signed-in person may see it (a chair: only their own).
    404 for both a missing conference and one they may not see, so a reference cannot be probed."""
    try:
        version = stored_version(runtime(), reference)
    except NotFoundError:
        abort(404)
    chair = only_chair()
    if chair is not None and version.case["conference"]["chair"] != chair:
        abort(404)
    return version


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@conferences.route("")
@requires(Permission.VIEW_CONFERENCES)
def index() -> str:
    state = request.args.get("state") or None
    wanted = BoardFilter(state=WindowState(state) if state in {s.value for s in WindowState} else None,
                         starts_from=_date(request.args.get("from")), starts_to=_date(request.args.get("to")),
                         chair=(request.args.get("chair") or None))
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    board = conference_board(runtime(), only_chair=only_chair(), wanted=wanted, page=page)
    return render_template("conferences/index.html", board=board, wanted=wanted, states=list(WindowState),
                           tags=STATE_TAGS, is_chair=account().role is Role.CHAIR,
                           page_link=lambda number: url_for("conferences.index", **{**request.args, "page": number}))


def problems_by_field(error: CaseFileError, fields: dict[str, str], messages: dict[str, str] | None = None
                      ) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The error summary's entries and each form field's message, from a case file's problems
    ("PATH: message"); a problem with no field of its own goes to the summary only."""
    summary: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    for problem in error.problems:
        path, _, message = problem.partition(": ")
        field = fields.get(path)
        text = (messages or {}).get(path) or (f"{message[:1].upper()}{message[1:]}" if message else problem)
        if field is None:
            summary.append({"text": problem})
        else:
            by_field.setdefault(field, text)
            summary.append({"text": text, "href": f"#{field}"})
    return summary, by_field


NEW_FIELDS = {
    "reference": "reference", "conference.kind": "kind", "conference.starts_at": "starts_at",
    "conference.strategy_discussion_on": "strategy_discussion_on", "conference.venue": "venue",
    "professionals[0].name": "chair_name", "professionals[0].email": "chair_email",
    "professionals[0].id": "chair_id", "conference.chair": "chair_id", "professionals[0].role": "chair_role",
    "agencies[0].name": "agency_name", "children[0].name": "child_name",
    "children[0].date_of_birth": "child_date_of_birth", "children": "child_name", "children[0]": "child_date_of_birth",
}
#: Messages in the booking form's own words where the case file's are about its fields.
NEW_MESSAGES = {"children[0]": "Enter the child's date of birth"}


def _new_case(form: dict[str, str]) -> dict[str, object]:
    """A conference's first version from the booking form: the conference, its chair and a child;
    everything else is added by editing it."""
    def blank_to_none(value: str) -> str | None:
        return value.strip() or None

    starts_at = f"{form['starts_on']}T{form['starts_time'] or '10:00'}:00" if form["starts_on"] else None
    conference: dict[str, object] = {"kind": form["kind"] or None, "starts_at": starts_at,
                                     "venue": blank_to_none(form["venue"]), "chair": blank_to_none(form["chair_id"])}
    if form["strategy_discussion_on"]:
        conference["strategy_discussion_on"] = form["strategy_discussion_on"]
    return {
        "format": "docgen.case/1",
        "reference": form["reference"].strip(),
        "conference": {key: value for key, value in conference.items() if value is not None},
        "children": [{"id": "child-1", "name": form["child_name"].strip(),
                      **({"date_of_birth": form["child_date_of_birth"]} if form["child_date_of_birth"] else {}),
                      "subject": True}],
        "family": [],
        "agencies": [{"id": "social-care", "name": form["agency_name"].strip() or "Children's Social Care",
                      "kind": "social_care"}],
        "professionals": [{"id": form["chair_id"].strip(), "name": form["chair_name"].strip(),
                           "role": form["chair_role"].strip() or "Conference chair", "agency": "social-care",
                           "email": form["chair_email"].strip()}],
        "invitations": [],
    }


@conferences.route("/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def new() -> Response | str | tuple[str, int]:
    keys = ("reference", "kind", "starts_on", "starts_time", "strategy_discussion_on", "venue", "chair_id",
            "chair_name", "chair_role", "chair_email", "agency_name", "child_name", "child_date_of_birth")
    form = {key: request.form.get(key, "")[:500] for key in keys}
    if request.method == "GET":
        return render_template("conferences/new.html", form=form, field_errors={})
    try:
        saved = save_conference(runtime(), _new_case(form), based_on=None, saved_by=account().actor,
                                source="the booking form")
    except CaseFileError as error:
        summary, by_field = problems_by_field(error, NEW_FIELDS, NEW_MESSAGES)
        return render_template("conferences/new.html", form=form, errors=summary, field_errors=by_field), 400
    flash(f"Conference {saved.reference} booked (version {saved.version}).")
    return redirect(url_for("conferences.overview", reference=saved.reference))


@conferences.route("/import", methods=["GET", "POST"])
@requires(Permission.EDIT_CONFERENCES)
def import_file() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("conferences/import.html")
    upload = request.files.get("case_file")
    if upload is None or not upload.filename:
        return render_template("conferences/import.html",
                               errors=[{"text": "Choose a case file to import", "href": "#case_file"}],
                               file_error="Choose a case file to import"), 400
    raw = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    try:
        reference, version = import_case_bytes(runtime(), raw, source="The case file", actor=account().actor,
                                               replace=request.form.get("replace") == "yes")
    except CaseFileError as error:
        summary = [{"text": problem, "href": "#case_file"} for problem in error.problems[:50]]
        if len(error.problems) > 50:
            summary.append({"text": f"and {len(error.problems) - 50} more problems", "href": "#case_file"})
        return render_template("conferences/import.html", errors=summary,
                               file_error=f"The case file has {len(error.problems)} problems; nothing was imported"), 400
    flash(f"Conference {reference} imported (version {version}).")
    return redirect(url_for("conferences.overview", reference=reference))


@conferences.route("/<reference>")
@requires(Permission.VIEW_CONFERENCES)
def overview(reference: str) -> str:
    version = visible_conference(reference)
    summary = conference_summary(runtime(), reference)
    return render_template("conferences/overview.html", version=version, case=version.case, summary=summary,
                           tags=STATE_TAGS, returns=returned_copies(runtime(), reference))


@conferences.route("/<reference>/history")
@requires(Permission.VIEW_CONFERENCES)
def history(reference: str) -> str:
    visible_conference(reference)
    return render_template("conferences/history.html", reference=reference,
                           versions=list(reversed(conference_history(runtime(), reference))))
