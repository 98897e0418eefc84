"""The recipient portal in the browser: a father opens the link he was emailed, gets the code by text
message, types a wrong code and is refused, types the right one, sees his documents and downloads the
record, which carries his name on every page; the mother's link is locked after too many wrong codes;
business support sees the record opened and recalls the father's link, which then refuses at once.
axe-core on every screen."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
from playwright.sync_api import Page, expect

from docgen.adapters.database import unit_of_work
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import config_file
from docgen.domain.outbox import message_token
from docgen.services.dispatch import list_items
from docgen.services.importing import import_case_file, stored_case
from docgen.services.portal import Publication
from docgen.services.scheduling import schedule_conference
from tests.browser.conftest import Site
from tests.conftest import EXAMPLE
from tests.support.portal import FATHER_PHONE, MOTHER_PHONE, REFERENCE, family_copy, publish_document

FATHER_LINE = "Copy for: Karim Haddad, Family, 20 November 2026"
MOTHER_LINE = "Copy for: Zofia Wiśniewska, Family, 20 November 2026"


def _publish(site: Site, person: str, name: str, phone: str, kind: str, line: str) -> tuple[Publication, bytes]:
    """As the dispatcher does for the person's outbox item of ``kind``: render, publish, confirm once sent."""
    item = next(i for i in list_items(site.runtime.sessions, reference=REFERENCE, limit=1000)
                if i.recipient == person and i.document == kind)
    pdf = family_copy(site.runtime, person, kind, line=line)
    publication = publish_document(site.runtime, message_token=message_token(item.message_id), outbox_item_id=item.id,
                                   recipient_key=person, recipient_name=name, kind=kind, pdf=pdf, code_address=phone,
                                   base_url=site.url)
    return publication, pdf


def _enter(page: Page, code: str) -> None:
    page.get_by_label("Enter your code").fill(code)
    page.get_by_role("button", name="Continue").click()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_parent_opens_the_link_enters_the_code_and_downloads_the_record(site: Site, portal_secret: str,
                                                                          tmp_path: Path) -> None:
    import_case_file(site.runtime, EXAMPLE, actor="support")
    with unit_of_work(site.runtime.sessions) as session:
        schedule_conference(session, stored_case(site.runtime, REFERENCE), load_rules(config_file("circulation.toml")),
                            now=site.runtime.clock(), envelope_from="cp@northmoor.gov.uk", reason="tests")
    father, record = _publish(site, "karim", "Karim Haddad", FATHER_PHONE, "conference_record", FATHER_LINE)
    same, _ = _publish(site, "karim", "Karim Haddad", FATHER_PHONE, "decisions_notice", FATHER_LINE)
    mother, _ = _publish(site, "zofia", "Zofia Wiśniewska", MOTHER_PHONE, "decisions_notice", MOTHER_LINE)
    assert same.url == father.url and mother.url != father.url  # one link per person per conference

    # The father opens the link from his email; the code comes by text message.
    page = site.page()
    page.goto(father.url)
    expect(page.get_by_role("heading", name="Get your documents")).to_be_visible()
    expect(page.get_by_text("We will send a code to your phone ending 733.")).to_be_visible()
    site.check(page)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    site.check(page)
    [(channel, phone, text, _key)] = site.codes.sent
    code = site.codes.last_code()
    assert (channel, phone) == ("sms", FATHER_PHONE)
    assert text == f"Your code for Northmoor Borough Council documents is {code}. It expires in 10 minutes."

    _enter(page, _wrong(code))
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right. You have 4 tries left.")
    site.check(page)
    _enter(page, code)
    expect(page.get_by_role("heading", name="Your documents")).to_be_visible()
    expect(page.get_by_role("heading", name="The record of the conference")).to_be_visible()
    expect(page.get_by_role("heading", name="The conference's decisions")).to_be_visible()
    expect(page.get_by_text("write to the conference chair by Friday 4 December 2026")).to_be_visible()
    site.check(page)

    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile("^Download the record of the conference")).click()
    saved = tmp_path / "record.pdf"
    started.value.save_as(saved)
    assert started.value.suggested_filename == "conference-record.pdf"
    data = saved.read_bytes()
    assert data == record
    document = pypdfium2.PdfDocument(data)
    try:
        pages = [document[n].get_textpage().get_text_range() for n in range(len(document))]
    finally:
        document.close()
    assert len(pages) > 1
    assert all("Karim Haddad" in text for text in pages), "his name is not on every page"

    # The mother's link: wrong codes until the codes of the hour run out, and it locks.
    mothers = site.page()
    mothers.goto(mother.url)
    mothers.get_by_role("button", name="Send code").click()
    for round_ in range(3):
        for _ in range(5):
            _enter(mothers, _wrong(site.codes.last_code()))
        if round_ < 2:
            expect(mothers.locator(".govuk-error-summary")).to_contain_text("Too many wrong codes. Ask for a new code.")
            site.check(mothers)
            mothers.get_by_role("button", name="Send a new code").click()
    expect(mothers.get_by_role("heading", name="Too many wrong codes")).to_be_visible()
    expect(mothers.get_by_text("Phone us on 01632 960000")).to_be_visible()
    site.check(mothers)
    mothers.goto(mother.url)
    expect(mothers.get_by_role("heading", name="This link no longer works")).to_be_visible()

    # Business support sees the record opened, the mother's link locked, and recalls the father's link.
    staff = site.page()
    site.sign_in(staff, "support")
    staff.goto(f"/conferences/{REFERENCE}")
    staff.get_by_role("link", name=re.compile("^Portal links")).click()
    expect(staff.get_by_role("heading", name="Portal links")).to_be_visible()
    record_row = staff.get_by_role("row", name=re.compile("The record of the conference"))
    expect(record_row).to_contain_text("Opened 20 Nov 2026 at 09:00")
    expect(staff.get_by_role("row", name=re.compile("^The conference's decisions")).first).to_contain_text("Not opened")
    expect(staff.locator(".govuk-tag", has_text="Locked")).to_be_visible()
    site.check(staff)
    staff.get_by_role("link", name="Recall link of Karim Haddad").click()
    site.check(staff)
    staff.get_by_role("button", name="Recall link").click()
    expect(staff.locator(".govuk-error-summary")).to_contain_text("Give the reason for the recall")
    site.check(staff)
    staff.get_by_label("Reason").fill("Sent to a wrong address")
    staff.get_by_role("button", name="Recall link").click()
    expect(staff.locator(".govuk-notification-banner")).to_contain_text("Karim Haddad's link is recalled")
    site.check(staff)

    # From that moment his link refuses, signed in or not.
    page.reload()
    expect(page.get_by_role("heading", name="Open your link again")).to_be_visible()
    site.check(page)
    page.goto(father.url)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    site.check(page)
    assert not site.accessibility.violations


