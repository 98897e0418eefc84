"""Pages open to everyone: the start page, the accessibility statement and the privacy notice."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission, may
from docgen.entrypoints.web.security import current_account, public

pages = Blueprint("pages", __name__)


@pages.route("/")
@public
def start() -> Response:
    account = current_account()
    if account is None:
        return redirect(url_for("auth.sign_in"))
    if may(account.role, Permission.VIEW_CONFERENCES):
        return redirect(url_for("conferences.index"))
    if may(account.role, Permission.MANAGE_ACCOUNTS):
        return redirect(url_for("admin.accounts"))
    return redirect(url_for("pages.accessibility"))


@pages.route("/accessibility")
@public
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@pages.route("/privacy")
@public
def privacy() -> str:
    return render_template("pages/privacy.html")
