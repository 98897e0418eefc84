"""The web application's settings, read from ``web.toml`` in the configuration folder.

Secrets are not here: the key that signs session cookies comes from ``DOCGEN_WEB_SECRET_KEY`` in
the environment, and the server refuses to start without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from docgen.configuration.folder import config_file
from docgen.configuration.toml import At, Check, Problems, at_least, checked, read_dataclass, read_toml, whole_number
from docgen.errors import ConfigurationError

FILE_NAME = "web.toml"
HEADING = "Web application settings not loaded"
SECRET_KEY_VARIABLE = "DOCGEN_WEB_SECRET_KEY"


@dataclass(frozen=True)
class WebSettings:
    """Every key of ``web.toml``; the defaults are the shipped file's values."""

    idle_timeout_minutes: int = 30
    session_lifetime_hours: int = 12
    sign_in_window_minutes: int = 15
    failures_per_account: int = 5
    failures_per_address: int = 20
    max_upload_kilobytes: int = 5120
    data_folder: Path = Path("var/web")
    workers_beside_server: int = 1
    job_lease_seconds: int = 60
    public_url: str = "http://127.0.0.1:8000"
    portal_link_days: int = 28
    portal_code_minutes: int = 10
    portal_code_attempts: int = 5
    portal_codes_per_hour: int = 3
    portal_session_minutes: int = 30


def _public_url(value: Any) -> tuple[Any, str | None]:
    """The address recipients reach the application at: http(s), a host, no query, no trailing slash."""
    if not isinstance(value, str):
        return None, "must be text, the address of the web application (https://...)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None, "must be an http or https address with a host, and no query or fragment"
    return value.rstrip("/"), None


_CHECKS: Mapping[str, Check] = {
    "idle_timeout_minutes": checked(at_least(1, whole_number)),
    "session_lifetime_hours": checked(at_least(1, whole_number)),
    "sign_in_window_minutes": checked(at_least(1, whole_number)),
    "failures_per_account": checked(at_least(1, whole_number)),
    "failures_per_address": checked(at_least(1, whole_number)),
    "max_upload_kilobytes": checked(at_least(1, whole_number)),
    "workers_beside_server": checked(at_least(0, whole_number)),
    "job_lease_seconds": checked(at_least(5, whole_number)),
    "public_url": checked(_public_url),
    "portal_link_days": checked(at_least(1, whole_number)),
    "portal_code_minutes": checked(at_least(1, whole_number)),
    "portal_code_attempts": checked(at_least(1, whole_number)),
    "portal_codes_per_hour": checked(at_least(1, whole_number)),
    "portal_session_minutes": checked(at_least(1, whole_number)),
}


def load_web_settings(config_dir: Path | None = None) -> WebSettings:
    """``web.toml`` from the configuration folder; the defaults when the file is absent."""
    path = config_file(FILE_NAME, config_dir)
    if not path.exists():
        return WebSettings()
    problems = Problems()
    data = read_toml(path, problems)
    settings = read_dataclass(WebSettings, data, At(str(path), problems), checks=_CHECKS) if data is not None else None
    problems.raise_if_any(HEADING)
    if settings is None:
        raise ConfigurationError(f"{path}: the web application settings could not be read")
    return settings
