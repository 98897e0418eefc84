"""The conference's outbox: every item with its state in words, its window, when and by which route
it went, what is held and why; and, for those who manage the outbox, resend and cancel, each with a
reason that is audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.conferences.routes import conferences, runtime, visible_conference
from docgen.entrypoints.web.security import account, requires
from docgen.errors import DocgenError, NotFoundError
from docgen.services.outbox_view import STATE_WORDS, cancel, conference_outbox, outbox_row, resend, schedule
from docgen.services.returns import returned_copies
from docgen.services.scheduling import BookingReasonRequired, describe_breach
from docgen.services.window_changes import WindowChangesNeedConfirmation

ACTIONS = {"resend": ("Send again", resend, "will be sent again"), "cancel": ("Cancel", cancel, "is cancelled")}


@conferences.route("/<reference>/outbox")
@requires(Permission.VIEW_CONFERENCES)
def outbox(reference: str) -> str:
    visible_conference(reference)
    wanted = tuple(state for state in request.args.getlist("state") if state in STATE_WORDS)
    rows = conference_outbox(runtime(), reference, states=wanted)
    return render_template("conferences/outbox.html", reference=reference, rows=rows, wanted=wanted,
                           states=STATE_WORDS, returns=returned_copies(runtime(), reference))


@conferences.route("/<reference>/outbox/<int:item_id>/<action>", methods=["GET", "POST"])
@requires(Permission.MANAGE_OUTBOX)
def outbox_change(reference: str, item_id: int, action: str) -> Response | str | tuple[str, int]:
    visible_conference(reference)
    if action not in ACTIONS:
        raise NotFoundError(f"there is no outbox action {action!r}")
    label, change, outcome = ACTIONS[action]
    row = outbox_row(runtime(), reference, item_id)
    reason = request.form.get("reason", "")[:2000]
    if request.method == "GET":
        return render_template("conferences/outbox_change.html", reference=reference, row=row, action=action,
                               label=label, reason="", reason_error=None)
    if not reason.strip():
        message = f"Give the reason to {label.lower()} this item"
        return render_template("conferences/outbox_change.html", reference=reference, row=row, action=action,
                               label=label, reason=reason, reason_error=message,
                               errors=[{"text": message, "href": "#reason"}]), 400
    try:
        moved = change(runtime(), reference, item_id, reason=reason, actor=account().actor)
    except DocgenError as error:
        message = f"{str(error)[:1].upper()}{str(error)[1:]}"
        return render_template("conferences/outbox_change.html", reference=reference, row=row, action=action,
                               label=label, reason=reason, reason_error=None,
                               errors=[{"text": message}]), 409
    flash(f"Outbox item {moved.id} {outcome}.")
    return redirect(url_for("conferences.outbox", reference=reference))


@conferences.route("/<reference>/outbox/schedule", methods=["POST"])
@requires(Permission.MANAGE_OUTBOX)
def schedule_documents(reference: str) -> Response | str | tuple[str, int]:
    """Put the conference's copies in the outbox with their windows (again, after a change). When that
    would move a stored window, the page lists each change and asks for confirmation first."""
    visible_conference(reference)
    reason = request.form.get("reason", "")[:2000]
    confirmed = request.form.get("confirmed", "")[:64]
    try:
        result = schedule(runtime(), reference, actor=account().actor, reason=reason or None,
                          confirmed=confirmed or None)
    except WindowChangesNeedConfirmation as moving:
        rows = conference_outbox(runtime(), reference)
        return render_template("conferences/outbox.html", reference=reference, rows=rows, wanted=(),
                               states=STATE_WORDS, changes=moving.changes, confirm=moving.digest, reason=reason,
                               stale=bool(confirmed))
    except BookingReasonRequired as late:
        message = "Give the reason for the delay, agreed with the team manager" if not reason.strip() else str(late)
        rows = conference_outbox(runtime(), reference)
        return render_template("conferences/outbox.html", reference=reference, rows=rows, wanted=(),
                               states=STATE_WORDS, late=[describe_breach(b) for b in late.breaches],
                               reason=reason, reason_error=message,
                               errors=[{"text": message, "href": "#reason"}]), 400
    moved = f" {len(result.moved)} windows moved as confirmed." if result.moved else ""
    flash(f"Scheduled: {result.created} new outbox items, {result.updated} brought up to date, "
          f"{result.cancelled} no longer needed.{moved}")
    return redirect(url_for("conferences.outbox", reference=reference))
