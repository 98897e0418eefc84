"""The recipient portal's services on every backend: publishing (idempotent, one link per person per
conference, invisible until confirmed, encrypted at rest, refused without the key), codes (wrong codes
refused, tries and codes running out, the lock), expiry, recalls that refuse at once, "opened" from the
first download only, and an audit trail with no code, token, name or address in it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.orm_portal import PortalDocument, PortalLink
from docgen.adapters.portal_crypto import SECRET_VARIABLE
from docgen.configuration.web import WebSettings
from docgen.errors import PortalError, PortalUnavailable
from docgen.services import portal_access as access
from docgen.services.portal import confirm_published, links_of, opened_by_item, recall_document, recall_link
from docgen.services.runtime import Runtime
from tests.conftest import RUNTIME_NOW
from tests.support.portal import (
    FATHER_PHONE,
    MOTHER_PHONE,
    REFERENCE,
    CapturedCodes,
    publish_document,
    tiny_pdf,
    token_of,
)
from tests.support.web import MovableClock

SETTINGS = WebSettings()


@pytest.fixture
def clock(runtime: Runtime) -> MovableClock:
    moving = MovableClock(RUNTIME_NOW)
    runtime.clock = moving
    return moving


def _signed_in(runtime: Runtime, token: str, codes: CapturedCodes) -> access.SignedIn:
    access.send_code(runtime, token, codes, SETTINGS)
    return access.enter_code(runtime, token, codes.last_code(), SETTINGS)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- publishing -------------------------------------------------------------------------------------

def test_publishing_is_idempotent_on_the_message_token(runtime: Runtime, portal_secret: str) -> None:
    first = publish_document(runtime, message_token="a" * 32, outbox_item_id=7, confirm=False)
    again = publish_document(runtime, message_token="a" * 32, outbox_item_id=7, confirm=False)
    assert first.new_link and not again.new_link
    assert (again.link_id, again.url) == (first.link_id, first.url)
    assert first.url.startswith("https://docs.northmoor.example/portal/") and len(token_of(first)) == 43
    with unit_of_work(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(PortalDocument)) == 1


def test_one_link_per_person_per_conference(runtime: Runtime, portal_secret: str) -> None:
    record = publish_document(runtime, kind="conference_record")
    decisions = publish_document(runtime, kind="decisions_notice")
    mother = publish_document(runtime, recipient_key="zofia", recipient_name="Zofia Wiśniewska",
                              code_address=MOTHER_PHONE)
    elsewhere = publish_document(runtime, reference="NM-ICPC-2026-0999")
    assert record.new_link and not decisions.new_link and decisions.url == record.url
    assert len({record.link_id, mother.link_id, elsewhere.link_id}) == 3
    assert [len(link.documents) for link in links_of(runtime, REFERENCE)] == [1, 2]


def test_a_document_is_not_shown_until_confirmed(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime, message_token="b" * 32, confirm=False)
    signed_in = _signed_in(runtime, token_of(publication), codes)
    assert access.documents_for(runtime, signed_in.link_id) == []
    with unit_of_work(runtime.sessions) as session:
        confirm_published(session, "no-such-token", now=runtime.clock())  # nothing to confirm: no error
        confirm_published(session, "b" * 32, now=runtime.clock())
    assert [d.title for d in access.documents_for(runtime, signed_in.link_id)] == ["The record of the conference"]


def test_documents_are_encrypted_at_rest_and_given_back_exactly(runtime: Runtime, portal_secret: str) -> None:
    pdf = tiny_pdf("Copy for: Karim Haddad, Family")
    codes = CapturedCodes()
    publication = publish_document(runtime, pdf=pdf)
    with unit_of_work(runtime.sessions) as session:
        sealed = session.scalar(select(PortalDocument.sealed))
    assert sealed is not None and b"%PDF" not in sealed and b"Karim" not in sealed
    signed_in = _signed_in(runtime, token_of(publication), codes)
    [document] = access.documents_for(runtime, signed_in.link_id)
    assert access.download(runtime, signed_in.link_id, document.id).data == pdf


def test_the_record_says_by_when_to_ask_for_corrections(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime, kind="conference_record")
    publish_document(runtime, kind="decisions_notice")
    signed_in = _signed_in(runtime, token_of(publication), codes)
    record, decisions = access.documents_for(runtime, signed_in.link_id)
    # Friday 20 November 2026 plus 10 working days (circulation rule amendments-to-chair).
    assert record.corrections == ("If something in the record is wrong, write to the conference chair by "
                                  "Friday 4 December 2026.")
    assert decisions.corrections is None


@pytest.mark.parametrize("value", ["", "too-short", "00" * 31, "not base64 or hex!"])
def test_without_a_usable_secret_nothing_is_published(runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                                                      value: str) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, value)
    with pytest.raises(PortalUnavailable, match=SECRET_VARIABLE):
        publish_document(runtime)
    with unit_of_work(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(PortalLink)) == 0


def test_a_recalled_copy_is_not_published_again(runtime: Runtime, portal_secret: str) -> None:
    publish_document(runtime, message_token="c" * 32)
    with unit_of_work(runtime.sessions) as session:
        document_id = session.scalar(select(PortalDocument.id))
    assert document_id is not None
    recall_document(runtime, document_id, actor="support", reason="wrong person", now=runtime.clock())
    with pytest.raises(PortalError, match="recalled"):
        publish_document(runtime, message_token="c" * 32)


# -- codes --------------------------------------------------------------------------------------------

def test_the_code_goes_by_text_message_in_plain_words(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime)
    door = access.open_link(runtime, token_of(publication))
    assert door.code_goes_to == "your phone ending 733"
    access.send_code(runtime, token_of(publication), codes, SETTINGS)
    [(channel, address, text, key)] = codes.sent
    assert (channel, address) == ("sms", FATHER_PHONE)
    assert text == (f"Your code for Northmoor Borough Council documents is {codes.last_code()}. "
                    "It expires in 10 minutes.")
    assert re.fullmatch(r"[0-9a-f]{32}", key)  # random: it names the message to Notify and says nothing


def test_a_wrong_code_is_refused_until_the_tries_run_out(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    token = token_of(publish_document(runtime))
    access.send_code(runtime, token, codes, SETTINGS)
    right = codes.last_code()
    with pytest.raises(access.CodeMistyped):
        access.enter_code(runtime, token, "12a", SETTINGS)  # not counted
    for left in (4, 3, 2, 1):
        with pytest.raises(access.WrongCode) as wrong:
            access.enter_code(runtime, token, _wrong(right), SETTINGS)
        assert wrong.value.tries_left == left
    with pytest.raises(access.NoLiveCode) as used_up:
        access.enter_code(runtime, token, _wrong(right), SETTINGS)
    assert used_up.value.used_up
    with pytest.raises(access.NoLiveCode):  # the right code, too late
        access.enter_code(runtime, token, right, SETTINGS)


def test_the_link_locks_when_the_last_code_of_the_hour_is_used_up(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    token = token_of(publish_document(runtime))
    for round_ in range(SETTINGS.portal_codes_per_hour):
        access.send_code(runtime, token, codes, SETTINGS)
        for _ in range(SETTINGS.portal_code_attempts - 1):
            with pytest.raises(access.WrongCode):
                access.enter_code(runtime, token, _wrong(codes.last_code()), SETTINGS)
        last = access.LinkLocked if round_ == SETTINGS.portal_codes_per_hour - 1 else access.NoLiveCode
        with pytest.raises(last):
            access.enter_code(runtime, token, _wrong(codes.last_code()), SETTINGS)
    with pytest.raises(access.LinkNotWorking):
        access.open_link(runtime, token)
    [link] = links_of(runtime, REFERENCE)
    assert link.state == "locked"
    # The next document for him goes on a new link.
    assert publish_document(runtime).new_link


def test_codes_per_hour_are_limited_and_a_new_code_replaces_the_old(runtime: Runtime, portal_secret: str,
                                                                   clock: MovableClock) -> None:
    codes = CapturedCodes()
    token = token_of(publish_document(runtime))
    access.send_code(runtime, token, codes, SETTINGS)
    old = codes.last_code()
    access.send_code(runtime, token, codes, SETTINGS)
    access.send_code(runtime, token, codes, SETTINGS)
    with pytest.raises(access.TooManyCodes, match="01632 960000"):
        access.send_code(runtime, token, codes, SETTINGS)
    if old != codes.last_code():
        with pytest.raises(access.WrongCode):
            access.enter_code(runtime, token, old, SETTINGS)
    clock.advance(minutes=61)
    access.send_code(runtime, token, codes, SETTINGS)
    assert len(codes.sent) == 4


def test_a_code_expires(runtime: Runtime, portal_secret: str, clock: MovableClock) -> None:
    codes = CapturedCodes()
    token = token_of(publish_document(runtime))
    access.send_code(runtime, token, codes, SETTINGS)
    clock.advance(minutes=SETTINGS.portal_code_minutes, seconds=1)
    with pytest.raises(access.NoLiveCode) as expired:
        access.enter_code(runtime, token, codes.last_code(), SETTINGS)
    assert not expired.value.used_up


def test_no_sender_or_no_address_means_no_code(runtime: Runtime, portal_secret: str) -> None:
    token = token_of(publish_document(runtime))
    with pytest.raises(access.CodeNotSent, match="Phone us on 01632 960000"):
        access.send_code(runtime, token, None, SETTINGS)
    nobody = token_of(publish_document(runtime, recipient_key="zofia", code_address=""))
    assert access.open_link(runtime, nobody).code_goes_to is None
    with pytest.raises(access.CodeNotSent):
        access.send_code(runtime, nobody, CapturedCodes(), SETTINGS)


# -- expiry, recall, sessions -------------------------------------------------------------------------

def test_a_link_expires(runtime: Runtime, portal_secret: str, clock: MovableClock) -> None:
    codes = CapturedCodes()
    token = token_of(publish_document(runtime, lifetime=timedelta(days=28)))
    signed_in = _signed_in(runtime, token, codes)
    clock.advance(days=28)
    assert access.session_link(runtime, signed_in.session_token, SETTINGS) is None
    with pytest.raises(access.LinkNotWorking):
        access.open_link(runtime, token)
    [link] = links_of(runtime, REFERENCE)
    assert link.state == "expired"
    assert publish_document(runtime).new_link


def test_a_document_added_later_keeps_the_link_working(runtime: Runtime, portal_secret: str,
                                                       clock: MovableClock) -> None:
    token = token_of(publish_document(runtime))
    clock.advance(days=20)
    publish_document(runtime, kind="decisions_notice")
    clock.advance(days=20)
    assert access.open_link(runtime, token).code_goes_to == "your phone ending 733"


def test_a_recalled_link_refuses_at_once(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime)
    signed_in = _signed_in(runtime, token_of(publication), codes)
    [document] = access.documents_for(runtime, signed_in.link_id)
    with pytest.raises(PortalError, match="reason"):
        recall_link(runtime, publication.link_id, actor="support", reason="  ", now=runtime.clock())
    recall_link(runtime, publication.link_id, actor="support", reason="Sent to a wrong address",
                now=runtime.clock(), reference=REFERENCE)
    assert access.session_link(runtime, signed_in.session_token, SETTINGS) is None
    with pytest.raises(access.LinkNotWorking):
        access.download(runtime, signed_in.link_id, document.id)
    with pytest.raises(access.LinkNotWorking):
        access.open_link(runtime, token_of(publication))
    assert publish_document(runtime).new_link


def test_a_recalled_copy_refuses_and_the_rest_stays(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime, kind="conference_record")
    publish_document(runtime, kind="decisions_notice")
    signed_in = _signed_in(runtime, token_of(publication), codes)
    record, decisions = access.documents_for(runtime, signed_in.link_id)
    recall_document(runtime, record.id, actor="support", reason="Wrong version", now=runtime.clock())
    with pytest.raises(access.DocumentNotAvailable):
        access.download(runtime, signed_in.link_id, record.id)
    assert [d.id for d in access.documents_for(runtime, signed_in.link_id)] == [decisions.id]
    assert access.download(runtime, signed_in.link_id, decisions.id).data.startswith(b"%PDF-")


def test_a_session_is_for_its_own_link_only_and_ends(runtime: Runtime, portal_secret: str,
                                                     clock: MovableClock) -> None:
    codes = CapturedCodes()
    father = _signed_in(runtime, token_of(publish_document(runtime)), codes)
    mother = publish_document(runtime, recipient_key="zofia", recipient_name="Zofia Wiśniewska",
                              code_address=MOTHER_PHONE)
    assert access.session_link(runtime, father.session_token, SETTINGS) == father.link_id != mother.link_id
    with unit_of_work(runtime.sessions) as session:
        theirs = session.scalar(select(PortalDocument.id).where(PortalDocument.link_id == mother.link_id))
    assert theirs is not None
    with pytest.raises(access.DocumentNotAvailable):
        access.download(runtime, father.link_id, theirs)
    clock.advance(minutes=SETTINGS.portal_session_minutes, seconds=1)
    assert access.session_link(runtime, father.session_token, SETTINGS) is None


def test_opened_is_the_first_download_only(runtime: Runtime, portal_secret: str, clock: MovableClock) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime, outbox_item_id=41)
    publish_document(runtime, kind="decisions_notice", outbox_item_id=42)
    signed_in = _signed_in(runtime, token_of(publication), codes)
    record, _decisions = access.documents_for(runtime, signed_in.link_id)
    with unit_of_work(runtime.sessions) as session:
        assert opened_by_item(session, REFERENCE) == {}
    first = clock.now
    access.download(runtime, signed_in.link_id, record.id)
    clock.advance(minutes=5)
    access.download(runtime, signed_in.link_id, record.id)
    with unit_of_work(runtime.sessions) as session:
        assert opened_by_item(session, REFERENCE) == {41: first}
    [link] = links_of(runtime, REFERENCE)
    assert [(d.outbox_item_id, d.opened_at) for d in link.documents] == [(41, first), (42, None)]


def test_the_audit_trail_holds_no_code_token_name_or_address(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime, outbox_item_id=41)
    token = token_of(publication)
    access.send_code(runtime, token, codes, SETTINGS)
    wrong = _wrong(codes.last_code())
    with pytest.raises(access.WrongCode):
        access.enter_code(runtime, token, wrong, SETTINGS)
    signed_in = access.enter_code(runtime, token, codes.last_code(), SETTINGS)
    [document] = access.documents_for(runtime, signed_in.link_id)
    access.download(runtime, signed_in.link_id, document.id)
    recall_document(runtime, document.id, actor="support", reason="Sent to 14 Orchard Row by mistake",
                    now=runtime.clock())
    recall_link(runtime, publication.link_id, actor="support", reason="Karim Haddad asked", now=runtime.clock())
    with unit_of_work(runtime.sessions) as session:
        entries = list(session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)))
    actions = [e.action for e in entries]
    for action in ("portal_link_created", "portal_document_published", "portal_code_sent", "portal_code_refused",
                   "portal_signed_in", "portal_viewed", "portal_downloaded", "portal_document_recalled",
                   "portal_link_recalled"):
        assert action in actions
    assert {e.actor for e in entries if e.action in ("portal_code_sent", "portal_downloaded")} == {
        f"recipient:{publication.link_id}"}
    text = json.dumps([[e.actor, e.subject, e.details] for e in entries], ensure_ascii=False)
    for secret in (codes.last_code(), wrong, token, signed_in.session_token, "Karim", "Haddad", "900733",
                   FATHER_PHONE, "Orchard", portal_secret):
        assert secret not in text


def _refusals(runtime: Runtime) -> list[tuple[str, object]]:
    with unit_of_work(runtime.sessions) as session:
        return [(e.actor, e.details["why"]) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "portal_refused").order_by(AuditEvent.sequence))]


def test_every_refusal_on_a_known_link_is_in_the_audit_trail(runtime: Runtime, portal_secret: str) -> None:
    codes = CapturedCodes()
    publication = publish_document(runtime)
    token, actor = token_of(publication), f"recipient:{publication.link_id}"
    with pytest.raises(access.CodeNotSent):
        access.send_code(runtime, token, None, SETTINGS)
    for _ in range(SETTINGS.portal_codes_per_hour):
        access.send_code(runtime, token, codes, SETTINGS)
    with pytest.raises(access.TooManyCodes):
        access.send_code(runtime, token, codes, SETTINGS)
    signed_in = access.enter_code(runtime, token, codes.last_code(), SETTINGS)
    with pytest.raises(access.DocumentNotAvailable):
        access.download(runtime, signed_in.link_id, 999)
    recall_link(runtime, publication.link_id, actor="support", reason="wrong address", now=runtime.clock())
    with pytest.raises(access.LinkNotWorking):
        access.open_link(runtime, token)
    with pytest.raises(access.LinkNotWorking):
        access.documents_for(runtime, signed_in.link_id)
    with pytest.raises(access.LinkNotWorking):
        access.open_link(runtime, "a-token-nobody-was-given")  # names no link: nothing to record
    assert _refusals(runtime) == [(actor, "no code sender"), (actor, "too many codes this hour"),
                                  (actor, "document not on the link"), (actor, "link recalled"),
                                  (actor, "link recalled")]


def test_a_code_the_sender_could_not_send_is_refused_and_recorded(runtime: Runtime, portal_secret: str) -> None:
    from docgen.errors import DocgenError

    def failing(channel: str, address: str, text: str, key: str) -> None:
        raise DocgenError("the SMS provider refused the message")

    publication = publish_document(runtime)
    with pytest.raises(access.CodeNotSent, match="could not send your code"):
        access.send_code(runtime, token_of(publication), failing, SETTINGS)
    assert _refusals(runtime) == [(f"recipient:{publication.link_id}", "the code could not be sent")]
