"""Business support's pack, outbox and recipients pages: generating the pack in the background and
downloading only what its manifest lists, the outbox with resend and cancel (each with an audited
reason), and a professional's certificate uploaded and checked. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from distribution.demo_pki import DemoPki
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.outbox_store import outbox_store
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.domain.outbox import OutboxItem
from docgen.services.importing import import_case_file, stored_version
from docgen.services.jobs import run_one
from docgen.services.outbox_view import conference_outbox
from docgen.services.pack_jobs import PACK, pack_handler
from docgen.services.scheduling import schedule_conference
from tests.conftest import EXAMPLE
from tests.support.web import WebWorld, post_form

REFERENCE = "NM-ICPC-2026-0147"
PACK_PAGE = f"/conferences/{REFERENCE}/pack"


def _events(world: WebWorld, action: str) -> list[AuditEvent]:
    with unit_of_work(world.runtime.sessions) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.sequence)))


def _run_worker(world: WebWorld) -> bool:
    data_folder = world.app.extensions["docgen.web_settings"].data_folder
    return run_one(world.runtime, {PACK: pack_handler(data_folder, workers=1)}, "test-worker",
                   lease=timedelta(seconds=60))


def _request_pack(world: WebWorld, client: Any) -> str:
    response = post_form(client, PACK_PAGE, {"formats": "pdf"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return str(response.headers["Location"])


def test_a_pack_is_generated_in_the_background_and_its_files_downloaded(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    page = support.get(PACK_PAGE).get_data(as_text=True)
    assert "Generate the pack" in page and "The pack has not been generated yet" in page
    assert "Waiting for the chair" in page  # nobody's family copies are approved yet

    job_page = _request_pack(web, support)
    assert re.fullmatch(rf"/conferences/{REFERENCE}/pack/\d+", job_page)
    queued = support.get(job_page).get_data(as_text=True)
    assert "Waiting for a worker" in queued
    assert '<meta http-equiv="refresh" content="2">' in queued
    assert 'data-finished="false"' in queued and "data-progress-url=" in queued

    assert _run_worker(web)
    done = support.get(job_page).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done and 'data-finished="true"' in done
    made = re.search(r"(\d+) of (\d+) copies made", done)
    assert made and made.group(1) == made.group(2) and int(made.group(2)) > 5
    links = re.findall(rf'href="({job_page}/files/\d+)"', done)
    assert len(links) == int(made.group(2))  # PDF only: one file a copy

    download = support.get(links[0])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data.startswith(b"%PDF-")
    downloaded = _events(web, "downloaded")
    assert [(e.actor, e.reference) for e in downloaded] == [("support", REFERENCE)]
    assert "Generation" in support.get(PACK_PAGE).get_data(as_text=True)


def test_only_files_the_manifest_lists_are_served(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    job_page = _request_pack(web, support)
    assert _run_worker(web)
    folder = web.app.extensions["docgen.web_settings"].data_folder / "packs" / REFERENCE / f"job-{job_page.rsplit('/', 1)[1]}"
    (folder / "not-in-the-manifest.pdf").write_bytes(b"%PDF-1.7 planted")
    count = len(re.findall(r"/files/\d+", support.get(job_page).get_data(as_text=True)))
    assert support.get(f"{job_page}/files/{count}").status_code == 404
    assert support.get(f"{job_page}/files/-1").status_code == 404
    assert support.get(f"{job_page}/files/..%2Fmanifest.json").status_code == 404
    assert support.get(f"{job_page}/files/not-in-the-manifest.pdf").status_code == 404
    # Another conference's address for the same generation is not found either.
    assert support.get(job_page.replace(REFERENCE, "NM-OTHER-1") + "/files/0").status_code == 404
    # A file changed on disk after generation is not handed over.
    name = re.search(rf'href="{job_page}/files/0" download>Download ([^<]+)<', support.get(job_page).get_data(as_text=True))
    assert name
    [changed] = list(folder.rglob(name.group(1)))
    changed.write_bytes(changed.read_bytes() + b"%% changed")
    refused = support.get(f"{job_page}/files/0")
    assert refused.status_code == 400 and "not the file its manifest lists" in refused.get_data(as_text=True)
    assert _events(web, "downloaded") == []


def test_a_failed_generation_shows_its_message(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    job_page = _request_pack(web, support)
    data_folder: Path = web.app.extensions["docgen.web_settings"].data_folder
    data_folder.mkdir(parents=True, exist_ok=True)
    (data_folder / "packs").write_text("a file where the packs folder should be")
    assert _run_worker(web)
    page = support.get(job_page).get_data(as_text=True)
    assert "Failed" in page and "The pack was not generated" in page
    assert "/files/" not in page


def test_who_may_use_the_pack_pages(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    assert web.signed_in("support").get(PACK_PAGE).status_code == 200
    for username in ("chair", "manager", "admin"):
        assert web.signed_in(username).get(PACK_PAGE).status_code == 403, username


# -- the outbox ------------------------------------------------------------------------------------

def _schedule(world: WebWorld) -> None:
    case = stored_version(world.runtime, REFERENCE).case
    with unit_of_work(world.runtime.sessions) as session:
        schedule_conference(session, case, load_rules(DEFAULT_CONFIG_DIR / "circulation.toml"),
                            now=world.runtime.clock(), envelope_from=world.runtime.settings.authority.email)


def _fail_one(world: WebWorld) -> OutboxItem:
    """One item tried and failed for good, as a dispatch pass records it."""
    store = outbox_store(world.runtime.sessions)
    now = world.runtime.clock()
    [claimed] = store.claim(now=now, lease_until=now + timedelta(minutes=5), limit=1, worker="tests")
    assert store.fail(claimed, now=now, reason="the agency server refused it")
    return claimed


def test_the_outbox_lists_the_conference_items_and_filters_by_state(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    outbox = f"/conferences/{REFERENCE}/outbox"
    assert "Nothing is in the outbox" in support.get(outbox).get_data(as_text=True)
    _schedule(web)
    items = conference_outbox(web.runtime, REFERENCE)
    page = support.get(outbox).get_data(as_text=True)
    assert f"{len(items)} items" in page
    for row in items:
        assert row.item.recipient_name in page
    failed = _fail_one(web)
    filtered = support.get(f"{outbox}?state=failed").get_data(as_text=True)
    assert "1 item<" in filtered and "Failed" in filtered and "the agency server refused it" in filtered
    assert failed.recipient_name in filtered
    assert "Ready to send" not in filtered.split("<table", 1)[1]
    # A chair sees their own conference's outbox, without the changes; another chair sees nothing.
    chair_page = web.signed_in("chair").get(outbox)
    assert chair_page.status_code == 200 and "/cancel" not in chair_page.get_data(as_text=True)
    assert web.signed_in("otherchair").get(outbox).status_code == 404
    assert web.signed_in("chair").get(f"{outbox}/{items[0].item.id}/cancel").status_code == 403


def test_cancel_and_resend_need_a_reason_and_are_audited(web: WebWorld) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    _schedule(web)
    manager = web.signed_in("manager")
    ready = next(row.item for row in conference_outbox(web.runtime, REFERENCE) if row.item.state == "ready")
    failed = _fail_one(web)
    assert failed.id != ready.id
    cancel = f"/conferences/{REFERENCE}/outbox/{ready.id}/cancel"

    refused = post_form(manager, cancel, {"reason": "  "})
    assert refused.status_code == 400 and "Give the reason" in refused.get_data(as_text=True)
    assert _events(web, "outbox_item_cancelled") == []

    resent = post_form(manager, f"/conferences/{REFERENCE}/outbox/{failed.id}/resend",
                       {"reason": "the agency fixed its mail server"})
    assert resent.status_code == 302
    assert [(e.actor, e.details["how"]) for e in _events(web, "outbox_item_resent")] == [("manager", "retry")]
    assert next(r.item for r in conference_outbox(web.runtime, REFERENCE) if r.item.id == failed.id).state == "ready"

    done = post_form(manager, cancel, {"reason": "handed over by hand at the conference"})
    assert done.status_code == 302
    assert "cancelled" in manager.get(done.headers["Location"]).get_data(as_text=True)
    [event] = _events(web, "outbox_item_cancelled")
    assert (event.actor, event.reference, event.details["reason"]) == (
        "manager", REFERENCE, "handed over by hand at the conference")
    assert next(r.item for r in conference_outbox(web.runtime, REFERENCE) if r.item.id == ready.id).state == "cancelled"

    again = post_form(manager, f"/conferences/{REFERENCE}/outbox/{ready.id}/resend", {"reason": "try it"},
                      form_page=cancel.replace("/cancel", "/resend"))
    assert again.status_code == 409 and "only a failed item" in again.get_data(as_text=True)
    assert manager.get(f"/conferences/{REFERENCE}/outbox/999999/cancel").status_code == 404


# -- recipients ----------------------------------------------------------------------------------

@pytest.fixture
def trusted(example_pki: DemoPki, monkeypatch: pytest.MonkeyPatch) -> DemoPki:
    monkeypatch.setenv("DOCGEN_CA_BUNDLE", str(example_pki.ca.cert_path))
    return example_pki


def _upload(client: Any, index: int, data: bytes, name: str = "agency.cer") -> Any:
    from io import BytesIO

    path = f"/conferences/{REFERENCE}/recipients"
    return post_form(client, path, {"professional": str(index), "certificate": (BytesIO(data), name)},
                     content_type="multipart/form-data")


def test_a_professionals_certificate_is_uploaded_and_checked(web: WebWorld, trusted: DemoPki,
                                                             example_data: dict[str, Any]) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    person = example_data["professionals"][1]
    page = support.get(f"/conferences/{REFERENCE}/recipients").get_data(as_text=True)
    assert person["name"] in page and "None" in page

    # Checked by content, not by name: a PEM file called .txt is accepted.
    response = _upload(support, 1, trusted.recipients[person["email"]].cert_path.read_bytes(), "cert.txt")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "was checked and added" in page and "valid until" in page
    [event] = _events(web, "certificate_imported")
    assert (event.actor, event.subject) == ("support", person["id"])


@pytest.mark.parametrize(("case", "expected"), [
    ("not a certificate", "not a readable X.509 certificate"),
    ("another person's certificate", "does not match the recipient"),
    ("empty file", "The file is empty"),
    ("too large", "a certificate is at most 64 KB"),
    ("not trusted", "does not chain to a trusted CA"),
])
def test_a_certificate_that_fails_its_check_is_refused_with_the_reason(
        web: WebWorld, trusted: DemoPki, pki: DemoPki, example_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        case: str, expected: str) -> None:
    import_case_file(web.runtime, EXAMPLE, actor="tests")
    support = web.signed_in("support")
    people = example_data["professionals"]
    data = {
        "not a certificate": b"This is a letter, not a certificate.\n",
        "another person's certificate": trusted.recipients[people[2]["email"]].cert_path.read_bytes(),
        "empty file": b"",
        "too large": b"-----BEGIN CERTIFICATE-----\n" + b"A" * 70000,
        "not trusted": trusted.recipients[people[1]["email"]].cert_path.read_bytes(),
    }[case]
    if case == "not trusted":
        monkeypatch.setenv("DOCGEN_CA_BUNDLE", str(pki.ca.cert_path))  # another authority's CA
    response = _upload(support, 1, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert expected.lower() in page.lower(), page[page.find("govuk-error-message"):][:600]
    assert 'href="#certificate"' in page  # the message sits beside the field, and in the summary
    assert _events(web, "certificate_imported") == []
