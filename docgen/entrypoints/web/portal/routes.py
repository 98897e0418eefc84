"""The recipient portal's screens: the link's first page (a code is sent to the phone or email on
file), entering the code, the recipient's documents with a note on each, downloads, and signing out.

The link and code pages are public and do their own checks; the documents need a portal session for
the link in the address (``security.recipient``), which only a right code starts. A link that does not
work gets the same page whether it is unknown, expired, recalled or locked, so a token cannot be probed.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.configuration.web import WebSettings
from docgen.entrypoints.web.security import portal_cookie, portal_link, public, recipient
from docgen.errors import PortalError
from docgen.services import portal_access as access
from docgen.services.portal import CodeSender
from docgen.services.runtime import Runtime

portal = Blueprint("portal", __name__, url_prefix="/portal")
log = logging.getLogger("docgen.web")

Page = Response | str | tuple[str, int]


def _runtime() -> Runtime:
    return current_app.extensions["docgen.runtime"]  # type: ignore[no-any-return]


def _settings() -> WebSettings:
    return current_app.extensions["docgen.web_settings"]  # type: ignore[no-any-return]


def _sender() -> CodeSender | None:
    return current_app.extensions.get("docgen.portal_code_sender")


def _phone() -> str:
    return _runtime().settings.authority.phone


def _no_longer_works() -> tuple[str, int]:
    return render_template("portal/no_longer_works.html", phone=_phone()), 404


@portal.errorhandler(PortalError)
def _unavailable(error: PortalError) -> tuple[str, int]:
    # Any other portal problem (no key, a stored document that does not decrypt): the recipient is asked to
    # phone; the log says what, naming the setting or the document's number, never a person.
    log.error("recipient portal %s: %s", type(error).__name__, error)
    return render_template("portal/unavailable.html", phone=_phone()), 503


@portal.errorhandler(access.LinkNotWorking)
def _link_not_working(error: access.LinkNotWorking) -> tuple[str, int]:
    return _no_longer_works()


@portal.errorhandler(access.DocumentNotAvailable)
def _not_available(error: access.DocumentNotAvailable) -> tuple[str, int]:
    return render_template("portal/not_available.html", phone=_phone(), link_id=portal_link(),
                           signed_in=portal_link() is not None), 404


def _landing(token: str, door: access.Door, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("portal/landing.html", token=token, door=door, phone=_phone(),
                           can_send=_sender() is not None and door.code_goes_to is not None,
                           errors=[{"text": error}] if error else None, error=error), status


@portal.route("/<token>")
@public
def landing(token: str) -> Page:
    try:
        door = access.open_link(_runtime(), token[:128])
    except access.LinkNotWorking:
        return _no_longer_works()
    return _landing(token, door)


@portal.route("/<token>/send-code", methods=["POST"])
@public
def send_code(token: str) -> Page:
    try:
        access.send_code(_runtime(), token[:128], _sender(), _settings())
    except access.LinkNotWorking:
        return _no_longer_works()
    except (access.TooManyCodes, access.CodeNotSent) as refused:
        return _landing(token, access.open_link(_runtime(), token[:128]), error=str(refused), status=429
                        if isinstance(refused, access.TooManyCodes) else 503)
    return redirect(url_for("portal.enter_code", token=token, sent=1))


def _code_page(token: str, *, error: str | None = None, used_up: bool = False, status: int = 200) -> tuple[str, int]:
    door = access.open_link(_runtime(), token[:128])
    return render_template("portal/enter_code.html", token=token, door=door, phone=_phone(),
                           minutes=_settings().portal_code_minutes, sent=request.args.get("sent") == "1",
                           can_send=_sender() is not None and door.code_goes_to is not None,
                           error=error, used_up=used_up,
                           errors=[{"text": error, "href": "#code"}] if error else None), status


@portal.route("/<token>/code", methods=["GET", "POST"])
@public
def enter_code(token: str) -> Page:
    try:
        if request.method == "GET":
            return _code_page(token)
        signed_in = access.enter_code(_runtime(), token[:128], request.form.get("code", "")[:32], _settings())
    except access.LinkLocked:
        return render_template("portal/locked.html", phone=_phone()), 403
    except access.LinkNotWorking:
        return _no_longer_works()
    except access.CodeMistyped as mistyped:
        return _code_page(token, error=str(mistyped), status=400)
    except access.WrongCode as wrong:
        tries = "1 try" if wrong.tries_left == 1 else f"{wrong.tries_left} tries"
        return _code_page(token, error=f"The code is not right. You have {tries} left.", status=400)
    except access.NoLiveCode as none:
        message = ("Too many wrong codes. Ask for a new code." if none.used_up
                   else "This code has expired or was already used. Ask for a new code.")
        return _code_page(token, error=message, used_up=True, status=400)
    response = redirect(url_for("portal.documents", link_id=signed_in.link_id))
    response.set_cookie(portal_cookie(), signed_in.session_token, max_age=_settings().portal_session_minutes * 60,
                        path="/", secure=bool(current_app.config.get("DOCGEN_TLS")), httponly=True,
                        samesite="Strict")
    return response


@portal.route("/your-documents/<int:link_id>")
@recipient
def documents(link_id: int) -> Page:
    return render_template("portal/documents.html", link_id=link_id, phone=_phone(), signed_in=True,
                           documents=access.documents_for(_runtime(), link_id))


@portal.route("/your-documents/<int:link_id>/<int:document_id>")
@recipient
def download(link_id: int, document_id: int) -> Response:
    got = access.download(_runtime(), link_id, document_id)
    response = Response(got.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{got.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@portal.route("/sign-out", methods=["POST"])
@public
def sign_out() -> Page:
    token = request.cookies.get(portal_cookie(), "")
    if token:
        access.sign_out(_runtime(), token[:128])
    response = current_app.make_response(render_template("portal/signed_out.html", phone=_phone()))
    response.delete_cookie(portal_cookie(), path="/", secure=bool(current_app.config.get("DOCGEN_TLS")),
                           httponly=True, samesite="Strict")
    return response

