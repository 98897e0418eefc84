"""The recipient portal in the browser: the scheduler sends the parents' record and decisions by the
portal route; a father opens the link he was emailed, gets the code by text message (through GOV.UK
Notify's stand-in), types a wrong code and is refused, types the right one, sees his documents and
downloads the record, which carries his name on every page; the mother's link is locked after too
many wrong codes; business support sees the record opened on the outbox page and the portal page, and
recalls the father's link, which then refuses at once. axe-core on every screen."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pypdfium2
from playwright.sync_api import Page, expect
from sqlalchemy import select

from distribution.demo_pki import DemoPki
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.services.importing import import_case_file
from tests.browser.conftest import Site
from tests.conftest import EXAMPLE
from tests.support.portal import FATHER_PHONE, REFERENCE, send_by_the_portal


def _enter(page: Page, code: str) -> None:
    page.get_by_label("Enter your code").fill(code)
    page.get_by_role("button", name="Continue").click()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_parent_opens_the_link_enters_the_code_and_downloads_the_record(site: Site, portal_secret: str,
                                                                          example_pki: DemoPki, tmp_path: Path) -> None:
    import_case_file(site.runtime, EXAMPLE, actor="support")
    links = send_by_the_portal(site.runtime, example_pki, tmp_path, base_url=site.url)
    # One link per person per conference: each parent's two emails carry the same link.
    [father], [mother] = links["karim"], links["zofia"]
    assert father != mother

    # The father opens the link from his email; the code comes by text message.
    page = site.page()
    page.goto(father)
    expect(page.get_by_role("heading", name="Get your documents")).to_be_visible()
    expect(page.get_by_text("We will send a code to your phone ending 733.")).to_be_visible()
    site.check(page)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    site.check(page)
    [(channel, phone, _text, _key)] = site.codes.sent
    code = site.codes.last_code()  # from the text message his phone received through GOV.UK Notify
    assert (channel, phone) == ("sms", FATHER_PHONE.replace(" ", ""))
    [text] = site.codes.notify.texts_to(FATHER_PHONE)
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
    assert started.value.suggested_filename == "record.pdf"  # plain words, as an attachment would be named
    data = saved.read_bytes()
    with unit_of_work(site.runtime.sessions) as session:
        sent = {r.plaintext_sha256 for r in session.scalars(select(DeliveryRecord).where(
            DeliveryRecord.recipient_key == "karim", DeliveryRecord.document_kind == "conference_record"))}
    assert sent == {hashlib.sha256(data).hexdigest()}  # exactly the copy the scheduler made for him
    document = pypdfium2.PdfDocument(data)
    try:
        pages = [document[n].get_textpage().get_text_range() for n in range(len(document))]
    finally:
        document.close()
    assert len(pages) > 1
    assert all("Karim Haddad" in text for text in pages), "his name is not on every page"

    # The mother's link: wrong codes until the codes of the hour run out, and it locks.
    mothers = site.page()
    mothers.goto(mother)
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
    mothers.goto(mother)
    expect(mothers.get_by_role("heading", name="This link no longer works")).to_be_visible()

    # Business support sees the record opened, the mother's link locked, and recalls the father's link.
    staff = site.page()
    site.sign_in(staff, "support")
    staff.goto(f"/conferences/{REFERENCE}/outbox")
    rows = staff.get_by_role("row", name=re.compile("Karim Haddad"))
    expect(rows.filter(has_text="Conference record")).to_contain_text("by portal link")
    expect(rows.filter(has_text="Conference record")).to_contain_text("Opened")
    expect(rows.filter(has_text="Decisions notice")).to_contain_text("Not opened yet")
    site.check(staff)
    staff.goto(f"/conferences/{REFERENCE}")
    staff.get_by_role("link", name=re.compile("^Portal links")).click()
    expect(staff.get_by_role("heading", name="Portal links")).to_be_visible()
    records = staff.get_by_role("row", name=re.compile("The record of the conference"))
    expect(records.filter(has_text=re.compile(r"Opened \d"))).to_have_count(1)  # his; the mother never got in
    expect(records.filter(has_text=re.compile(r"Opened \d"))).to_contain_text("Opened 20 Nov 2026 at 09:00")
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
    page.goto(father)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    site.check(page)
    assert not site.accessibility.violations


