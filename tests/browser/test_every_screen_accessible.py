"""axe-core on every screen of the application, not only those the journeys pass through: every page a
role may open (from the authorization table), with the example conference scheduled and its pack made,
and each form once with its problems shown; then every screen of the recipient portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_web import StaffUser
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import config_file
from docgen.services.importing import import_case_file, stored_case
from docgen.services.jobs import request_job, run_one
from docgen.services.pack_jobs import PACK, pack_handler
from docgen.services.scheduling import schedule_conference
from tests.browser.conftest import Site
from tests.conftest import EXAMPLE
from tests.integration.test_web_authorization import API, EXPECTED, PORTAL, RECIPIENT, SAMPLES
from tests.support.portal import publish_document, tiny_pdf

ROLES = ("support", "manager", "chair", "admin")


#: Views that answer with a file rather than a page.
FILES = ("conferences.pack_download", "chair.review_file")


def _prepare(site: Site, tmp_path) -> dict[str, object]:
    runtime = site.runtime
    reference, version = import_case_file(runtime, EXAMPLE, actor="tests")
    with unit_of_work(runtime.sessions) as session:
        schedule_conference(session, stored_case(runtime, reference), load_rules(config_file("circulation.toml")),
                            now=runtime.clock(), envelope_from="cp@northmoor.gov.uk", reason="tests")
        account_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "support"))
    job = request_job(runtime, PACK, reference, content_version=version, parameters={"formats": ["pdf"]}, actor="tests")
    # The father's portal link (link 1, the SAMPLES' link) with a document on it.
    publication = publish_document(runtime, pdf=tiny_pdf(), base_url=site.url)
    return {**SAMPLES, "account_id": account_id, "job_id": job.id, "portal_url": publication.url}


def test_every_screen_has_no_accessibility_violations(site: Site, tmp_path, portal_secret: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _prepare(site, tmp_path)
    app_rules = _rules(site)
    page = site.page()
    checked: set[str] = set()
    for role in ROLES:
        site.sign_in(page, role)
        for (endpoint, method), allowed in EXPECTED.items():
            if (method != "GET" or allowed in (API, PORTAL, RECIPIENT) or role not in allowed
                    or endpoint in ("static", "assets.file")):
                continue
            if endpoint in FILES:  # a file, not a screen (the review's files once the worker has made it)
                continue
            path = app_rules[endpoint].build({k: samples[k] for k in app_rules[endpoint].arguments})[1]
            response = page.goto(path)
            assert response is not None and response.status < 500, f"{role} {path}: {response and response.status}"
            site.check(page)
            checked.add(endpoint)
            # A form sent empty shows its problems: the error summary and messages are checked too.
            submit = page.locator("main form[method=post] button[type=submit]")
            if submit.count() == 1 and endpoint not in ("conferences.outbox",):
                submit.click()
                page.wait_for_load_state()
                site.check(page)
        page.context.clear_cookies()
    checked |= _portal_screens(site, site.page(), str(samples["portal_url"]), monkeypatch)
    expected = {e for (e, m), allowed in EXPECTED.items()
                if m == "GET" and allowed != API
                and e not in ("static", "assets.file", "portal.download", *FILES)}
    assert checked == expected


def _portal_screens(site: Site, page: Page, url: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every screen of the recipient portal, with its problems shown, in the order a recipient meets them."""
    page.goto(url)
    site.check(page)  # the link's first page
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    site.check(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the 6 numbers")
    site.check(page)
    page.get_by_label("Enter your code").fill(site.codes.last_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your documents")).to_be_visible()
    site.check(page)
    documents = page.url
    page.goto(documents + "/999")
    expect(page.get_by_role("heading", name="This document is not available")).to_be_visible()
    site.check(page)
    page.goto(documents)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    site.check(page)
    page.goto(documents)
    expect(page.get_by_role("heading", name="Open your link again")).to_be_visible()
    site.check(page)
    page.goto(url + "x")
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    site.check(page)
    monkeypatch.delenv("DOCGEN_PORTAL_SECRET")
    page.goto(url)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Sorry, this service is not available")).to_be_visible()
    site.check(page)
    # The locked page is checked in the portal journey (tests/browser/test_journeys_portal.py).
    return {"portal.landing", "portal.enter_code", "portal.documents"}


def _rules(site: Site):  # type: ignore[no-untyped-def]
    from docgen.configuration.web import WebSettings
    from docgen.entrypoints.web import create_app

    app = create_app(site.runtime, WebSettings(workers_beside_server=0), secret_key="x" * 48)
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


__all__ = ["pack_handler", "run_one"]
