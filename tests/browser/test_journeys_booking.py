"""Business support books and imports conferences in a browser, and an administrator adds an account;
axe-core checks every page on the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.conftest import EXAMPLE


def test_business_support_books_a_conference_correcting_what_the_form_refused(site: Site) -> None:
    page = site.page()
    site.sign_in(page, "support")
    expect(page.get_by_role("heading", name="Conferences")).to_be_visible()
    site.check(page)
    page.get_by_role("link", name="Book a conference").click()
    site.check(page)
    page.get_by_label("Conference reference").fill("NM-ICPC-2026-0150")
    page.get_by_label("Initial conference", exact=True).check()
    page.get_by_label("Date of the conference").fill("2026-12-10")
    page.get_by_label("Date of the strategy discussion (initial conferences)").fill("2026-11-24")
    page.get_by_label("Professional id").fill("david-pryce")
    page.locator("#chair_name").fill("David Pryce")
    page.get_by_label("Email address").fill("not an email address")
    page.get_by_role("button", name="Book conference").click()
    # Refused: the error summary names each problem and links to its field; what was typed is kept.
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))
    site.check(page)
    expect(page.get_by_label("Conference reference")).to_have_value("NM-ICPC-2026-0150")
    page.get_by_label("Email address").fill("david.pryce@northmoor.gov.uk")
    page.locator("#child_name").fill("Maya Tran")
    page.get_by_label("Date of birth").fill("2019-03-14")
    page.get_by_role("button", name="Book conference").click()
    expect(page.get_by_role("heading", name="NM-ICPC-2026-0150")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("booked (version 1)")
    site.check(page)
    page.get_by_role("link", name="All conferences").click()
    expect(page.get_by_role("link", name="NM-ICPC-2026-0150")).to_be_visible()


def test_business_support_imports_a_case_file_and_filters_the_list(site: Site) -> None:
    page = site.page()
    site.sign_in(page, "support")
    page.get_by_role("link", name="Import a case file").click()
    site.check(page)
    page.get_by_label("Case file").set_input_files(str(EXAMPLE))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="NM-ICPC-2026-0147")).to_be_visible()
    site.check(page)
    page.get_by_role("link", name="See every version").click()
    expect(page.get_by_role("cell", name="support")).to_be_visible()
    site.check(page)
    page.goto("/conferences")
    page.get_by_label("State").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("0 conferences")).to_be_visible()
    site.check(page)
    page.get_by_label("State").select_option("not scheduled")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="NM-ICPC-2026-0147")).to_be_visible()


def test_a_file_that_is_not_a_case_file_is_refused_with_every_problem(site: Site, tmp_path) -> None:
    bad = tmp_path / "notes.yaml"
    bad.write_text("reference: 12\nconference: {}\n", encoding="utf-8")
    page = site.page()
    site.sign_in(page, "support")
    page.goto("/conferences/import")
    page.get_by_label("Case file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("missing required field")
    site.check(page)


def test_an_administrator_adds_a_chair_account(site: Site) -> None:
    page = site.page()
    site.sign_in(page, "admin")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    site.check(page)
    page.get_by_role("link", name="Add an account").click()
    site.check(page)
    page.get_by_label("Username").fill("j.cole")
    page.get_by_label("Full name").fill("Jo Cole")
    page.get_by_label("Conference chair").check()
    page.get_by_label("Professional id (for a chair)").fill("jo-cole")
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("at least 12 characters")
    site.check(page)
    page.get_by_label("First password").fill("a long and private first password")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("link", name="j.cole (change)")).to_be_visible()
    site.check(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    site.check(page)
    page.goto("/accessibility")
    site.check(page)
