"""The chair in the browser: signs in, opens the queue, reviews the father's copy side by side while it
is made in the background, withholds a flagged paragraph and shares the other flags with a reason,
approves his copy and returns the mother's with a comment; business support sees the comment and the
outbox shows the father's copies released and the mother's held; another chair is refused. axe-core
on every screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.support.chair_workspace import REFERENCE, example_for_the_chair

READY = 60_000  # a review is made by the worker beside the server: a few seconds, more on a busy machine


def _wait_for_review(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", name=f"Review {name}'s copy of the record")).to_be_visible(timeout=READY)


def test_the_chair_reviews_approves_and_returns_family_copies(site: Site) -> None:
    example_for_the_chair(site.runtime)
    page = site.page()
    site.sign_in(page, "chair")
    page.get_by_role("link", name="Waiting for you").click()
    expect(page.get_by_role("heading", name="Family copies waiting for you")).to_be_visible()
    site.check(page)

    page.get_by_role("link", name=f"Review Karim Haddad's copy of {REFERENCE}").click()
    _wait_for_review(page, "Karim Haddad")
    expect(page.get_by_role("heading", name="Karim Haddad's copy", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="The full record", exact=True)).to_be_visible()
    site.check(page)

    # Withhold the pasted paragraph that repeats police information; the copy is made again.
    card = page.locator(".govuk-summary-card", has_text="Repeats withheld")
    card.get_by_label(re.compile("Your reason")).fill("Police information, not for Mr Haddad")
    card.get_by_role("button", name=re.compile("^Withhold")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The item is withheld from them")
    _wait_for_review(page, "Karim Haddad")
    site.check(page)

    # The places the father could find are known to him: shared, with the reason.
    while page.get_by_role("button", name=re.compile("^Share, with reason")).count():
        card = page.locator(".govuk-summary-card", has=page.get_by_role("button", name=re.compile("^Share"))).first
        card.get_by_label(re.compile("Your reason")).fill("He already knows the school")
        card.get_by_role("button", name=re.compile("^Share, with reason")).click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("will be shared with them")
    site.check(page)
    page.get_by_role("button", name="Approve Karim Haddad's copy").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Approved")
    site.check(page)

    page.get_by_role("link", name=f"Review Zofia Wiśniewska's copy of {REFERENCE}").click()
    _wait_for_review(page, "Zofia Wiśniewska")
    site.check(page)
    page.get_by_role("link", name="Return it to business support with a comment").click()
    site.check(page)
    page.get_by_role("button", name="Return to business support").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what must change")
    site.check(page)
    page.get_by_label("What must change before you can approve it").fill("Add the interpreter booked for her")
    page.get_by_role("button", name="Return to business support").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Returned Zofia Wiśniewska's copy")
    site.check(page)

    # The chair decides whether the parents may see a report marked for the chair to decide.
    page.get_by_role("link", name=f"Reports of {REFERENCE}: whether parents may see them").click()
    site.check(page)
    page.get_by_role("button", name=re.compile("^Save the decision")).first.click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose whether the report may be shared")
    site.check(page)
    page.get_by_label("Yes, send it to them with the record").first.check()
    page.get_by_role("button", name=re.compile("^Save the decision")).first.click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("may be shared with parents")
    site.check(page)

    # Business support sees the comment, and the outbox follows the chair's decisions.
    support = site.page()
    site.sign_in(support, "support")
    support.goto(f"/conferences/{REFERENCE}")
    expect(support.get_by_text("Add the interpreter booked for her")).to_be_visible()
    site.check(support)
    support.get_by_role("link", name="Outbox: what was sent and what is held").click()
    site.check(support)
    father = support.locator("tbody tr", has_text="Karim Haddad").filter(has_text="family copy")
    mother = support.locator("tbody tr", has_text="Zofia Wiśniewska").filter(has_text="family copy")
    expect(father.first).to_contain_text("Ready to send")
    expect(mother.first).to_contain_text("Held for the chair")
    assert father.filter(has_text="Held for the chair").count() == 0
    assert mother.filter(has_text="Ready to send").count() == 0
    support.goto(f"/conferences/{REFERENCE}")
    support.get_by_role("link", name=re.compile("^Answer the chair")).click()
    site.check(support)
    support.get_by_label("Your answer to the chair").fill("Interpreter added to the invitations")
    support.get_by_role("button", name="Send the answer to the chair").click()
    expect(support.get_by_text("Answered: back with the chair")).to_be_visible()
    site.check(support)

    # A manager may give the conference another chair.
    manager = site.page()
    site.sign_in(manager, "manager")
    manager.goto(f"/conferences/{REFERENCE}")
    manager.get_by_role("link", name="Reassign the chair").click()
    site.check(manager)

    # Another chair is refused this conference's copies.
    other = site.page()
    site.sign_in(other, "otherchair")
    response = other.goto(f"/chair/{REFERENCE}/karim")
    assert response is not None and response.status == 404
    site.check(other)
