"""The recipient portal on the web, on every backend: the link, the code by text message, the documents
and their downloads; its own session and cookie, which open no staff page, while a staff session opens
no portal page; a link that does not work says the same whatever the reason; business support's page
with "opened" and the recalls."""

from __future__ import annotations

import re
import secrets

import pytest
from flask.testing import FlaskClient

from docgen.configuration.web import WebSettings
from docgen.entrypoints.web import create_app
from docgen.services.importing import import_case_file
from docgen.services.portal import Publication
from tests.conftest import EXAMPLE
from tests.support.portal import REFERENCE, CapturedCodes, publish_document, tiny_pdf, token_of
from tests.support.web import WebWorld, csrf_token, post_form


@pytest.fixture
def codes(web: WebWorld, portal_secret: str) -> CapturedCodes:
    """The application's code sender, keeping what it would have sent."""
    captured = CapturedCodes()
    web.app.extensions["docgen.portal_code_sender"] = captured
    return captured


def _path(publication: Publication) -> str:
    return f"/portal/{token_of(publication)}"


def _signed_in(web: WebWorld, publication: Publication, codes: CapturedCodes) -> FlaskClient:
    client = web.client()
    path = _path(publication)
    assert post_form(client, f"{path}/send-code", {}, form_page=path).status_code == 302
    response = post_form(client, f"{path}/code", {"code": codes.last_code()})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert response.headers["Location"] == f"/portal/your-documents/{publication.link_id}"
    return client


def test_a_parent_gets_the_code_by_text_and_downloads_the_record(web: WebWorld, codes: CapturedCodes) -> None:
    pdf = tiny_pdf("Copy for: Karim Haddad, Family, 20 November 2026")
    publication = publish_document(web.runtime, pdf=pdf)
    publish_document(web.runtime, kind="decisions_notice")
    client, path = web.client(), _path(publication)

    landing = client.get(path).get_data(as_text=True)
    assert "We will send a code to your phone ending 733." in landing and "Send code" in landing
    sent = post_form(client, f"{path}/send-code", {}, form_page=path)
    assert sent.status_code == 302 and sent.headers["Location"].startswith(f"{path}/code")
    assert "We have sent a 6 digit code to your phone ending 733" in client.get(sent.headers["Location"]).get_data(
        as_text=True)
    code = codes.last_code()

    wrong = post_form(client, f"{path}/code", {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    assert "The code is not right. You have 4 tries left." in wrong.get_data(as_text=True)
    assert "govuk-error-summary" in wrong.get_data(as_text=True)

    right = post_form(client, f"{path}/code", {"code": code})
    assert right.status_code == 302
    cookie = right.headers["Set-Cookie"]
    assert cookie.startswith("docgen-portal=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/" in cookie

    page = client.get(right.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "The record of the conference" in text and "The conference&#39;s decisions" in text
    assert "write to the conference chair by Friday 4 December 2026" in text
    assert code not in text and "Karim" not in text  # the name is in the documents, not on the page
    download = re.search(r'href="(/portal/your-documents/\d+/\d+)"', text)
    assert download
    got = client.get(download.group(1))
    assert got.status_code == 200 and got.data == pdf
    assert got.headers["Content-Disposition"] == 'attachment; filename="conference-record.pdf"'
    assert got.headers["Cache-Control"] == "no-store" and got.mimetype == "application/pdf"


def test_a_link_that_does_not_work_looks_the_same_whatever_the_reason(web: WebWorld, codes: CapturedCodes) -> None:
    from docgen.services.portal import recall_link

    recalled = publish_document(web.runtime, recipient_key="karim")
    recall_link(web.runtime, recalled.link_id, actor="support", reason="wrong address", now=web.runtime.clock())
    expired = publish_document(web.runtime, recipient_key="zofia", lifetime=__import__("datetime").timedelta(0))
    pages = [web.client().get(path) for path in (_path(recalled), _path(expired), "/portal/" + secrets.token_urlsafe(32))]
    assert {page.status_code for page in pages} == {404}
    assert len({page.get_data(as_text=True) for page in pages}) == 1
    assert "This link no longer works" in pages[0].get_data(as_text=True)
    assert "Phone us on 01632 960000" in pages[0].get_data(as_text=True)


def test_without_a_code_sender_the_page_says_to_phone(web: WebWorld, portal_secret: str) -> None:
    publication = publish_document(web.runtime)
    client = web.client()
    text = client.get(_path(publication)).get_data(as_text=True)
    assert "We cannot send you a code at the moment. Phone us on 01632 960000" in text
    assert "Send code" not in text
    refused = post_form(client, f"{_path(publication)}/send-code", {}, form_page=f"{_path(publication)}/code")
    assert refused.status_code == 503 and "Phone us on 01632 960000" in refused.get_data(as_text=True)
    assert not re.search(r"\b\d{6}\b", refused.get_data(as_text=True).replace("01632 960000", ""))


def test_a_staff_session_opens_no_portal_page(web: WebWorld, codes: CapturedCodes) -> None:
    publication = publish_document(web.runtime)
    _signed_in(web, publication, codes)  # someone is signed in to the portal, elsewhere
    for who in ("support", "manager", "chair", "admin"):
        client = web.signed_in(who)
        page = client.get(f"/portal/your-documents/{publication.link_id}")
        assert page.status_code == 403 and "Open your link again" in page.get_data(as_text=True), who
        assert client.get(f"/portal/your-documents/{publication.link_id}/1").status_code == 403, who


def test_a_portal_session_opens_no_staff_page_and_no_other_link(web: WebWorld, codes: CapturedCodes) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    father = publish_document(web.runtime)
    mother = publish_document(web.runtime, recipient_key="zofia", recipient_name="Zofia Wiśniewska")
    client = _signed_in(web, father, codes)
    for path in ("/conferences", f"/conferences/{REFERENCE}", f"/conferences/{REFERENCE}/portal", "/chair",
                 "/admin/accounts"):
        page = client.get(path)
        assert page.status_code == 302 and page.headers["Location"].startswith("/sign-in"), path
    assert client.get(f"/portal/your-documents/{mother.link_id}").status_code == 403
    assert client.get(f"/portal/your-documents/{father.link_id}").status_code == 200


def test_signing_out_ends_the_portal_session(web: WebWorld, codes: CapturedCodes) -> None:
    publication = publish_document(web.runtime)
    client = _signed_in(web, publication, codes)
    documents = f"/portal/your-documents/{publication.link_id}"
    signed_out = client.post("/portal/sign-out", data={"csrf_token": csrf_token(client, documents)})
    assert signed_out.status_code == 200 and "You have signed out" in signed_out.get_data(as_text=True)
    assert client.get(documents).status_code == 403


def test_over_tls_the_portal_cookie_is_host_only_and_secure(runtime, portal_secret: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    codes = CapturedCodes()
    app = create_app(runtime, WebSettings(data_folder=tmp_path / "web", workers_beside_server=0),
                     secret_key=secrets.token_urlsafe(48), tls=True, portal_code_sender=codes)
    app.config["TESTING"] = True
    publication = publish_document(runtime)
    client, path = app.test_client(), _path(publication)
    base = {"base_url": "https://localhost", "headers": {"Referer": f"https://localhost{path}"}}
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path, **base).get_data(as_text=True))
    assert token
    client.post(f"{path}/send-code", data={"csrf_token": token.group(1)}, **base)
    right = client.post(f"{path}/code", data={"csrf_token": token.group(1), "code": codes.last_code()}, **base)
    assert right.status_code == 302
    cookie = right.headers["Set-Cookie"]
    assert cookie.startswith("__Host-docgen-portal=") and "Secure" in cookie and "SameSite=Strict" in cookie
    assert client.get(right.headers["Location"], **base).status_code == 200


def test_business_support_sees_what_was_opened_and_recalls(web: WebWorld, codes: CapturedCodes) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    publication = publish_document(web.runtime, outbox_item_id=11)
    publish_document(web.runtime, kind="decisions_notice", outbox_item_id=12)
    portal_client = _signed_in(web, publication, codes)
    listing = portal_client.get(f"/portal/your-documents/{publication.link_id}").get_data(as_text=True)
    first = re.search(r'href="(/portal/your-documents/\d+/\d+)"', listing)
    assert first
    portal_client.get(first.group(1))

    support = web.signed_in("support")
    page = support.get(f"/conferences/{REFERENCE}/portal").get_data(as_text=True)
    assert "Karim Haddad" in page and "Opened 20 Nov 2026 at 09:00" in page and "Not opened" in page
    assert "Recall link" in page and "Recall this copy" in page
    assert f"/conferences/{REFERENCE}/portal" in support.get(f"/conferences/{REFERENCE}").get_data(as_text=True)

    chair = web.signed_in("chair").get(f"/conferences/{REFERENCE}/portal").get_data(as_text=True)
    assert "Opened 20 Nov 2026 at 09:00" in chair and "Recall" not in chair
    assert web.signed_in("otherchair").get(f"/conferences/{REFERENCE}/portal").status_code == 404

    recall = f"/conferences/{REFERENCE}/portal/link/{publication.link_id}/recall"
    empty = post_form(support, recall, {"reason": " "})
    assert empty.status_code == 400 and "Give the reason for the recall" in empty.get_data(as_text=True)
    done = post_form(support, recall, {"reason": "Sent to a wrong address"})
    assert done.status_code == 302
    after = support.get(f"/conferences/{REFERENCE}/portal").get_data(as_text=True)
    assert "Recalled" in after and "Recall link" not in after
    assert portal_client.get(f"/portal/your-documents/{publication.link_id}").status_code == 403
    assert web.client().get(_path(publication)).status_code == 404


def test_without_the_right_key_nothing_is_given_out_and_the_recipient_is_asked_to_phone(
        web: WebWorld, codes: CapturedCodes, monkeypatch: pytest.MonkeyPatch) -> None:
    publication = publish_document(web.runtime)
    client = _signed_in(web, publication, codes)
    listing = client.get(f"/portal/your-documents/{publication.link_id}").get_data(as_text=True)
    download = re.search(r'href="(/portal/your-documents/\d+/\d+)"', listing)
    assert download
    monkeypatch.setenv("DOCGEN_PORTAL_SECRET", secrets.token_hex(32))  # another key than the one it was stored with
    refused = client.get(download.group(1))
    assert refused.status_code == 503 and refused.mimetype == "text/html"
    assert "Phone us on 01632 960000" in refused.get_data(as_text=True)
    monkeypatch.delenv("DOCGEN_PORTAL_SECRET")
    assert client.get(download.group(1)).status_code == 503
    landing = post_form(web.client(), f"{_path(publication)}/send-code", {}, form_page=_path(publication))
    assert landing.status_code == 503 and "Sorry, this service is not available" in landing.get_data(as_text=True)
