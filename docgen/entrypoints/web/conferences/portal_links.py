"""The conference's recipient portal links, for business support: each person's link, how it was
announced, when it stops working and its state, each document on it with when it was first opened;
and, for those who manage the outbox, recalling one copy or the whole link, with a reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import NotFoundError
from docgen.services.portal import PortalDocumentView, PortalLinkView, links_of, recall_document, recall_link

STATE_TAGS = {"live": "govuk-tag--green", "recalled": "govuk-tag--red", "expired": "govuk-tag--grey",
              "locked": "govuk-tag--orange"}
CHANNEL_WORDS = {"sms": "text message", "email": "email"}


@conferences.route("/<reference>/portal")
@requires(Permission.VIEW_CONFERENCES)
def portal_links(reference: str) -> str:
    visible_conference(reference)
    return render_template("conferences/portal_links.html", reference=reference, links=links_of(runtime(), reference),
                           tags=STATE_TAGS, channels=CHANNEL_WORDS)


def _target(reference: str, what: str, target_id: int) -> tuple[PortalLinkView, PortalDocumentView | None]:
    for link in links_of(runtime(), reference):
        if what == "link" and link.id == target_id:
            return link, None
        for document in link.documents:
            if what == "copy" and document.id == target_id:
                return link, document
    raise NotFoundError(f"conference {reference} has no portal {what} {target_id}")


@conferences.route("/<reference>/portal/<what>/<int:target_id>/recall", methods=["GET", "POST"])
@requires(Permission.MANAGE_OUTBOX)
def portal_recall(reference: str, what: str, target_id: int) -> Response | str | tuple[str, int]:
    visible_conference(reference)
    if what not in ("link", "copy"):
        raise NotFoundError(f"there is nothing called {what!r} to recall")
    link, document = _target(reference, what, target_id)
    reason = request.form.get("reason", "")[:2000]
    page = {"reference": reference, "what": what, "link": link, "document": document, "tags": STATE_TAGS,
            "channels": CHANNEL_WORDS, "reason": reason}
    if request.method == "GET":
        return render_template("conferences/portal_recall.html", **page, reason_error=None)
    if not reason.strip():
        message = "Give the reason for the recall"
        return render_template("conferences/portal_recall.html", **page, reason_error=message,
                               errors=[{"text": message, "href": "#reason"}]), 400
    now = runtime().clock()
    if document is not None:
        recall_document(runtime(), document.id, actor=account().actor, reason=reason, now=now, reference=reference)
        flash(f"{document.title} for {link.recipient_name} is recalled: it can no longer be downloaded.")
    else:
        recall_link(runtime(), link.id, actor=account().actor, reason=reason, now=now, reference=reference)
        flash(f"{link.recipient_name}'s link is recalled: it no longer works.")
    return redirect(url_for("conferences.portal_links", reference=reference))
