"""The web application under test: an app on the test runtime, one account for each role (passwords
made up per run), and helpers that sign in and post forms with their CSRF token, as a browser would."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_web import StaffUser
from docgen.adapters.passwords import hash_password
from docgen.configuration.web import WebSettings
from docgen.domain.accounts import Role
from docgen.entrypoints.web import create_app
from docgen.services.runtime import Runtime

#: One account for each role: username -> (role, professional id). The chair chairs the example conference.
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "support": (Role.BUSINESS_SUPPORT, None),
    "chair": (Role.CHAIR, "david-pryce"),
    "otherchair": (Role.CHAIR, "someone-else"),
    "manager": (Role.MANAGER, None),
    "admin": (Role.ADMINISTRATOR, None),
}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class MovableClock:
    """A clock the test moves on, for idle timeouts and throttling windows."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class WebWorld:
    """The application, its runtime and the passwords of its accounts."""

    app: Flask
    runtime: Runtime
    passwords: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, username: str) -> FlaskClient:
        client = self.client()
        response = sign_in(client, username, self.passwords[username])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client


@pytest.fixture(scope="session")
def account_hashes() -> dict[str, tuple[str, str]]:
    """Each account's password and its Argon2id hash, made once per run (hashing is slow on purpose)."""
    made = {}
    for username in ACCOUNTS:
        password = secrets.token_urlsafe(16)
        made[username] = (password, hash_password(password))
    return made


def add_accounts(runtime: Runtime, hashes: dict[str, tuple[str, str]]) -> dict[str, str]:
    with unit_of_work(runtime.sessions) as session:
        for username, (role, professional) in ACCOUNTS.items():
            session.add(StaffUser(username=username, display_name=username.title(), role=role.value,
                                  professional=professional, password_hash=hashes[username][1], active=True,
                                  created_at=runtime.clock(), created_by="tests"))
    return {username: hashes[username][0] for username in ACCOUNTS}


@pytest.fixture
def web(runtime: Runtime, account_hashes: dict[str, tuple[str, str]], tmp_path: Path) -> Iterator[WebWorld]:
    """The web application on the ``runtime`` fixture (every backend), with the accounts in ``ACCOUNTS``."""
    settings = WebSettings(data_folder=tmp_path / "web", workers_beside_server=0)
    app = create_app(runtime, settings, secret_key=secrets.token_urlsafe(48))
    app.config["TESTING"] = True
    yield WebWorld(app, runtime, add_accounts(runtime, account_hashes))


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no form with a CSRF token on {path} (status {page.status_code})"
    return found.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], *, form_page: str | None = None,
              **kwargs: Any) -> Any:
    """Post ``data`` to ``path`` with the CSRF token of the form on ``form_page`` (default ``path``)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_page or path)}, **kwargs)


def sign_in(client: FlaskClient, username: str, password: str) -> Any:
    return post_form(client, "/sign-in", {"username": username, "password": password})
