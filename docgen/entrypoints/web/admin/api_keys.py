"""Administration of API keys: the keys case management systems call the API with, made (the key
shown once), listed and revoked by administrators."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from docgen.domain.accounts import Permission
from docgen.entrypoints.web.security import account, requires
from docgen.errors import ApiKeyError
from docgen.services.api_keys import create_api_key, list_api_keys, revoke_api_key
from docgen.services.runtime import Runtime

api_keys = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")


def _runtime() -> Runtime:
    return current_app.extensions["docgen.runtime"]  # type: ignore[no-any-return]


@api_keys.route("")
@requires(Permission.MANAGE_API_KEYS)
def index() -> str:
    return render_template("admin/api_keys.html", keys=list_api_keys(_runtime()), system="")


@api_keys.route("", methods=["POST"])
@requires(Permission.MANAGE_API_KEYS)
def create() -> str | tuple[str, int]:
    system = request.form.get("system", "")[:200]
    try:
        made = create_api_key(_runtime(), system, actor=account().actor)
    except ApiKeyError as problem:
        message = str(problem)[:1].upper() + str(problem)[1:]
        return render_template("admin/api_keys.html", keys=list_api_keys(_runtime()), system=system,
                               errors=[{"text": message, "href": "#system"}], system_error=message), 400
    # Shown in the answer to the form, not after a redirect: the key must not pass through the session
    # (flash messages live in the cookie). The page is never cached (Cache-Control: no-store).
    return render_template("admin/api_key_made.html", made=made)


@api_keys.route("/<prefix>/revoke", methods=["POST"])
@requires(Permission.MANAGE_API_KEYS)
def revoke(prefix: str) -> Response:
    try:
        revoked = revoke_api_key(_runtime(), prefix, actor=account().actor)
    except ApiKeyError as problem:
        flash(str(problem))
        return redirect(url_for("api_keys.index"))
    flash(f"API key {revoked.prefix} of {revoked.system} revoked: it is refused from now on.")
    return redirect(url_for("api_keys.index"))
