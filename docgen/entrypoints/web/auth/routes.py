"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from docgen.entrypoints.web.security import current_account, public
from docgen.errors import SignInRefused
from docgen.services.accounts import PasswordSignIn
from docgen.services.accounts import sign_out as end_session

auth = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an address elsewhere (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc or "\\" in target:
        return "/"
    return target


@auth.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if current_account() is not None:
            return redirect("/")
        return render_template("auth/sign_in.html", next=_safe_next(request.args.get("next")), username="")
    runtime = current_app.extensions["docgen.runtime"]
    provider = current_app.extensions.get("docgen.identity") or PasswordSignIn(current_app.extensions["docgen.web_settings"])
    username = request.form.get("username", "")[:64]
    try:
        token, _ = provider.sign_in(runtime, {"username": username, "password": request.form.get("password", "")},
                                    address=request.remote_addr or "-")
    except SignInRefused as refused:
        errors = [{"text": str(refused), "href": "#username"}]
        return render_template("auth/sign_in.html", errors=errors, next=_safe_next(request.form.get("next")),
                               username=username), 400
    session.clear()  # a new session identifier at sign-in: no fixation
    session["token"] = token
    return redirect(_safe_next(request.form.get("next")))


@auth.route("/sign-out", methods=["POST"])
@public
def sign_out() -> Response:
    token = session.get("token")
    if isinstance(token, str):
        end_session(current_app.extensions["docgen.runtime"], token)
    session.clear()
    return redirect(url_for("auth.signed_out"))


@auth.route("/signed-out")
@public
def signed_out() -> str:
    return render_template("auth/signed_out.html")
