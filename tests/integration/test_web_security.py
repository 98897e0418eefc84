"""The web application's door: signing in and out, sessions and their timeouts, throttling, CSRF, headers,
and a chair seeing only the conferences they chair. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.orm_web import StaffSession, StaffUser
from docgen.configuration.web import WebSettings
from docgen.entrypoints.web import create_app
from docgen.services.importing import import_case_file
from tests.conftest import EXAMPLE, RUNTIME_NOW
from tests.support.web import MovableClock, WebWorld, add_accounts, csrf_token, post_form, sign_in


def _actions(world: WebWorld) -> list[tuple[str, str]]:
    with unit_of_work(world.runtime.sessions) as session:
        return [(e.actor, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.sequence))]


def test_a_page_asks_for_sign_in_and_returns_to_it_afterwards(web: WebWorld) -> None:
    client = web.client()
    response = client.get("/conferences?state=overdue")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = csrf_token(client, response.headers["Location"])
    assert 'value="/conferences?state=overdue"' in page
    signed = client.post("/sign-in", data={"username": "support", "password": web.passwords["support"],
                                           "next": "/conferences?state=overdue", "csrf_token": token})
    assert signed.headers["Location"] == "/conferences?state=overdue"


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example"])
def test_sign_in_never_sends_anyone_to_another_site(web: WebWorld, target: str) -> None:
    client = web.client()
    token = csrf_token(client, "/sign-in")
    signed = client.post("/sign-in", data={"username": "support", "password": web.passwords["support"],
                                           "next": target, "csrf_token": token})
    assert signed.headers["Location"] == "/"


def test_a_wrong_password_is_refused_and_audited_without_the_password(web: WebWorld) -> None:
    client = web.client()
    response = sign_in(client, "support", "not the password at all")
    assert response.status_code == 400
    assert "The username or password is not right" in response.get_data(as_text=True)
    assert client.get("/conferences").status_code == 302
    assert ("support", "sign_in_refused") in _actions(web)
    with unit_of_work(web.runtime.sessions) as session:
        details = [e.details for e in session.scalars(select(AuditEvent))]
    assert "not the password" not in repr(details)


def test_sign_in_is_throttled_per_account(web: WebWorld) -> None:
    client = web.client()
    for _ in range(5):
        assert sign_in(client, "support", "wrong password, again").status_code == 400
    refused = sign_in(client, "support", web.passwords["support"])
    assert refused.status_code == 400
    assert "Too many attempts" in refused.get_data(as_text=True)
    # Another account from the same address is not locked out by these five.
    assert sign_in(web.client(), "manager", web.passwords["manager"]).status_code == 302


def test_sign_in_is_throttled_per_address(web: WebWorld) -> None:
    for attempt in range(20):
        sign_in(web.client(), f"nobody{attempt}", "wrong password, again")
    refused = sign_in(web.client(), "support", web.passwords["support"])
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_a_session_ends_after_the_idle_timeout_and_at_sign_out(runtime, account_hashes, tmp_path: Path) -> None:
    clock = MovableClock(RUNTIME_NOW)
    moving = dataclasses.replace(runtime, clock=clock)
    app = create_app(moving, WebSettings(data_folder=tmp_path, idle_timeout_minutes=30), secret_key=secrets.token_urlsafe(48))
    passwords = add_accounts(moving, account_hashes)
    client = app.test_client()
    assert sign_in(client, "support", passwords["support"]).status_code == 302
    clock.advance(minutes=29)
    assert client.get("/conferences").status_code == 200
    clock.advance(minutes=29)  # 29 minutes since the last request: still in
    assert client.get("/conferences").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/conferences").status_code == 302
    with unit_of_work(moving.sessions) as session:
        assert session.scalar(select(StaffSession)) is None

    assert sign_in(client, "support", passwords["support"]).status_code == 302
    post_form(client, "/sign-out", {}, form_page="/conferences")
    assert client.get("/conferences").status_code == 302
    assert [a for a in _actions(WebWorld(app, moving)) if a[1] != "sign_in_refused"][-1] == ("support", "signed_out")


def test_disabling_an_account_ends_its_sessions(web: WebWorld) -> None:
    support = web.signed_in("support")
    admin = web.signed_in("admin")
    with unit_of_work(web.runtime.sessions) as session:
        account_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "support"))
    response = post_form(admin, f"/admin/accounts/{account_id}", {"role": "business_support", "active": "no"})
    assert response.status_code == 302
    assert support.get("/conferences").status_code == 302
    assert sign_in(web.client(), "support", web.passwords["support"]).status_code == 400


def test_a_form_without_its_csrf_token_is_refused(web: WebWorld) -> None:
    admin = web.signed_in("admin")
    response = admin.post("/admin/accounts/new", data={"username": "mallory", "display_name": "M", "role": "administrator",
                                                       "password": "a long enough password"})
    assert response.status_code == 400
    assert "did not come from this service" in response.get_data(as_text=True)
    with unit_of_work(web.runtime.sessions) as session:
        assert session.scalar(select(StaffUser).where(StaffUser.username == "mallory")) is None


def test_every_response_carries_the_security_headers(web: WebWorld) -> None:
    response = web.client().get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # only when served over TLS
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script>" not in response.get_data(as_text=True)  # no inline script: the policy would block it


def test_over_tls_the_cookie_is_secure_and_hsts_is_sent(runtime, account_hashes, tmp_path: Path) -> None:
    app = create_app(runtime, WebSettings(data_folder=tmp_path), secret_key=secrets.token_urlsafe(48), tls=True)
    response = app.test_client().get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-docgen=") and "Secure" in cookie


def test_a_chair_sees_only_the_conferences_they_chair(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    reference = "NM-ICPC-2026-0147"
    chair = web.signed_in("chair")
    assert reference in chair.get("/conferences").get_data(as_text=True)
    assert chair.get(f"/conferences/{reference}").status_code == 200
    other = web.signed_in("otherchair")
    assert reference not in other.get("/conferences").get_data(as_text=True)
    assert other.get(f"/conferences/{reference}").status_code == 404
    assert other.get(f"/conferences/{reference}/history").status_code == 404


def test_an_administrator_sees_no_case_content(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    admin = web.signed_in("admin")
    assert admin.get("/conferences").status_code == 403
    assert admin.get("/conferences/NM-ICPC-2026-0147").status_code == 403


def test_an_unexpected_error_shows_no_detail(web: WebWorld) -> None:
    @web.app.route("/explode")
    def explode() -> str:
        raise RuntimeError("Karim Haddad lives at 14 Orchard Row")
    explode.needs = "public"  # type: ignore[attr-defined]
    web.app.config["TESTING"] = False
    web.app.config["PROPAGATE_EXCEPTIONS"] = False
    response = web.client().get("/explode")
    assert response.status_code == 500
    assert "Orchard Row" not in response.get_data(as_text=True)
