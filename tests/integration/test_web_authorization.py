"""Every route of the web application with every role and with no session: the expected allow or deny
for each, from one table. A route missing from the table fails the test, so a new page cannot be added
without deciding who may open it. CSRF: every form is refused without its token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_web import StaffUser
from docgen.services.importing import import_case_file
from tests.conftest import EXAMPLE
from tests.support.web import ACCOUNTS, WebWorld, csrf_token

ANYONE = "anyone"  # open without signing in
EVERY_ROLE = frozenset(ACCOUNTS) | {ANYONE}
SUPPORT = frozenset({"support"})
VIEWERS = frozenset({"support", "chair", "manager"})  # otherchair sees only the conferences they chair
OUTBOX = frozenset({"support", "manager"})
ADMIN = frozenset({"admin"})
API = "api"  # a case management system's API key, never a session: tested in test_web_api.py

#: (endpoint, method) -> who may use it.
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("assets.file", "GET"): EVERY_ROLE,
    ("static", "GET"): EVERY_ROLE,
    ("auth.sign_in", "GET"): EVERY_ROLE,
    ("auth.sign_in", "POST"): EVERY_ROLE,
    ("auth.sign_out", "POST"): EVERY_ROLE,
    ("auth.signed_out", "GET"): EVERY_ROLE,
    ("pages.start", "GET"): EVERY_ROLE,
    ("pages.accessibility", "GET"): EVERY_ROLE,
    ("pages.privacy", "GET"): EVERY_ROLE,
    ("conferences.index", "GET"): VIEWERS | {"otherchair"},
    ("conferences.new", "GET"): SUPPORT,
    ("conferences.new", "POST"): SUPPORT,
    ("conferences.import_file", "GET"): SUPPORT,
    ("conferences.import_file", "POST"): SUPPORT,
    ("conferences.overview", "GET"): VIEWERS,
    ("conferences.history", "GET"): VIEWERS,
    ("admin.accounts", "GET"): ADMIN,
    ("admin.new_account", "GET"): ADMIN,
    ("admin.new_account", "POST"): ADMIN,
    ("admin.edit_account", "GET"): ADMIN,
    ("admin.edit_account", "POST"): ADMIN,
}

#: A value for each part of a route's address.
SAMPLES: dict[str, Any] = {
    "reference": "NM-ICPC-2026-0147",
    "filename": "app.css",
    "name": "govuk-frontend.min.css",
}


def _routes(web: WebWorld) -> list[tuple[str, str, str]]:
    with unit_of_work(web.runtime.sessions) as session:
        samples = {**SAMPLES, "account_id": session.scalar(select(StaffUser.id).where(StaffUser.username == "support"))}
    routes = []
    for rule in web.app.url_map.iter_rules():
        missing = [argument for argument in rule.arguments if argument not in samples]
        assert not missing, f"{rule.rule}: add a sample value for {missing} to SAMPLES"
        path = rule.build({argument: samples[argument] for argument in rule.arguments})[1]
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            routes.append((rule.endpoint, method, path))
    return routes


def _client(web: WebWorld, who: str) -> FlaskClient:
    return web.client() if who == ANYONE else web.signed_in(who)


def _token(client: FlaskClient, who: str) -> str:
    # Signed in, every page's sign-out form carries the session's token; signed out, the sign-in form does.
    return csrf_token(client, "/sign-in" if who == ANYONE else "/accessibility")


def _denied(response: Any, who: str) -> bool:
    if who == ANYONE:
        return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return response.status_code in (403, 404)


def test_the_table_names_every_route(web: WebWorld) -> None:
    found = {(endpoint, method) for endpoint, method, _ in _routes(web)}
    assert sorted(found - set(EXPECTED)) == [], "routes nobody decided about: add them to EXPECTED"
    assert sorted(set(EXPECTED) - found) == [], "EXPECTED names routes that no longer exist"


@pytest.mark.parametrize("who", sorted(EVERY_ROLE))
def test_each_route_allows_and_denies_as_the_table_says(web: WebWorld, who: str) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    wrong: list[str] = []
    client = _client(web, who)
    token = _token(client, who)
    for endpoint, method, path in _routes(web):
        allowed = EXPECTED[(endpoint, method)]
        if allowed == API or endpoint in ("auth.sign_out", "auth.sign_in"):
            continue  # signing in and out are tested on their own; here they would change whose session this is
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        denied = _denied(response, who)
        if who in allowed and (denied and not (who == ANYONE and endpoint == "pages.start")):
            wrong.append(f"{method} {path}: {who} should be allowed, got {response.status_code}")
        if who not in allowed and not denied:
            wrong.append(f"{method} {path}: {who} should be refused, got {response.status_code}")
    assert wrong == []


def test_a_chair_is_refused_the_conferences_they_do_not_chair(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    client = web.signed_in("otherchair")
    for _endpoint, method, path in _routes(web):
        if method == "GET" and "NM-ICPC-2026-0147" in path:
            assert client.get(path).status_code == 404, path


def test_every_form_is_refused_without_its_csrf_token(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    refused = []
    clients: dict[str, FlaskClient] = {}
    for endpoint, method, path in _routes(web):
        allowed = EXPECTED[(endpoint, method)]
        if method != "POST" or allowed == API:
            continue
        who = next(iter(sorted(a for a in allowed if a != ANYONE)), ANYONE) if isinstance(allowed, frozenset) else ANYONE
        if who not in clients:
            clients[who] = _client(web, who)
        response = clients[who].post(path, data={})
        if response.status_code != 400 or "did not come from this service" not in response.get_data(as_text=True):
            refused.append(f"POST {path} as {who}: {response.status_code}")
    assert refused == []


def test_no_page_puts_a_session_token_in_an_address(web: WebWorld) -> None:
    client = web.signed_in("support")
    page = client.get("/conferences").get_data(as_text=True)
    assert not re.search(r'href="[^"]*(token|session)=', page)
