"""API keys: made, listed and revoked by administrators on their screens and with `docgen api-keys`,
audited; and the API's OpenAPI description, valid and complete. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.configuration.web import WebSettings
from docgen.entrypoints import cli_api_keys
from docgen.entrypoints.web.security import API_KEY
from docgen.errors import ApiKeyError
from docgen.services.api_keys import authenticate, create_api_key, list_api_keys
from tests.support.web import WebWorld, csrf_token, post_form

_KEY = re.compile(r'value="(dgk_[A-Za-z0-9_-]{43})"')


def _audit(web: WebWorld) -> list[tuple[str, str, str | None]]:
    with unit_of_work(web.runtime.sessions) as session:
        return [(e.actor, e.action, (e.details or {}).get("prefix")) for e in session.scalars(select(AuditEvent))]


def test_an_administrator_makes_a_key_sees_it_once_and_revokes_it(web: WebWorld) -> None:
    client = web.signed_in("admin")
    assert 'href="/admin/api-keys"' in client.get("/admin/accounts").get_data(as_text=True)
    assert "No API keys have been made" in client.get("/admin/api-keys").get_data(as_text=True)

    made = post_form(client, "/admin/api-keys", {"system": "mosaic"})
    assert made.status_code == 200
    key = _KEY.search(made.get_data(as_text=True))
    assert key, "the new key is shown"
    assert made.headers["Cache-Control"] == "no-store"
    assert authenticate(web.runtime, key.group(1), address="test", settings=WebSettings()) == "mosaic"

    listed = client.get("/admin/api-keys").get_data(as_text=True)
    prefix = key.group(1)[:12]
    assert prefix in listed and key.group(1) not in listed  # only its start is shown again
    assert "In use" in listed

    revoked = post_form(client, f"/admin/api-keys/{prefix}/revoke", {}, form_page="/admin/api-keys")
    assert revoked.status_code == 302
    page = client.get("/admin/api-keys").get_data(as_text=True)
    assert f"API key {prefix} of mosaic revoked" in page and "Revoked" in page
    with pytest.raises(ApiKeyError):
        authenticate(web.runtime, key.group(1), address="test", settings=WebSettings())
    assert ("admin", "api_key_created", prefix) in _audit(web)
    assert ("admin", "api_key_revoked", prefix) in _audit(web)


def test_a_bad_system_name_is_shown_beside_the_field(web: WebWorld) -> None:
    client = web.signed_in("admin")
    response = post_form(client, "/admin/api-keys", {"system": "Has Spaces!"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'href="#system"' in page and "The system&#39;s name must be" in page
    assert list_api_keys(web.runtime) == []


@pytest.mark.parametrize("username", ["support", "chair", "manager"])
def test_only_administrators_manage_api_keys(web: WebWorld, username: str) -> None:
    client = web.signed_in(username)
    assert client.get("/admin/api-keys").status_code == 403
    token = csrf_token(client, "/conferences")
    assert client.post("/admin/api-keys", data={"system": "mosaic", "csrf_token": token}).status_code == 403
    assert list_api_keys(web.runtime) == []


def test_making_a_key_needs_the_forms_csrf_token(web: WebWorld) -> None:
    client = web.signed_in("admin")
    assert client.post("/admin/api-keys", data={"system": "mosaic"}).status_code == 400
    assert list_api_keys(web.runtime) == []


def _cli(database_url: str, *argv: str) -> None:
    parser = argparse.ArgumentParser(prog="docgen")
    parser.add_argument("--database")
    cli_api_keys.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--database", database_url, *argv])
    args.handler(args)


def test_the_command_line_adds_lists_and_revokes_keys(database_url: str, web: WebWorld,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _cli(database_url, "api-keys", "add", "mosaic", "--actor", "it-admin")
    printed = capsys.readouterr().out.splitlines()
    key = printed[-1]
    assert authenticate(web.runtime, key, address="test", settings=WebSettings()) == "mosaic"
    _cli(database_url, "api-keys", "list")
    listing = capsys.readouterr().out
    assert key[:12] in listing and key not in listing and "in use" in listing
    _cli(database_url, "api-keys", "revoke", key[:12], "--actor", "it-admin")
    assert "refused from now on" in capsys.readouterr().out
    with pytest.raises(ApiKeyError, match="revoked already"):
        _cli(database_url, "api-keys", "revoke", key[:12])
    with pytest.raises(ApiKeyError, match="no API key"):
        _cli(database_url, "api-keys", "revoke", "dgk_nothere0")
    with pytest.raises(ApiKeyError):
        authenticate(web.runtime, key, address="test", settings=WebSettings())
    assert ("it-admin", "api_key_revoked", key[:12]) in _audit(web)


def test_the_openapi_description_is_valid_and_describes_every_api_route(web: WebWorld) -> None:
    key = create_api_key(web.runtime, "mosaic", actor="admin").key
    response = web.client().get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    document = response.get_json()
    validate(document)  # OpenAPI 3.1, the case file schema included
    assert document["components"]["schemas"]["CaseFile"]["title"] == "Child protection conference case file"

    described = {(path, method) for path, item in document["paths"].items() for method in item
                 if method in {"get", "put", "post", "patch", "delete"}}
    routes = set()
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            assert getattr(web.app.view_functions[rule.endpoint], "needs", None) == API_KEY, rule.endpoint
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, method.lower()) for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}
    assert routes and routes == described
