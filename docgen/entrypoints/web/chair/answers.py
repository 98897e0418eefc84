"""Business support's side of a returned copy, on the conferences area: the chair's comment, and the
answer that sends the copy back to the chair's queue (audited with who answered)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import DocgenError, NotFoundError
from docgen.services.returns import MAX_TEXT, answer_return, returned_copies


@conferences.route("/<reference>/returns/<person>", methods=["GET", "POST"])
@requires(Permission.ANSWER_RETURNS)
def answer_returned_copy(reference: str, person: str) -> Response | str | tuple[str, int]:
    visible_conference(reference)
    returned = next((r for r in returned_copies(runtime(), reference) if r.person == person), None)
    if returned is None:
        raise NotFoundError(f"conference {reference} has no copy returned by the chair for {person}")
    answer = request.form.get("answer", "")[:MAX_TEXT]
    page = {"reference": reference, "returned": returned, "answer": answer}
    if request.method == "GET" or returned.answered:
        return render_template("chair/answer.html", **page, answer_error=None)
    if not answer.strip():
        message = "Say what was changed, or why nothing needs to change"
        return render_template("chair/answer.html", **page, answer_error=message,
                               errors=[{"text": message, "href": "#answer"}]), 400
    try:
        answer_return(runtime(), reference, person, answer=answer, actor=account().actor)
    except DocgenError as error:
        text = str(error)
        return render_template("chair/answer.html", **page, answer_error=None,
                               errors=[{"text": f"{text[:1].upper()}{text[1:]}"}]), 409
    flash(f"Answer sent: {returned.name}'s copy is back with the chair.")
    return redirect(url_for("conferences.overview", reference=reference))
