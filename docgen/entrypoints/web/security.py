"""Who may open what, decided in one place, and the headers every response carries.

Every view declares what it needs with :func:`requires` (a permission) or :func:`public`; the
application's one ``before_request`` hook looks the declaration up and refuses the request
otherwise. A view that declares nothing is refused to everyone, so forgetting is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as BaseResponse

from docgen.domain.accounts import Permission, may
from docgen.services.accounts import Account, session_account

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
API_KEY = "api_key"

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
