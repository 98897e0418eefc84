"""A manager gives a conference another chair (issue 15, item 7): an edit of ``conference.chair``,
saved as a new version through the editing service (audited as ``conference_edited`` with the
manager). The new chair's approval is then needed for every family copy, as after any edit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import CaseFileError, ConflictError
from docgen.services.editing import SetFields, save_edit


@conferences.route("/<reference>/chair", methods=["GET", "POST"])
@requires(Permission.REASSIGN_CHAIR)
def reassign_chair(reference: str) -> Response | str | tuple[str, int]:
    version = visible_conference(reference)
    case = version.case
    page = {"reference": reference, "version": version, "professionals": case["professionals"],
            "current": case["conference"].get("chair")}
    if request.method == "GET":
        return render_template("chair/reassign.html", **page, chosen=page["current"], chair_error=None)
    chosen = request.form.get("chair", "")[:64]
    try:
        based_on = int(request.form.get("based_on", ""))
    except ValueError:
        based_on = version.version
    if chosen not in {p["id"] for p in case["professionals"]}:
        message = "Choose the conference's new chair"
        return render_template("chair/reassign.html", **page, chosen=chosen, chair_error=message,
                               errors=[{"text": message, "href": "#chair"}]), 400
    try:
        save_edit(runtime(), reference, SetFields(("conference",), {"chair": chosen}), based_on=based_on,
                  actor=account().actor)
    except (CaseFileError, ConflictError) as error:
        return render_template("chair/reassign.html", **page, chosen=chosen, chair_error=None,
                               errors=[{"text": str(error)}]), 409
    name = next(p["name"] for p in case["professionals"] if p["id"] == chosen)
    flash(f"{name} now chairs conference {reference}; family copies need their approval.")
    return redirect(url_for("conferences.overview", reference=reference))
