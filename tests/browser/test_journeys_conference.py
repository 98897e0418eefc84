"""Business support prepares and sends a conference in the browser: imports it, corrects an invitee's
email, adds a record paragraph withheld from the father, generates the pack while the progress shows,
schedules the documents and sees the outbox; and two people editing at once. axe-core on every page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.conftest import EXAMPLE

REFERENCE = "NM-ICPC-2026-0147"


def _import_example(site: Site, page: Page) -> None:
    page.goto("/conferences/import")
    page.get_by_label("Case file").set_input_files(str(EXAMPLE))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name=REFERENCE)).to_be_visible()


def test_business_support_prepares_and_sends_a_conference(site: Site) -> None:
    page = site.page()
    site.sign_in(page, "support")
    _import_example(site, page)
    site.check(page)

    # Correct the father's email address: he is invited, and his copies go to it.
    page.get_by_role("link", name="Conference details, people and attendance").click()
    site.check(page)
    page.get_by_role("link", name="Change Karim Haddad, family member").click()
    site.check(page)
    page.get_by_label("Email address").fill("karim.haddad@example.net")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Family member Karim Haddad: email changed")
    site.check(page)

    # Add a paragraph to the record, withheld from the father with the reason.
    page.goto(f"/conferences/{REFERENCE}")
    page.get_by_role("link", name="The conference record").click()
    site.check(page)
    page.get_by_role("link", name=re.compile("^Add a paragraph")).first.click()
    site.check(page)
    page.get_by_label("Paragraph", exact=True).fill("Ms Wiśniewska's new support worker visits on Tuesdays.")
    page.get_by_label("Withheld from named family members or children").check()
    page.get_by_role("group", name=re.compile("withheld from", re.I)).get_by_label("Karim Haddad").check()
    page.get_by_label("Why it is withheld").select_option(label="Where a victim lives or can be found")
    page.get_by_role("button", name="Add paragraph").click()
    expect(page.get_by_text("Withheld from Karim Haddad").first).to_be_visible()
    site.check(page)

    # Generate the pack; the page shows its progress while the worker makes the copies.
    page.goto(f"/conferences/{REFERENCE}")
    page.get_by_role("link", name="Generate the pack").click()
    site.check(page)
    page.get_by_label("Word (DOCX)").uncheck()
    page.get_by_role("button", name="Generate the pack").click()
    expect(page.get_by_text(re.compile(r"Waiting for a worker|Being generated|\d+ of \d+ copies made")).first).to_be_visible()
    site.check(page)
    expect(page.get_by_role("heading", name="Files of the pack")).to_be_visible(timeout=240_000)
    page.wait_for_load_state("networkidle")
    page.evaluate("window.stillHere = true")  # a finished page stays put: it is not reloaded again and again
    page.wait_for_timeout(2500)
    assert page.evaluate("window.stillHere === true")
    site.check(page)

    # Schedule the documents and see the outbox: the family copies are held for the chair.
    page.goto(f"/conferences/{REFERENCE}")
    page.get_by_role("link", name="Outbox: what was sent and what is held").click()
    site.check(page)
    page.get_by_role("button", name="Schedule the documents").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Scheduled:")
    expect(page.get_by_text("Held for the chair").first).to_be_visible()
    site.check(page)


def test_the_second_of_two_people_editing_at_once_is_shown_what_changed(site: Site) -> None:
    first, second = site.page(), site.page()
    site.sign_in(first, "support")
    _import_example(site, first)
    site.sign_in(second, "support")
    for page in (first, second):
        page.goto(f"/conferences/{REFERENCE}/edit")
        page.get_by_role("link", name="Change Karim Haddad, family member").click()
    first.get_by_label("Email address").fill("k.haddad@example.org")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".govuk-notification-banner")).to_contain_text("email changed")
    second.get_by_label("Phone").fill("07700 900999")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("heading", name=re.compile("Someone else saved"))).to_be_visible()
    expect(second.get_by_text("Family member Karim Haddad: email changed")).to_be_visible()
    expect(second.get_by_label("Phone")).to_have_value("07700 900999")
    site.check(second)
    second.get_by_role("link", name=re.compile("Open the newest version")).click()
    expect(second.get_by_label("Email address")).to_have_value("k.haddad@example.org")
    site.check(second)
