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
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import config_file
from docgen.services.importing import import_case_file, stored_case
from docgen.services.jobs import request_job
from docgen.services.pack_jobs import PACK
from docgen.services.scheduling import schedule_conference
from tests.conftest import EXAMPLE
from tests.support.web import ACCOUNTS, WebWorld, csrf_token

ANYONE = "anyone"  # open without signing in
EVERY_ROLE = frozenset(ACCOUNTS) | {ANYONE}
SUPPORT = frozenset({"support"})
VIEWERS = frozenset({"support", "chair", "manager"})  # otherchair sees only the conferences they chair
OUTBOX = frozenset({"support", "manager"})
ADMIN = frozenset({"admin"})
CHAIRS = frozenset({"chair", "otherchair"})  # each sees their own queue; otherchair is refused the example
API = "api"  # a case management system's API key, never a session: tested in test_web_api.py
PORTAL = "portal"  # the recipient portal's link and code pages: open to anyone, each doing its own checks
RECIPIENT = "recipient"  # a portal session for the link in the address: refused to every staff role and to anyone

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
    ("conferences.outbox", "GET"): VIEWERS,
    ("conferences.outbox_change", "GET"): OUTBOX,
    ("conferences.outbox_change", "POST"): OUTBOX,
    ("conferences.schedule_documents", "POST"): OUTBOX,
    ("conferences.pack", "GET"): SUPPORT,
    ("conferences.request_pack_job", "POST"): SUPPORT,
    ("conferences.pack_job_page", "GET"): SUPPORT,
    ("conferences.pack_download", "GET"): SUPPORT,
    ("conferences.recipients", "GET"): SUPPORT,
    ("conferences.upload_recipient_certificate", "POST"): SUPPORT,
    ("conferences.edit_details", "GET"): SUPPORT,
    ("conferences.record", "GET"): SUPPORT,
    ("conferences.arrange_record", "POST"): SUPPORT,
    **{(f"conferences.{endpoint}", method): SUPPORT
       for endpoint in ("edit_conference", "add_entry", "edit_entry", "remove_entry", "add_section", "edit_section",
                        "add_item", "edit_item", "add_row", "edit_row")
       for method in ("GET", "POST")},
    ("conferences.answer_returned_copy", "GET"): SUPPORT,
    ("conferences.answer_returned_copy", "POST"): SUPPORT,
    ("conferences.reassign_chair", "GET"): frozenset({"manager"}),
    ("conferences.reassign_chair", "POST"): frozenset({"manager"}),
    ("chair.queue", "GET"): CHAIRS,
    **{(f"chair.{endpoint}", method): frozenset({"chair"})
       for endpoint, method in (("review", "GET"), ("review_file", "GET"), ("resolve_flag", "POST"),
                                ("approve", "POST"), ("return_to_support", "GET"), ("return_to_support", "POST"),
                                ("reports", "GET"), ("reports", "POST"))},
    ("api_keys.index", "GET"): ADMIN,
    ("api_keys.create", "POST"): ADMIN,
    ("api_keys.revoke", "POST"): ADMIN,
    ("api.import_new", "POST"): API,
    ("api.update", "PUT"): API,
    ("api.conference", "GET"): API,
    ("api.openapi", "GET"): API,
    ("admin.accounts", "GET"): ADMIN,
    ("admin.new_account", "GET"): ADMIN,
    ("admin.new_account", "POST"): ADMIN,
    ("admin.edit_account", "GET"): ADMIN,
    ("admin.edit_account", "POST"): ADMIN,
    ("conferences.portal_links", "GET"): VIEWERS,
    ("conferences.portal_recall", "GET"): OUTBOX,
    ("conferences.portal_recall", "POST"): OUTBOX,
    ("portal.landing", "GET"): PORTAL,
    ("portal.send_code", "POST"): PORTAL,
    ("portal.enter_code", "GET"): PORTAL,
    ("portal.enter_code", "POST"): PORTAL,
    ("portal.sign_out", "POST"): PORTAL,
    ("portal.documents", "GET"): RECIPIENT,
    ("portal.download", "GET"): RECIPIENT,
}

#: A value for each part of a route's address.
SAMPLES: dict[str, Any] = {
    "reference": "NM-ICPC-2026-0147",
    "filename": "app.css",
    "name": "govuk-frontend.min.css",
    "action": "cancel",
    "part": "family",
    "index": 0,
    "s": 1,  # the record's second section holds a paragraph; its fifth holds a table
    "i": 0,
    "r": 0,
    "job_id": 1,
    "item_id": 1,
    "prefix": "nosuchkey",
    "person": "karim",
    "which": "copy",
    "token": "nosuchtoken",
    "link_id": 1,
    "document_id": 1,
    "what": "link",
    "target_id": 1,
}


def _routes(web: WebWorld) -> list[tuple[str, str, str]]:
    with unit_of_work(web.runtime.sessions) as session:
        samples = {**SAMPLES, "account_id": session.scalar(select(StaffUser.id).where(StaffUser.username == "support"))}
    routes = []
    for rule in web.app.url_map.iter_rules():
        missing = [argument for argument in rule.arguments if argument not in samples]
        assert not missing, f"{rule.rule}: add a sample value for {missing} to SAMPLES"
        path = rule.build({argument: samples[argument] for argument in rule.arguments})[1]
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT"}):
            routes.append((rule.endpoint, method, path))
    return routes


def _example_with_outbox_and_job(web: WebWorld) -> None:
    """The example conference, scheduled (outbox item 1 exists) with a pack requested (job 1)."""
    reference, version = import_case_file(web.runtime, EXAMPLE, actor="tests")
    case = stored_case(web.runtime, reference)
    with unit_of_work(web.runtime.sessions) as session:
        schedule_conference(session, case, load_rules(config_file("circulation.toml")), now=web.runtime.clock(),
                            envelope_from="cp@northmoor.gov.uk", reason="tests")
    request_job(web.runtime, PACK, reference, content_version=version, parameters={"formats": ["pdf"]}, actor="tests")


def _client(web: WebWorld, who: str) -> FlaskClient:
    return web.client() if who == ANYONE else web.signed_in(who)


def _token(client: FlaskClient, who: str) -> str:
    # Signed in, every page's sign-out form carries the session's token; signed out, the sign-in form does.
    return csrf_token(client, "/sign-in" if who == ANYONE else "/accessibility")


def _denied(response: Any, who: str) -> bool:
    """Refused for who they are: sent to sign in, forbidden for their role, or (a chair) told a conference
    they do not chair is not there. Any other answer, a form's problems included, means they were let in."""
    if who == ANYONE:
        return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return response.status_code == 403 or (who == "otherchair" and response.status_code == 404)


def test_the_table_names_every_route(web: WebWorld) -> None:
    found = {(endpoint, method) for endpoint, method, _ in _routes(web)}
    assert sorted(found - set(EXPECTED)) == [], "routes nobody decided about: add them to EXPECTED"
    assert sorted(set(EXPECTED) - found) == [], "EXPECTED names routes that no longer exist"


@pytest.mark.parametrize("who", sorted(EVERY_ROLE))
def test_each_route_allows_and_denies_as_the_table_says(web: WebWorld, who: str) -> None:
    _example_with_outbox_and_job(web)
    wrong: list[str] = []
    client = _client(web, who)
    token = _token(client, who)
    for endpoint, method, path in _routes(web):
        allowed = EXPECTED[(endpoint, method)]
        if allowed == API or endpoint in ("auth.sign_out", "auth.sign_in"):
            continue  # signing in and out are tested on their own; here they would change whose session this is
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        if allowed == RECIPIENT:  # no staff session, and no session at all, opens the portal's documents
            if response.status_code != 403:
                wrong.append(f"{method} {path}: {who} should be refused, got {response.status_code}")
            continue
        if allowed == PORTAL:  # public: never sent to the staff sign-in, never forbidden
            if response.status_code == 403 or _denied(response, ANYONE):
                wrong.append(f"{method} {path}: {who} should be let in, got {response.status_code}")
            continue
        denied = _denied(response, who)
        if who in allowed and (denied and not (who == ANYONE and endpoint == "pages.start")):
            wrong.append(f"{method} {path}: {who} should be allowed, got {response.status_code}")
        if who not in allowed and not denied:
            wrong.append(f"{method} {path}: {who} should be refused, got {response.status_code}")
    assert wrong == []


def test_a_chair_is_refused_the_conferences_they_do_not_chair(web: WebWorld) -> None:
    _example_with_outbox_and_job(web)
    client = web.signed_in("otherchair")
    for _endpoint, method, path in _routes(web):
        if method == "GET" and "NM-ICPC-2026-0147" in path and not path.startswith("/api/"):
            # 404 where a chair's role would let them in, 403 where it would not: never the page.
            assert client.get(path).status_code in (403, 404), path


def test_every_form_is_refused_without_its_csrf_token(web: WebWorld) -> None:
    _example_with_outbox_and_job(web)
    refused = []
    clients: dict[str, FlaskClient] = {}
    for endpoint, method, path in _routes(web):
        allowed = EXPECTED[(endpoint, method)]
        if method not in ("POST", "PUT") or allowed == API:
            continue
        who = next(iter(sorted(a for a in allowed if a != ANYONE)), ANYONE) if isinstance(allowed, frozenset) else ANYONE
        if who not in clients:
            clients[who] = _client(web, who)
        response = clients[who].post(path, data={})
        if response.status_code != 400 or "did not come from this service" not in response.get_data(as_text=True):
            refused.append(f"POST {path} as {who}: {response.status_code}")
    assert refused == []


def test_a_portal_session_opens_its_own_link_and_nothing_else(web: WebWorld, portal_secret: str) -> None:
    """Signed in to the portal with the code from the text message, a recipient is refused every staff
    page exactly as someone not signed in is, and every other link's documents."""
    from tests.support.portal import CapturedCodes, publish_document, token_of
    from tests.support.web import post_form

    _example_with_outbox_and_job(web)
    codes = CapturedCodes()
    web.app.extensions["docgen.portal_code_sender"] = codes
    other = publish_document(web.runtime, recipient_key="zofia", recipient_name="Zofia Wiśniewska")
    mine = publish_document(web.runtime)
    assert (other.link_id, mine.link_id) == (1, 2)  # SAMPLES name link 1: someone else's
    client, path = web.client(), f"/portal/{token_of(mine)}"
    post_form(client, f"{path}/send-code", {}, form_page=path)
    assert post_form(client, f"{path}/code", {"code": codes.last_code()}).status_code == 302
    token = csrf_token(client, f"/portal/your-documents/{mine.link_id}")
    wrong = []
    for endpoint, method, path in _routes(web):
        allowed = EXPECTED[(endpoint, method)]
        if allowed in (API, PORTAL) or ANYONE in allowed:
            continue
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        refused = response.status_code == 403 if allowed == RECIPIENT else _denied(response, ANYONE)
        if not refused:
            wrong.append(f"{method} {path}: a portal session should be refused, got {response.status_code}")
    assert wrong == []
    assert client.get(f"/portal/your-documents/{mine.link_id}").status_code == 200


def test_no_page_puts_a_session_token_in_an_address(web: WebWorld) -> None:
    client = web.signed_in("support")
    page = client.get("/conferences").get_data(as_text=True)
    assert not re.search(r'href="[^"]*(token|session)=', page)
