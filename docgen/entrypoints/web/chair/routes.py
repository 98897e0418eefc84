"""The chair's workspace (blueprint ``chair``, under /chair): the queue of family copies waiting for
this chair, each copy reviewed beside the full record, its disclosure flags resolved, the copy
approved or returned with a comment, and the sharing of reports with parents decided.

Thin views: each calls one service (review_jobs, risk, chair_queue, returns, approval) with the
signed-in chair's professional id, which is how a conference names its chair; those services refuse
anyone who is not the conference's chair, and ``visible_conference`` answers 404 to other chairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import STATE_TAGS, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import DocgenError
from docgen.services import approval, risk
from docgen.services.chair_queue import approve_copy, reports_to_decide, review_queue
from docgen.services.returns import return_copy
from docgen.services.review_jobs import FILES, ensure_review, open_review

chair = Blueprint("chair", __name__, url_prefix="/chair")
MAX_TEXT = 2000


def _data_folder() -> Path:
    return current_app.extensions["docgen.web_settings"].data_folder  # type: ignore[no-any-return]


def _chair_id() -> str:
    return account().professional or "\x00no professional id"


def _message(error: DocgenError) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}"


@chair.route("")
@requires(Permission.REVIEW_FAMILY_COPIES)
def queue() -> str:
    entries = review_queue(runtime(), _chair_id(), reviews_in=_data_folder(), actor=account().actor)
    return render_template("chair/queue.html", entries=entries, tags=STATE_TAGS)


def _review_page(reference: str, person: str, *, status: int = 200, errors: list[dict[str, str]] | None = None,
                 field_errors: dict[str, str] | None = None, values: dict[str, str] | None = None
                 ) -> tuple[str, int]:
    visible_conference(reference)
    progress = request.args.get("progress") == "yes"  # what the page's script fetches while it waits
    review = open_review(runtime(), _data_folder(), reference, person, chair=_chair_id(), actor=account().actor,
                         again=request.args.get("again") == "yes", progress_only=progress)
    page = {"reference": reference, "person": person, "state": review.state, "name": review.name,
            "flags": review.flags, "places": review.places, "open_flags": review.open_flags, "errors": errors or [],
            "field_errors": field_errors or {}, "values": values or {}}
    if review.state.files is None or progress:
        return render_template("chair/review_waiting.html", progress=progress, **page), status
    return render_template("chair/review.html", files=review.state.files, **page), status


@chair.route("/<reference>/<person>")
@requires(Permission.REVIEW_FAMILY_COPIES)
def review(reference: str, person: str) -> tuple[str, int]:
    return _review_page(reference, person)


@chair.route("/<reference>/<person>/files/<which>")
@requires(Permission.REVIEW_FAMILY_COPIES)
def review_file(reference: str, person: str, which: str) -> Response:
    visible_conference(reference)
    state = ensure_review(runtime(), _data_folder(), reference, person, actor=account().actor)
    if state.files is None or which not in FILES:
        return redirect(url_for("chair.review", reference=reference, person=person))
    response = Response(state.files.pdf(which), mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"{reference}-{person}-v{state.files.content_version}-{FILES[which]}")
    response.headers["Cache-Control"] = "no-store"
    return response


@chair.route("/<reference>/<person>/flags", methods=["POST"])
@requires(Permission.REVIEW_FAMILY_COPIES)
def resolve_flag(reference: str, person: str) -> Response | tuple[str, int]:
    visible_conference(reference)
    key = request.form.get("flag", "")[:64]
    resolution = request.form.get("resolution", "")
    reason = request.form.get(f"reason-{key}", "")[:MAX_TEXT]
    field = f"reason-{key}"
    if resolution not in ("withhold", "share"):
        return _review_page(reference, person, status=400, errors=[{"text": "Choose Withhold or Share, with reason"}])
    if not reason.strip():
        message = "Give your reason for withholding this item" if resolution == "withhold" else \
            "Give your reason for sharing this item"
        return _review_page(reference, person, status=400, errors=[{"text": message, "href": f"#{field}"}],
                            field_errors={field: message})
    try:
        flag = risk.resolve_flag(runtime(), reference, person, key, resolution=resolution,  # type: ignore[arg-type]
                                 reason=reason, chair=_chair_id())
    except DocgenError as error:
        return _review_page(reference, person, status=409, errors=[{"text": _message(error)}],
                            values={field: reason})
    flash("The item is withheld from them; the copy is being made again from the new version."
          if flag.status == "withheld" else "The flagged item will be shared with them; your reason is kept.")
    return redirect(url_for("chair.review", reference=reference, person=person))


@chair.route("/<reference>/<person>/approve", methods=["POST"])
@requires(Permission.REVIEW_FAMILY_COPIES)
def approve(reference: str, person: str) -> Response | tuple[str, int]:
    visible_conference(reference)
    comment = request.form.get("comment", "")[:MAX_TEXT].strip()
    try:
        row, released = approve_copy(runtime(), reference, person, chair=_chair_id(), comment=comment)
    except DocgenError as error:
        return _review_page(reference, person, status=409, errors=[{"text": _message(error)}])
    flash(f"Approved: content version {row.content_version} may be sent to them"
          + (f"; {released} held outbox item{'s' if released != 1 else ''} released." if released else "."))
    return redirect(url_for("chair.queue"))


@chair.route("/<reference>/<person>/return", methods=["GET", "POST"])
@requires(Permission.REVIEW_FAMILY_COPIES)
def return_to_support(reference: str, person: str) -> Response | str | tuple[str, int]:
    version = visible_conference(reference)
    name = approval.reader(version.case, person).name
    comment = request.form.get("comment", "")[:MAX_TEXT]
    page: dict[str, Any] = {"reference": reference, "person": person, "name": name, "comment": comment}
    if request.method == "GET":
        return render_template("chair/return.html", **page, comment_error=None)
    if not comment.strip():
        message = "Say what must change before you can approve the copy"
        return render_template("chair/return.html", **page, comment_error=message,
                               errors=[{"text": message, "href": "#comment"}]), 400
    try:
        return_copy(runtime(), reference, person, chair=_chair_id(), comment=comment)
    except DocgenError as error:
        return render_template("chair/return.html", **page, comment_error=None,
                               errors=[{"text": _message(error)}]), 409
    flash(f"Returned {name}'s copy to business support with your comment. Nothing is sent to them until you "
          "approve it.")
    return redirect(url_for("chair.queue"))


@chair.route("/<reference>/reports", methods=["GET", "POST"])
@requires(Permission.REVIEW_FAMILY_COPIES)
def reports(reference: str) -> Response | str | tuple[str, int]:
    visible_conference(reference)
    if request.method == "GET":
        return render_template("chair/reports.html", reference=reference, choices=reports_to_decide(runtime(), reference))
    report = request.form.get("report", "")[:64]
    decision = request.form.get(f"share-{report}", "")
    comment = request.form.get(f"comment-{report}", "")[:MAX_TEXT].strip() or None
    if decision not in ("yes", "no"):
        message = "Choose whether the report may be shared with parents"
        return render_template("chair/reports.html", reference=reference, choices=reports_to_decide(runtime(), reference),
                               errors=[{"text": message, "href": f"#share-{report}"}],
                               field_errors={f"share-{report}": message}), 400
    try:
        approval.approve_report_sharing(runtime(), reference, report, chair=_chair_id(), decision=decision == "yes",
                                        comment=comment)
    except DocgenError as error:
        return render_template("chair/reports.html", reference=reference, choices=reports_to_decide(runtime(), reference),
                               errors=[{"text": _message(error)}]), 409
    flash("Decision saved: the report " + ("may be shared with parents." if decision == "yes" else
                                           "will not be shared with parents."))
    return redirect(url_for("chair.reports", reference=reference))
