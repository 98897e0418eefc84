"""Who may open what, decided in one place, and the headers every response carries.

Every view declares what it needs with :func:`requires` (a permission), :func:`public`,
:func:`api_key` or :func:`recipient` (a recipient portal session for the link in the address); the
application's one ``before_request`` hook looks the declaration up and refuses the request
otherwise. A view that declares nothing is refused to everyone, so forgetting is safe. Staff
sessions and portal sessions are separate: each has its own table and cookie, and neither opens
what the other is for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, make_response, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as BaseResponse

from docgen.domain.accounts import Permission, may
from docgen.services.accounts import Account, session_account

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
API_KEY = "api_key"
RECIPIENT = "recipient"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def requires(permission: Permission) -> Callable[[F], F]:
    """The view needs a signed-in account whose role holds ``permission``."""
    def mark(view: F) -> F:
        view.needs = permission  # type: ignore[attr-defined]
        return view
    return mark


def public(view: F) -> F:
    """The view is open without signing in (sign-in page, accessibility statement, assets)."""
    view.needs = PUBLIC  # type: ignore[attr-defined]
    return view


def api_key(view: F) -> F:
    """The view is for case management systems, authenticated by an API key, not a session."""
    view.needs = API_KEY  # type: ignore[attr-defined]
    return view


def recipient(view: F) -> F:
    """The view is the recipient portal's, for the link ``link_id`` in its address: it needs a portal
    session for that link (the portal's own cookie), never a staff session."""
    view.needs = RECIPIENT  # type: ignore[attr-defined]
    return view


def needs_of(app: Flask, endpoint: str | None) -> Permission | str | None:
    if endpoint == "static":  # Flask's own view of the application's stylesheet and script
        return PUBLIC
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "needs", None)


def current_account() -> Account | None:
    signed_in: Account | None = g.get("account")
    return signed_in


def account() -> Account:
    """The signed-in account, in a view that required one."""
    signed_in = current_account()
    if signed_in is None:  # a view marked public asked for an account: a programming error
        raise Forbidden()
    return signed_in


def check_access() -> BaseResponse | None:
    """The ``before_request`` hook: load the session's account and enforce the view's declaration."""
    app = current_app
    g.account = None
    if request.endpoint is not None and needs_of(app, request.endpoint) == API_KEY:
        _check_api_key()  # the session cookie is not even read: API calls carry only their key
        return None
    if request.endpoint is None and request.path.startswith("/api/"):
        return None  # no such API address: answered in JSON, still without reading the session
    if request.endpoint is not None and needs_of(app, request.endpoint) == RECIPIENT:
        return _check_recipient()  # the staff session is not read: it opens nothing here
    token = session.get("token")
    if isinstance(token, str):
        g.account = session_account(app.extensions["docgen.runtime"], token, app.extensions["docgen.web_settings"])
        if g.account is None:
            session.clear()
    if request.endpoint is None:  # 404 or 405: let Flask answer
        return None
    needs = needs_of(app, request.endpoint)
    if needs in (PUBLIC, API_KEY):
        return None
    if needs is None:
        raise Forbidden()
    if g.account is None:
        if request.method == "GET":
            return redirect(url_for("auth.sign_in", next=request.full_path if request.query_string else request.path))
        return redirect(url_for("auth.sign_in"))
    if not may(g.account.role, needs):  # type: ignore[arg-type]
        raise Forbidden()
    return None


def portal_cookie() -> str:
    """The portal session's cookie: ``__Host-`` over TLS (secure, whole site, no domain), as the staff cookie."""
    return "__Host-docgen-portal" if current_app.config.get("DOCGEN_TLS") else "docgen-portal"


def _check_recipient() -> BaseResponse | None:
    """A portal view: the portal cookie's session must be live and for the link in the address."""
    from docgen.services.portal_access import session_link

    g.portal_link = None
    token = request.cookies.get(portal_cookie(), "")
    if token:
        g.portal_link = session_link(current_app.extensions["docgen.runtime"], token[:128],
                                     current_app.extensions["docgen.web_settings"])
    if g.portal_link is None or g.portal_link != (request.view_args or {}).get("link_id"):
        g.portal_link = None
        phone = current_app.extensions["docgen.runtime"].settings.authority.phone
        return make_response(render_template("portal/open_your_link.html", phone=phone), 403)
    return None


def portal_link() -> int | None:
    """The link whose portal session opened this request (in a ``@recipient`` view), else None."""
    link: int | None = g.get("portal_link")
    return link


def _check_api_key() -> None:
    """An API view: the request's ``Authorization: Bearer <key>`` names the calling system, or it is refused."""
    from docgen.services.api_keys import authenticate

    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    g.api_system = authenticate(current_app.extensions["docgen.runtime"],
                                key.strip() if scheme.lower() == "bearer" else "",
                                address=request.remote_addr or "-", settings=current_app.extensions["docgen.web_settings"])


def api_system() -> str:
    """The case management system whose key authenticated this request, in a view declared ``@api_key``."""
    system: str = g.api_system
    return system


def add_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if current_app.config.get("DOCGEN_TLS"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint not in ("static", "assets.file") and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response
