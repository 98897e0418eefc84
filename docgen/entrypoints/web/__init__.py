"""The web application for business support, chairs, managers and administrators, and the recipient
portal for people without an S/MIME certificate.

Built by :func:`create_app` from a :class:`~docgen.services.runtime.Runtime` (the same services the
CLI uses; no view touches the database) and the web settings. One package per area, each with its
own routes; who may open what is declared on each view and enforced in ``security``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask.templating import Environment as FlaskEnvironment
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from jinja2.sandbox import SandboxedEnvironment
from werkzeug.exceptions import HTTPException

from docgen.configuration.web import WebSettings
from docgen.domain.accounts import Permission, may
from docgen.domain.calendar import LONDON
from docgen.entrypoints.web import security
from docgen.errors import AccessDenied, CaseFileError, ConflictError, DocgenError, NotFoundError
from docgen.services.portal import CodeSender
from docgen.services.runtime import Runtime

HERE = Path(__file__).resolve().parent
log = logging.getLogger("docgen.web")


class SandboxedFlaskEnvironment(FlaskEnvironment, SandboxedEnvironment):
    """Flask's environment, sandboxed: the application's templates get no more than they are given."""


def create_app(runtime: Runtime, settings: WebSettings, *, secret_key: str, tls: bool = False,
               frontend_dir: Path | None = None, portal_code_sender: CodeSender | None = None) -> Flask:
    """The application. ``portal_code_sender`` sends the portal's one-time codes (GOV.UK Notify, SMTP);
    without one the portal says codes cannot be sent now and gives the service's phone number."""
    from docgen.entrypoints.web.assets import assets, frontend_folder

    app = Flask(__name__, static_folder=str(HERE / "static"), static_url_path="/static",
                template_folder=str(HERE / "templates"))
    app.jinja_environment = SandboxedFlaskEnvironment
    app.jinja_options = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True}
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(HERE / "templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    if len(secret_key) < 32:
        raise DocgenError("the web application's secret key must be at least 32 characters")
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="__Host-docgen" if tls else "docgen-session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=tls,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which has its own timeouts
        WTF_CSRF_SSL_STRICT=tls,
        MAX_CONTENT_LENGTH=settings.max_upload_kilobytes * 1024 + 64 * 1024,
        DOCGEN_TLS=tls,
    )
    app.extensions["docgen.runtime"] = runtime
    app.extensions["docgen.web_settings"] = settings
    app.extensions["docgen.frontend"] = frontend_folder(frontend_dir)
    app.extensions["docgen.portal_code_sender"] = portal_code_sender
    csrf = CSRFProtect(app)

    # The conferences area's modules add their views to its blueprint when imported.
    import docgen.entrypoints.web.conferences.outbox
    import docgen.entrypoints.web.conferences.pack
    import docgen.entrypoints.web.conferences.portal_links
    import docgen.entrypoints.web.conferences.recipients  # noqa: F401
    from docgen.entrypoints.web.admin.api_keys import api_keys
    from docgen.entrypoints.web.admin.routes import admin
    from docgen.entrypoints.web.api.routes import api
    from docgen.entrypoints.web.auth.routes import auth
    from docgen.entrypoints.web.chair import answers, reassign  # noqa: F401  (their routes, on conferences)
    from docgen.entrypoints.web.chair.routes import chair
    from docgen.entrypoints.web.conferences import editing, record  # noqa: F401  (their routes, on conferences)
    from docgen.entrypoints.web.conferences.routes import conferences
    from docgen.entrypoints.web.pages.routes import pages
    from docgen.entrypoints.web.portal.routes import portal

    for blueprint in (assets, auth, pages, conferences, chair, admin, api_keys, api, portal):
        app.register_blueprint(blueprint)
    csrf.exempt(api)  # API calls carry an API key and no cookie, so there is nothing to forge

    app.before_request(security.check_access)
    app.after_request(security.add_headers)
    app.context_processor(_layout_context)
    _register_errors(app)
    return app


def _layout_context() -> dict[str, Any]:
    runtime: Runtime = __import__("flask").current_app.extensions["docgen.runtime"]
    account = security.current_account()
    navigation = []
    if account is not None:
        if may(account.role, Permission.VIEW_CONFERENCES):
            navigation.append({"href": "/conferences", "text": "Conferences",
                               "active": request.path.startswith("/conferences")})
        if may(account.role, Permission.REVIEW_FAMILY_COPIES):
            navigation.append({"href": "/chair", "text": "Waiting for you", "active": request.path.startswith("/chair")})
        if may(account.role, Permission.MANAGE_ACCOUNTS):
            navigation.append({"href": "/admin/accounts", "text": "Accounts", "active": request.path.startswith("/admin")})
    return {
        "account": account,
        "authority_name": runtime.settings.authority.name,
        "service_name": "Child protection conferences",
        "navigation": navigation,
        "may": lambda permission: account is not None and may(account.role, Permission(permission)),
        "url_for_safe": _url_for_safe,
        "london": LONDON,
    }


def _url_for_safe(endpoint: str, **values: Any) -> str | None:
    """The address of ``endpoint``, or None if no area of the application offers it (so a page links
    only to what exists) or the signed-in account may not open it."""
    from flask import current_app, url_for

    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    needs = getattr(view, "needs", None)
    account = security.current_account()
    if needs not in (security.PUBLIC,) and (account is None or needs is None or not may(account.role, needs)):
        return None
    return url_for(endpoint, **values)


def _register_errors(app: Flask) -> None:
    statuses: list[tuple[type[DocgenError], int, str]] = [
        (NotFoundError, 404, "Page not found"),
        (AccessDenied, 403, "You cannot do this"),
        (ConflictError, 409, "Someone else saved first"),
        (CaseFileError, 400, "There is a problem"),
    ]

    @app.errorhandler(DocgenError)
    def product_error(error: DocgenError) -> tuple[str, int]:
        status, title = next(((status, title) for cls, status, title in statuses if isinstance(error, cls)),
                             (400, "There is a problem"))
        return render_template("errors/problem.html", title=title, message=str(error)), status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/problem.html", title="The form could not be accepted",
                               message="The form was out of date or did not come from this service. Go back, "
                                       "reload the page and try again."), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if request.path.startswith("/api/"):  # no view matched, so the API's own handlers were not asked
            from docgen.entrypoints.web.api.routes import error_response
            return error_response(error)
        titles = {403: "You cannot open this page", 404: "Page not found", 405: "This page cannot be used like that",
                  413: "The file is too large"}
        messages = {403: "Your account does not allow this. If you think it should, ask your manager.",
                    404: "If you typed the web address, check it is correct.",
                    413: f"Files up to {app.extensions['docgen.web_settings'].max_upload_kilobytes // 1024} MB can be "
                         "uploaded."}
        status = error.code or 500
        return render_template("errors/problem.html", title=titles.get(status, "Sorry, there is a problem"),
                               message=messages.get(status, "Try again later.")), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        # The type only: an exception's message may quote case content, and logs must not hold it.
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.path)
        return render_template("errors/problem.html", title="Sorry, there is a problem with the service",
                               message="Nothing was changed by the last action. Try again later; if it happens "
                                       "again, tell your system administrator the time it happened."), 500
