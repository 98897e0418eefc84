"""The JSON API for case management systems: importing and updating conferences with an API key, the
same field-path errors as the CLI, versions that are never silently overwritten, keys that can be
revoked, and the OpenAPI description. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.orm_web import ApiKey
from docgen.services.api_keys import create_api_key, revoke_api_key
from docgen.services.importing import conference_history, stored_version
from tests.support.web import WebWorld

REFERENCE = "NM-ICPC-2026-0147"


@pytest.fixture
def key(web: WebWorld) -> str:
    return create_api_key(web.runtime, "mosaic", actor="admin").key


def _call(client: FlaskClient, method: str, path: str, key: str | None, body: Any = None, *,
          raw: bytes | None = None, environ_base: dict[str, str] | None = None, **headers: str) -> Any:
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return client.open(path, method=method, data=data, headers=headers, content_type="application/json",
                       environ_base=environ_base or {})


def _versions(web: WebWorld) -> list[tuple[int, str]]:
    try:
        return [(v.version, v.saved_by) for v in conference_history(web.runtime, REFERENCE)]
    except Exception:  # noqa: BLE001 - the history of a conference never imported may be refused or empty
        return []


def _imported(web: WebWorld, key: str, example_data: dict[str, Any]) -> FlaskClient:
    client = web.client()
    response = _call(client, "POST", "/api/v1/conferences", key, example_data)
    assert response.status_code == 201, response.get_json()
    return client


def test_a_system_imports_a_conference_and_reads_it_back(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    client = web.client()
    response = _call(client, "POST", "/api/v1/conferences", key, example_data)
    assert response.status_code == 201
    assert response.get_json() == {"reference": REFERENCE, "version": 1}
    assert response.headers["Location"] == f"/api/v1/conferences/{REFERENCE}"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Cache-Control"] == "no-store"
    assert _versions(web) == [(1, "api:mosaic")]

    read = _call(client, "GET", response.headers["Location"], key)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    body = read.get_json()
    assert (body["reference"], body["version"], body["saved_by"]) == (REFERENCE, 1, "api:mosaic")
    assert body["conference"]["family"][1]["email"] == example_data["family"][1]["email"]
    with unit_of_work(web.runtime.sessions) as session:
        audit = [(e.actor, e.action, e.reference) for e in session.scalars(select(AuditEvent))]
    assert ("api:mosaic", "conference_imported", REFERENCE) in audit
    assert ("admin", "api_key_created", None) in audit


def test_importing_a_conference_that_exists_is_refused_409(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    client = _imported(web, key, example_data)
    again = _call(client, "POST", "/api/v1/conferences", key, example_data)
    assert again.status_code == 409
    assert "already imported" in again.get_json()["message"]
    assert _versions(web) == [(1, "api:mosaic")]


def test_an_update_on_the_newest_version_is_saved_as_the_next(web: WebWorld, key: str,
                                                              example_data: dict[str, Any]) -> None:
    client = _imported(web, key, example_data)
    changed = copy.deepcopy(example_data)
    changed["family"][1]["email"] = "new.address@example.net"
    response = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", key, changed, **{"If-Match": '"1"'})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"reference": REFERENCE, "version": 2}
    assert response.headers["ETag"] == '"2"'
    assert stored_version(web.runtime, REFERENCE).case["family"][1]["email"] == "new.address@example.net"
    # What a GET gives can be sent back changed: the round trip a system makes.
    read = _call(client, "GET", f"/api/v1/conferences/{REFERENCE}", key).get_json()
    read["conference"]["conference"]["venue"] = "Room 2, Civic Centre"
    again = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", key, read["conference"],
                  **{"If-Match": f'"{read["version"]}"'})
    assert again.status_code == 200, again.get_json()
    assert _versions(web) == [(1, "api:mosaic"), (2, "api:mosaic"), (3, "api:mosaic")]


def test_an_update_on_an_old_version_is_refused_with_who_saved_and_nothing_is_overwritten(
        web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    client = _imported(web, key, example_data)
    first = copy.deepcopy(example_data)
    first["family"][1]["email"] = "first@example.net"
    other_key = create_api_key(web.runtime, "liquidlogic", actor="admin").key
    assert _call(web.client(), "PUT", f"/api/v1/conferences/{REFERENCE}", other_key, first,
                 **{"If-Match": '"1"'}).status_code == 200
    late = copy.deepcopy(example_data)
    late["family"][1]["email"] = "late@example.net"
    refused = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", key, late, **{"If-Match": '"1"'})
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "api:liquidlogic" in message and "version 2" in message
    assert stored_version(web.runtime, REFERENCE).case["family"][1]["email"] == "first@example.net"
    assert _versions(web) == [(1, "api:mosaic"), (2, "api:liquidlogic")]


@pytest.mark.parametrize(("headers", "status"), [
    pytest.param({}, 428, id="no If-Match"),
    pytest.param({"If-Match": "*"}, 400, id="If-Match not a version"),
])
def test_an_update_must_say_which_version_it_was_made_to(web: WebWorld, key: str, example_data: dict[str, Any],
                                                        headers: dict[str, str], status: int) -> None:
    client = _imported(web, key, example_data)
    response = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", key, example_data, **headers)
    assert response.status_code == status
    assert "If-Match" in response.get_json()["message"]
    assert _versions(web) == [(1, "api:mosaic")]


def test_an_unknown_conference_is_404(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    client = web.client()
    assert _call(client, "GET", "/api/v1/conferences/NO-SUCH-1", key).status_code == 404
    response = _call(client, "PUT", "/api/v1/conferences/NO-SUCH-1", key, example_data, **{"If-Match": '"1"'})
    assert response.status_code == 404
    assert response.is_json


def test_an_update_cannot_change_the_reference(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    client = _imported(web, key, example_data)
    changed = copy.deepcopy(example_data)
    changed["reference"] = "NM-ICPC-2026-9999"
    response = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", key, changed, **{"If-Match": '"1"'})
    assert response.status_code == 422
    assert [e["path"] for e in response.get_json()["errors"]] == ["reference"]


def test_a_case_with_errors_in_five_places_gives_five_field_paths_and_nothing_is_stored(
        web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    broken = copy.deepcopy(example_data)
    broken["family"][1]["email"] = "k.haddad at example"
    broken["conference"]["starts_at"] = "next Tuesday"
    broken["children"][0]["name"] = ""
    broken["invitations"][0]["attendance"] = "perhaps"
    broken["professionals"][0]["unknown_field"] = "x"
    response = _call(web.client(), "POST", "/api/v1/conferences", key, broken)
    assert response.status_code == 422
    body = response.get_json()
    assert sorted(e["path"] for e in body["errors"]) == sorted([
        "family[1].email", "conference.starts_at", "children[0].name", "invitations[0].attendance", "professionals[0]"])
    assert "5 problems" in body["message"]
    # The paths and what is wrong, never the values: the answer may be logged on the way back.
    text = response.get_data(as_text=True)
    for value in ("k.haddad at example", "next Tuesday", "perhaps"):
        assert value not in text
    assert _versions(web) == []


def test_the_field_paths_are_the_ones_the_cli_reports(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    from docgen.adapters.casefile import validate_case
    from docgen.errors import CaseFileError

    broken = copy.deepcopy(example_data)
    broken["family"][0]["email"] = "nobody"
    broken["conference"]["chair"] = "not-a-professional"
    with pytest.raises(CaseFileError) as cli:
        validate_case(copy.deepcopy(broken), source="case.json")
    response = _call(web.client(), "POST", "/api/v1/conferences", key, broken)
    assert [e["path"] for e in response.get_json()["errors"]] == [p.partition(": ")[0] for p in cli.value.problems]


@pytest.mark.parametrize(("raw", "status", "words"), [
    pytest.param(b'{"format": 1, "format": 1}', 400, "appears twice", id="duplicate key"),
    pytest.param(b'{"a": {"b": 1, "b": 2}}', 400, "appears twice", id="duplicate key nested"),
    pytest.param(b"format: 1\nreference: x\n", 400, "not valid JSON", id="YAML, not JSON"),
    pytest.param(b'{"reference": "\xff\xfe"}', 400, "not UTF-8", id="not UTF-8"),
    pytest.param(b'{"n": NaN}', 400, "not a JSON number", id="NaN"),
    pytest.param(b"", 400, "empty", id="empty"),
    pytest.param(b"[1, 2]", 422, "problem", id="not an object"),
])
def test_a_body_that_is_not_a_case_as_json_is_refused_in_json(web: WebWorld, key: str, raw: bytes, status: int,
                                                              words: str) -> None:
    response = _call(web.client(), "POST", "/api/v1/conferences", key, raw=raw)
    assert response.status_code == status
    assert response.is_json
    assert words in response.get_json()["message"]
    assert _versions(web) == []


def test_a_body_over_the_limit_is_413(web: WebWorld, key: str) -> None:
    response = _call(web.client(), "POST", "/api/v1/conferences", key, raw=b"{" + b" " * (6 * 1024 * 1024) + b"}")
    assert response.status_code == 413
    assert response.is_json


@pytest.mark.parametrize("authorization", [
    pytest.param(None, id="missing"),
    pytest.param("Bearer dgk_notakeyatall", id="unknown"),
    pytest.param("Basic bW9zYWljOnNlY3JldA==", id="another scheme"),
    pytest.param("Bearer ", id="empty"),
])
def test_a_missing_or_unknown_key_is_refused_401(web: WebWorld, example_data: dict[str, Any],
                                                 authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in (("POST", "/api/v1/conferences"), ("GET", f"/api/v1/conferences/{REFERENCE}"),
                         ("PUT", f"/api/v1/conferences/{REFERENCE}"), ("GET", "/api/v1/openapi.json")):
        response = _call(web.client(), method, path, None, example_data, **headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.is_json
    assert _versions(web) == []


def test_a_revoked_key_is_refused_401(web: WebWorld, example_data: dict[str, Any]) -> None:
    made = create_api_key(web.runtime, "mosaic", actor="admin")
    client = _imported(web, made.key, example_data)
    revoke_api_key(web.runtime, made.info.prefix, actor="admin")
    assert _call(client, "GET", f"/api/v1/conferences/{REFERENCE}", made.key).status_code == 401
    changed = copy.deepcopy(example_data)
    changed["family"][1]["email"] = "after.revoking@example.net"
    refused = _call(client, "PUT", f"/api/v1/conferences/{REFERENCE}", made.key, changed, **{"If-Match": '"1"'})
    assert refused.status_code == 401
    assert _versions(web) == [(1, "api:mosaic")]


def test_only_the_keys_hash_is_stored(web: WebWorld) -> None:
    made = create_api_key(web.runtime, "mosaic", actor="admin")
    assert made.key.startswith(made.info.prefix) and len(made.key) >= 4 + 43
    with unit_of_work(web.runtime.sessions) as session:
        stored = [(row.prefix, row.key_sha256) for row in session.scalars(select(ApiKey))]
    assert len(stored) == 1 and made.key not in repr(stored)


def test_a_signed_in_staff_members_session_does_not_authenticate_the_api(web: WebWorld,
                                                                         example_data: dict[str, Any]) -> None:
    client = web.signed_in("support")
    assert client.get("/conferences").status_code == 200  # the session works for the pages
    response = _call(client, "POST", "/api/v1/conferences", None, example_data)
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers  # the session was not even read, so not touched
    assert "Cookie" not in response.headers.get("Vary", "")
    assert _versions(web) == []


def test_no_csrf_token_is_asked_of_an_api_call(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    web.app.config["WTF_CSRF_ENABLED"] = True  # as in production
    assert _call(web.client(), "POST", "/api/v1/conferences", key, example_data).status_code == 201


@pytest.mark.parametrize(("method", "path", "status"), [
    pytest.param("GET", "/api/v1/nothing-here", 404, id="unknown address"),
    pytest.param("DELETE", f"/api/v1/conferences/{REFERENCE}", 405, id="unknown method"),
])
def test_api_errors_are_json_never_a_page(web: WebWorld, key: str, method: str, path: str, status: int) -> None:
    response = _call(web.client(), method, path, key)
    assert response.status_code == status
    assert response.is_json and "message" in response.get_json()


def test_too_many_wrong_keys_from_one_address_are_refused_429_even_with_the_right_key(
        web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    limit = web.app.extensions["docgen.web_settings"].failures_per_address
    client = web.client()
    for _ in range(limit):
        assert _call(client, "GET", f"/api/v1/conferences/{REFERENCE}", "dgk_guessing").status_code == 401
    refused = _call(client, "POST", "/api/v1/conferences", key, example_data)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert _versions(web) == []
    other_address = _call(client, "POST", "/api/v1/conferences", key, example_data,
                          environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 201


def test_the_case_file_limits_hold_for_the_api(web: WebWorld, key: str, example_data: dict[str, Any]) -> None:
    from docgen.adapters.casefile.limits import MAX_STRING_CHARACTERS

    huge = copy.deepcopy(example_data)
    huge["record"]["sections"][0]["items"][0]["text"] = "x" * (MAX_STRING_CHARACTERS + 1)
    response = _call(web.client(), "POST", "/api/v1/conferences", key, huge)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["path"] for e in errors] == ["record.sections[0].items[0].text"]
    assert len(response.get_data()) < 1000  # the value is not repeated back
    assert _versions(web) == []
