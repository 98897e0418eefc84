"""GOV.UK Frontend's compiled assets, installed from npm (pinned in package.json) and served by the
application itself: nothing is fetched from another site."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from docgen.entrypoints.web.security import public
from docgen.errors import ConfigurationError

REPOSITORY = Path(__file__).resolve().parents[3]
FRONTEND_VARIABLE = "DOCGEN_GOVUK_FRONTEND"

assets = Blueprint("assets", __name__)


def frontend_folder(folder: Path | None = None) -> Path:
    """The ``dist/govuk`` folder of the govuk-frontend npm package."""
    chosen = folder or (Path(os.environ[FRONTEND_VARIABLE]) if os.environ.get(FRONTEND_VARIABLE) else
                        REPOSITORY / "node_modules" / "govuk-frontend" / "dist" / "govuk")
    if not (chosen / "govuk-frontend.min.css").is_file():
        raise ConfigurationError(
            f"{chosen}: GOV.UK Frontend's assets are not there. Run `npm ci` in {REPOSITORY} (./dev serve does), "
            f"or set {FRONTEND_VARIABLE} to the dist/govuk folder of govuk-frontend")
    return chosen


@assets.route("/assets/<path:name>")
@public
def file(name: str) -> Response:
    folder: Path = current_app.extensions["docgen.frontend"]
    if name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
        return send_from_directory(folder, name, max_age=3600)
    return send_from_directory(folder / "assets", name, max_age=3600)
