"""The scheduler process sends a real conference's documents by every route, and survives a kill.

The example conference is imported, some professionals' certificates are put in the directory and
the chair approves the family copies; ``docgen scheduler`` (a separate process, over STARTTLS SMTP
on loopback, with GOV.UK Notify's stand-in for text messages) then sends every copy by the route
the policy gives its recipient: S/MIME to agencies with a certificate, secure email to those at
accredited domains without one, portal links to everyone else (parents included), and the child's
copies into the hand-delivery folder with the passphrase letter in the print batch. The process is
killed once while it is sending and started again. Every copy arrives once, opens with the
recipients' own tools (openssl, qpdf, the portal), matches its delivery record, and went out under
the Message-ID of its outbox item; a parent who opens the portal link gets the code by text message.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from distribution.demo_pki import DemoPki
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.orm_portal import PortalDocument
from docgen.bootstrap import code_sender
from docgen.configuration.circulation import load_rules
from docgen.configuration.delivery import load_delivery_settings
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.configuration.web import load_web_settings
from docgen.domain.outbox import OutboxItem, message_token
from docgen.domain.routes import is_accredited
from docgen.services.directory import import_certificate
from docgen.services.dispatch import list_items
from docgen.services.importing import import_case_file, stored_case
from docgen.services.portal_access import send_code
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference
from tests.support.chair import review_and_approve
from tests.support.scheduler import start_scheduler, started_lines, stop

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "haddad-wisniewska.yaml"
SENDER = "cp.conferences@northmoor.gov.uk"


def _items(runtime: Runtime, reference: str) -> list[OutboxItem]:
    with unit_of_work(runtime.sessions) as session:
        return list_items(session, reference=reference, limit=1000)


def _wait_until_done(runtime: Runtime, reference: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i.state in ("sent", "failed", "cancelled") for i in _items(runtime, reference)):
            return
        time.sleep(0.5)
    raise AssertionError(f"not done in {timeout}s: {Counter(i.state for i in _items(runtime, reference))}")


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, check=False)


ACCREDITED = ["gov.uk", "nhs.net", "police.uk", "cjsm.net", "nhs.example.uk", "police.example.uk"]
WITHOUT_CERTIFICATE = {"rachel-moore", "claire-dunn", "ewa-nowak"}  # police, health visiting, advocacy


def _config(tmp_path: Path, notify: Any) -> Path:
    """The shipped configuration with the demo's accredited domains, texts through Notify's stand-in
    and letters in a print batch."""
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    (folder / "notify.toml").write_text(
        f'[transport]\nbackend = "notify"\n\n[transport.notify]\napi_key_env = "DOCGEN_TEST_NOTIFY_KEY"\n'
        f'base_url = "{notify.base_url}"\nsms_template_id = "{notify.sms_template.id}"\n', encoding="utf-8")
    (folder / "delivery.toml").write_text(
        f"[routes]\naccredited_domains = {json.dumps(ACCREDITED)}\n\n[channels]\nsms = \"notify:notify.toml\"\n"
        f'letter = "print-batch:{tmp_path / "post"}"\n', encoding="utf-8")
    return folder


@pytest.mark.slow
def test_the_scheduler_sends_every_copy_by_its_route_once_through_a_kill(
        runtime: Runtime, database_url: str, smtp_server: Any, fake_notify: Any, example_pki: DemoPki,
        tmp_path: Path, portal_secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store, transport_config = smtp_server
    reference, _ = import_case_file(runtime, EXAMPLE, actor="test")
    case = stored_case(runtime, reference)
    pki = example_pki  # the scheduler signs with its identity; the professionals hold its certificates
    for person in case["professionals"]:
        if person["id"] not in WITHOUT_CERTIFICATE:
            import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                               ca_certificates=[pki.ca.certificate])
    for person in ("karim", "lena", "zofia"):
        review_and_approve(runtime, reference, person, chair=case["conference"]["chair"])
    rules = load_rules(DEFAULT_CONFIG_DIR / "circulation.toml")
    with unit_of_work(runtime.sessions) as session:
        schedule_conference(session, case, rules, now=runtime.clock(), envelope_from=SENDER)
    planned = _items(runtime, reference)
    assert len(planned) > 40 and all(i.state == "ready" for i in planned)

    config = _config(tmp_path, fake_notify)
    env = {"DOCGEN_CONFIG_DIR": str(config), "DOCGEN_TEST_NOTIFY_KEY": fake_notify.api_key,
           "DOCGEN_PORTAL_SECRET": portal_secret}
    log = tmp_path / "scheduler.log"
    options = ("--lease", "3", "--batch-size", "5", "--envelope-from", SENDER)
    process = start_scheduler(database_url, transport_config, log, *options, pki=pki, env=env)
    deadline = time.monotonic() + 120
    while len(store.mailbox) < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert started_lines(log) == 1 and len(store.mailbox) >= 5, log.read_text(errors="replace")[-3000:]
    process = start_scheduler(database_url, transport_config, log, *options, pki=pki, env=env)
    try:
        _wait_until_done(runtime, reference, timeout=300)
    finally:  # never leave a scheduler running after the test, whatever happened
        stop(process, log)

    items = _items(runtime, reference)
    assert [(i.copy, i.recipient, i.last_error) for i in items if i.state != "sent"] == []
    emailed = {i.message_id: i for i in items if i.recipient_address}
    by_hand = [i for i in items if not i.recipient_address]
    assert {i.recipient for i in by_hand} == {"lena"}
    # Each emailed copy is in the mailbox once, under its item's Message-ID; a repeat only for the kill.
    assert set(store.mailbox) == set(emailed)
    assert len(store.transactions) - len(set(store.transactions)) <= 1
    with unit_of_work(runtime.sessions) as session:
        records = {r.idempotency_key: r for r in session.scalars(select(DeliveryRecord))}
        released = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "sent")))
        published = {d.message_token: d for d in session.scalars(select(PortalDocument))}
    assert set(records) == {i.idempotency_key for i in items} and len(released) == len(items)

    routes = {item.recipient: records[item.idempotency_key].channel for item in items}
    assert routes == {
        "karim": "portal", "zofia": "portal", "lena": "hand",  # the family: the portal, and the child by hand
        "rachel-moore": "secure_email", "claire-dunn": "secure_email",  # accredited domains, no certificate
        "ewa-nowak": "portal",  # no certificate, not an accredited domain
        "david-pryce": "smime", "hannah-okafor": "smime", "marta-kowalczyk": "smime", "sanjay-mehta": "smime",
        "joanna-baker": "smime", "tom-richardson": "smime"}  # a certificate wins, accredited domain or not

    agencies_opened = set()
    for message_id, item in emailed.items():
        record = records[item.idempotency_key]
        message = tmp_path / "message.eml"
        message.write_bytes(store.mailbox[message_id])
        parsed = message_from_bytes(store.mailbox[message_id], policy=email_policy.default)
        if record.channel == "smime":
            if item.recipient in agencies_opened:
                continue  # one message per agency is enough to show the tools open it
            agencies_opened.add(item.recipient)
            issued = pki.recipients[item.recipient_address or ""]
            signed, mime = tmp_path / "signed.eml", tmp_path / "document.mime"
            assert _run("openssl", "cms", "-decrypt", "-in", str(message), "-recip", str(issued.cert_path),
                        "-inkey", str(issued.key_path), "-out", str(signed)).returncode == 0
            verified = _run("openssl", "cms", "-verify", "-in", str(signed), "-CAfile", str(pki.ca.cert_path),
                            "-out", str(mime))
            assert b"Verification successful" in verified.stderr, verified.stderr
            document = message_from_bytes(mime.read_bytes(), policy=email_policy.default).get_payload(decode=True)
            assert hashlib.sha256(document).hexdigest() == record.plaintext_sha256
        elif record.channel == "secure_email":
            # Only ever to an accredited domain, marked, the document attached as sent.
            assert all(is_accredited(address, tuple(ACCREDITED)) for address in store.envelopes[message_id])
            assert parsed["X-Protective-Marking"] == "OFFICIAL-SENSITIVE"
            pdf = next(part for part in parsed.iter_attachments()).get_payload(decode=True)
            assert hashlib.sha256(pdf).hexdigest() == record.plaintext_sha256
        else:
            assert record.channel == "portal" and not list(parsed.iter_attachments())
            assert "/portal/" in parsed.get_content()
            document = published[message_token(item.message_id)]
            assert document.published_at is not None and document.plaintext_sha256 == record.plaintext_sha256
    assert len(agencies_opened) >= 5
    # Nothing went by secure email to an address outside the list.
    assert not [i for i in items if records[i.idempotency_key].channel == "secure_email"
                and not is_accredited(i.recipient_address, tuple(ACCREDITED))]

    delivery = transport_config.parent / "delivery"
    for item in by_hand:
        pdf = (delivery / "for-hand-delivery" / f"{message_token(item.message_id)}.pdf").read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == records[item.idempotency_key].ciphertext_sha256
        _opens_with_its_letter(pdf, _letter_of(delivery, item), tmp_path)
    # The child's passphrase letter is kept for the social worker; once all the child's copies have
    # gone, the passphrase is no longer kept.
    assert list((delivery / "passphrases").glob("*.json")) == []

    # One link per person per conference: the father's emails all carry the same link; opening it
    # sends the code by text message through GOV.UK Notify.
    links = {re.search(r"https?://\S+/portal/\S+", message_from_bytes(store.mailbox[i.message_id],
                                                                     policy=email_policy.default).get_content())[0]
             for i in items if i.recipient == "karim"}
    assert len(links) == 1
    token = links.pop().rsplit("/", 1)[1]
    monkeypatch.setenv("DOCGEN_TEST_NOTIFY_KEY", fake_notify.api_key)
    sender = code_sender(load_delivery_settings(config), sender=SENDER)
    send_code(runtime, token, sender, load_web_settings(config))
    [text] = fake_notify.texts_to("07700 900733")
    assert re.search(r"\b\d{6}\b", text)


def _letter_of(delivery: Path, item: OutboxItem) -> Path:
    built = json.loads((delivery / "outgoing" / f"{message_token(item.message_id)}.json").read_text(encoding="utf-8"))
    return delivery / "letters" / f"{built['letter']}.pdf"


def _opens_with_its_letter(pdf: bytes, letter: Path, folder: Path) -> None:
    text = subprocess.run(["pdftotext", str(letter), "-"], check=True, capture_output=True, text=True).stdout
    passphrase = re.search(r"\b[a-z0-9]{4}(?:-[a-z0-9]{4}){4}\b", text)
    assert passphrase, letter
    source, opened = folder / "protected.pdf", folder / "opened.pdf"
    source.write_bytes(pdf)
    assert _run("qpdf", "--decrypt", str(source), str(opened)).returncode != 0
    assert _run("qpdf", f"--password={passphrase[0]}", "--decrypt", str(source), str(opened)).returncode == 0
