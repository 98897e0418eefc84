"""Administration: staff accounts (and, in its own module, API keys for case management systems)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import ROLE_LABELS, Permission, Role
from docgen.entrypoints.web.security import account, requires
from docgen.errors import AccountError
from docgen.services.accounts import add_account, change_account, get_account, list_accounts
from docgen.services.runtime import Runtime

admin = Blueprint("admin", __name__, url_prefix="/admin")


def _runtime() -> Runtime:
    return current_app.extensions["docgen.runtime"]  # type: ignore[no-any-return]


@admin.route("/accounts")
@requires(Permission.MANAGE_ACCOUNTS)
def accounts() -> str:
    return render_template("admin/accounts.html", accounts=list_accounts(_runtime()), roles=ROLE_LABELS)


@admin.route("/accounts/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_ACCOUNTS)
def new_account() -> Response | str | tuple[str, int]:
    form = {key: request.form.get(key, "") for key in ("username", "display_name", "role", "professional")}
    if request.method == "GET":
        return render_template("admin/new_account.html", form=form, roles=ROLE_LABELS)
    try:
        added = add_account(_runtime(), form["username"], display_name=form["display_name"], role=form["role"],
                            password=request.form.get("password", ""), professional=form["professional"] or None,
                            actor=account().actor)
    except AccountError as problem:
        return render_template("admin/new_account.html", form=form, roles=ROLE_LABELS,
                               errors=[{"text": str(problem), "href": "#" + _field_of(str(problem))}]), 400
    flash(f"Account {added.username} added.")
    return redirect(url_for("admin.accounts"))


def _field_of(message: str) -> str:
    for word, field in (("username", "username"), ("password", "password"), ("role", "role"), ("name", "display_name"),
                        ("professional", "professional")):
        if word in message:
            return field
    return "username"


@admin.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_ACCOUNTS)
def edit_account(account_id: int) -> Response | str | tuple[str, int]:
    runtime = _runtime()
    shown = get_account(runtime, account_id)
    if request.method == "GET":
        return render_template("admin/edit_account.html", shown=shown, roles=ROLE_LABELS)
    try:
        change_account(runtime, account_id, actor=account().actor, role=request.form.get("role") or None,
                       active=(request.form["active"] == "yes") if "active" in request.form else None,
                       professional=request.form.get("professional", None),
                       password=request.form.get("password") or None)
    except AccountError as problem:
        return render_template("admin/edit_account.html", shown=shown, roles=ROLE_LABELS,
                               errors=[{"text": str(problem), "href": "#" + _field_of(str(problem))}]), 400
    flash(f"Account {shown.username} changed.")
    return redirect(url_for("admin.accounts"))


__all__ = ["Role", "admin"]
