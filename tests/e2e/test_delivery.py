"""Secure distribution as recipients meet it: the demo's scheduler sends every copy in its window by
every route; agencies open their S/MIME messages with the openssl command line, secure email goes
only to accredited domains, parents get portal links and one parent opens his with the code from a
text message, the child's protected PDFs open with qpdf and the passphrase, and a recipient whose
certificate fails a check and whom no other route serves gets nothing, with nothing unprotected left
anywhere."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select

from distribution.demo_pki import create_demo_pki, make_expired_certificate
from distribution.keys import load_signing_identity
from distribution.transports import HandDeliveryTransport, OutboxFolderTransport
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.domain.outbox import message_token
from docgen.domain.routes import is_accredited
from docgen.entrypoints.demo import DEMO_ACCREDITED, run_demo
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.directory import import_certificate
from docgen.services.dispatch import Dispatcher, DispatchPolicy, cancel_item, list_items
from docgen.services.importing import import_case_file, stored_case
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference
from tests.support.chair import review_and_approve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / "haddad-wisniewska.yaml", ROOT / "examples" / "haddad-wisniewska-review.yaml"]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", EXAMPLES)


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, check=False)


def test_every_agency_message_opens_with_openssl_and_matches_the_manifest(demo) -> None:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    agency = [d for d in deliveries if d["channel"] == "smime"]
    assert len(agency) >= 20 and all(d["status"] == "sent" for d in agency)
    keys = demo.folder / "keys"
    ca = keys / "authority-ca.pem"
    work = demo.folder / "opened"
    work.mkdir()
    for delivery in agency:
        stem = re.sub(r"[^a-z0-9]+", "-", delivery["address"].lower()).strip("-")
        message = demo.folder / "outbox" / f"{delivery['key']}.eml"
        signed, mime = work / f"{delivery['key']}.signed", work / f"{delivery['key']}.mime"
        decrypted = _run("openssl", "cms", "-decrypt", "-in", str(message), "-recip", str(keys / f"{stem}.cert.pem"),
                         "-inkey", str(keys / f"{stem}.key.pem"), "-out", str(signed))
        assert decrypted.returncode == 0, decrypted.stderr
        verified = _run("openssl", "cms", "-verify", "-in", str(signed), "-CAfile", str(ca), "-out", str(mime))
        assert verified.returncode == 0 and b"Verification successful" in verified.stderr, verified.stderr
        part = message_from_bytes(mime.read_bytes(), policy=policy.default)
        document = part.get_payload(decode=True)
        assert hashlib.sha256(document).hexdigest() == delivery["plaintext_sha256"], delivery["document"]
        assert document.startswith(b"%PDF")


def test_the_demo_scheduler_sends_every_copy_once_inside_its_window(demo) -> None:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    assert len(deliveries) > 80 and len({d["key"] for d in deliveries}) == len(deliveries)
    assert [d["document"] for d in deliveries if d["status"] != "sent" or d["working_days_late"]] == []
    for d in deliveries:
        sent = datetime.fromisoformat(d["sent_at"])
        assert d["earliest"] is None or datetime.fromisoformat(d["earliest"]) <= sent, d
        assert d["latest"] is None or sent <= datetime.fromisoformat(d["latest"]), d
    by_hand = [d for d in deliveries if d["transport"] == "hand_delivery"]
    assert by_hand and all(d["address"] is None and d["channel"] == "hand" for d in by_hand)
    assert {d["channel"] for d in deliveries} == {"smime", "secure_email", "portal", "hand"}
    assert demo.routes == {"secure email (accredited domain)": 52, "portal link": 27, "encrypted email (S/MIME)": 24,
                           "by hand, passphrase by post": 4}


def test_secure_email_went_only_to_accredited_domains_and_families_only_to_the_portal(demo) -> None:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    secure = [d for d in deliveries if d["channel"] == "secure_email"]
    assert secure and all(is_accredited(d["address"], DEMO_ACCREDITED) for d in secure)
    assert {d["recipient"] for d in deliveries if d["recipient"] in ("karim", "zofia")} == {"karim", "zofia"}
    assert {d["channel"] for d in deliveries if d["recipient"] in ("karim", "zofia")} == {"portal"}
    for delivery in secure:
        message = message_from_bytes((demo.folder / "outbox" / f"{delivery['key']}.eml").read_bytes(),
                                     policy=policy.default)
        assert message["X-Protective-Marking"] == "OFFICIAL-SENSITIVE"
    # The advocate (not an accredited domain, no certificate) also gets portal links.
    assert {d["channel"] for d in deliveries if d["recipient"] == "ewa-nowak"} == {"portal"}


def test_a_parent_opens_his_portal_link_with_the_code_from_a_text_message(demo) -> None:
    assert demo.parent is not None and "/portal/" in demo.parent.link
    assert re.search(r"\b\d{6}\b", demo.parent.text_message) and demo.parent.documents


def test_an_agency_message_does_not_open_with_another_agencys_key(demo) -> None:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    one = next(d for d in deliveries if d["channel"] == "smime" and d["recipient"] == "joanna-baker")
    other = demo.folder / "keys" / "claire-dunn-nhs-example-uk"
    result = _run("openssl", "cms", "-decrypt", "-in", str(demo.folder / "outbox" / f"{one['key']}.eml"),
                  "-recip", f"{other}.cert.pem", "-inkey", f"{other}.key.pem", "-out", "/dev/null")
    assert result.returncode != 0


def _protected_pdfs(demo) -> list[tuple[dict, bytes, str]]:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    found = []
    for delivery in deliveries:
        if delivery["channel"] != "hand":
            continue
        letter = demo.folder / "delivery" / "letters" / f"{delivery['letter']}.pdf"
        text = subprocess.run(["pdftotext", str(letter), "-"], check=True, capture_output=True, text=True).stdout
        passphrase = re.search(r"\b[a-z0-9]{4}(?:-[a-z0-9]{4}){4}\b", text)
        assert passphrase, letter
        if delivery["address"]:
            message = message_from_bytes((demo.folder / "outbox" / f"{delivery['key']}.eml").read_bytes(), policy=policy.default)
            assert passphrase[0] not in message.as_string()  # never in the same message as the document
            pdf = next(part for part in message.iter_attachments()).get_payload(decode=True)
        else:
            pdf = (demo.folder / "delivery" / "for-hand-delivery" / f"{delivery['key']}.pdf").read_bytes()
        found.append((delivery, pdf, passphrase[0]))
    return found


def test_family_pdfs_open_with_their_passphrase_only_and_use_aes_256(demo, tmp_path: Path) -> None:
    copies = _protected_pdfs(demo)
    assert len(copies) >= 3
    # One passphrase and one letter for each person in each conference, whatever the number of documents.
    by_person: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for delivery, _, passphrase in copies:
        by_person.setdefault((delivery["conference"], delivery["recipient"]), set()).add((delivery["letter"], passphrase))
    assert all(len(found) == 1 for found in by_person.values()), by_person
    assert len(list((demo.folder / "delivery" / "letters").glob("*.pdf"))) == len(by_person) < len(copies)
    for delivery, pdf, passphrase in copies:
        source, opened = tmp_path / "in.pdf", tmp_path / "out.pdf"
        source.write_bytes(pdf)
        assert _run("qpdf", "--decrypt", str(source), str(opened)).returncode != 0
        shown = _run("qpdf", "--show-encryption", f"--password={passphrase}", str(source))
        assert b"R = 6" in shown.stdout and b"AESv3" in shown.stdout, shown.stdout
        assert _run("qpdf", f"--password={passphrase}", "--decrypt", str(source), str(opened)).returncode == 0
        assert hashlib.sha256(opened.read_bytes()).hexdigest() != delivery["ciphertext_sha256"]
        text = subprocess.run(["pdftotext", str(opened), "-"], check=True, capture_output=True, text=True).stdout
        assert f"Copy for: {delivery['name']}" in text


def _pdfs_in_clear(folder: Path, *, by_secure_email: frozenset[str] = frozenset()) -> list[Path]:
    """Every file under ``folder`` that is an unencrypted PDF, other than passphrase letters and the
    messages that went by secure email (``by_secure_email``: their file names' stems), whose protection
    is TLS to an accredited domain."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or "letters" in path.parts or path.stem in by_secure_email:
            continue
        data = path.read_bytes()
        if data.startswith(b"%PDF"):
            if not _encrypted(path):
                found.append(path)
        elif path.suffix == ".eml":
            message = message_from_bytes(data, policy=policy.default)
            for part in message.walk():
                if part.get_content_type() == "application/pdf":
                    payload = part.get_payload(decode=True)
                    if not _encrypted_bytes(payload):
                        found.append(path)
    return found


def _encrypted(path: Path) -> bool:
    return _encrypted_bytes(path.read_bytes())


def _encrypted_bytes(data: bytes) -> bool:
    import io

    try:
        pikepdf.open(io.BytesIO(data)).close()
        return False
    except pikepdf.PasswordError:
        return True


def test_the_demo_writes_no_document_in_clear_outside_the_pack(demo) -> None:
    deliveries = json.loads((demo.folder / "deliveries.json").read_text(encoding="utf-8"))
    secure = frozenset(d["key"] for d in deliveries if d["channel"] == "secure_email")
    # The pack and the copy store it is made from (as confidential as the database) are the only places
    # a document is kept in clear.
    outside_pack = [p for p in _pdfs_in_clear(demo.folder, by_secure_email=secure)
                    if p.relative_to(demo.folder).parts[0] not in ("pack", "copies")]
    assert outside_pack == []


@pytest.mark.parametrize("problem", ["expired", "wrong-email"])
def test_a_certificate_failing_its_check_before_sending_stops_that_recipient(runtime: Runtime, tmp_path: Path, problem: str) -> None:
    now = runtime.clock()
    reference, _ = import_case_file(runtime, EXAMPLES[0], actor="test")
    case = stored_case(runtime, reference)
    pki = create_demo_pki(tmp_path / "keys", at=now - timedelta(days=100), signing_passphrase="demo passphrase 1",
                          authority_email=runtime.settings.authority.email,
                          recipients=[(p["name"], p["email"]) for p in case["professionals"]])
    for person in case["professionals"]:
        if problem == "expired" and person["id"] == "rachel-moore":
            continue
        import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path, ca_certificates=[pki.ca.certificate])
    police = next(p for p in case["professionals"] if p["id"] == "rachel-moore")
    if problem == "expired":
        # valid when imported, expired by the time of sending
        (tmp_path / "bad").mkdir()
        short = make_expired_certificate(pki.ca, tmp_path / "bad", name=police["name"], email=police["email"], at=now + timedelta(days=2))
        later = now + timedelta(days=10)
        import_certificate(Runtime(runtime.settings, runtime.engine, runtime.sessions, lambda: now - timedelta(days=50)),
                           "rachel-moore", short.cert_path, ca_certificates=[pki.ca.certificate])
        sending = Runtime(runtime.settings, runtime.engine, runtime.sessions, lambda: later)
        expected = "expired"
    else:
        from docgen.adapters.orm import Professional

        with unit_of_work(runtime.sessions) as session:
            session.scalar(select(Professional).where(Professional.key == "rachel-moore")).email = "someone.else@police.example.uk"
        sending = runtime
        expected = "someone.else@police.example.uk"
    for person in sorted({m["id"] for m in case["family"]}):
        review_and_approve(sending, reference, person, chair=case["conference"]["chair"])
    rules = load_rules(DEFAULT_CONFIG_DIR / "circulation.toml")
    sender = runtime.settings.authority.email
    with unit_of_work(runtime.sessions) as session:
        for item in schedule_conference(session, case, rules, now=sending.clock(), envelope_from=sender).items:
            if item.document != "decisions_notice" and item.state not in ("sent", "cancelled"):
                cancel_item(session, item.id, reason="not part of this test", now=sending.clock())
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    messages = DocumentMessages(DeliveryContext(
        runtime=sending, signer=load_signing_identity(pki.signing_p12_path, prompt=lambda _: "demo passphrase 1"),
        archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate], folder=tmp_path / "delivery",
        sender_address=sender))
    dispatcher = Dispatcher(
        runtime.sessions, OutboxFolderTransport(outbox), build_message=messages.build,
        approval_gate=messages.approval_gate, on_sent=messages.record_sent,
        hand_delivery=HandDeliveryTransport(tmp_path / "delivery" / "for-hand-delivery"), clock=sending.clock,
        policy=DispatchPolicy(envelope_from=sender, calendar=rules.calendar, zone=rules.zone))
    report = dispatcher.drain()
    with unit_of_work(runtime.sessions) as session:
        items = [i for i in list_items(session, reference=reference) if i.document == "decisions_notice"]
        records = {r.idempotency_key for r in session.scalars(select(DeliveryRecord))}
    # Her certificate fails; her address is not at an accredited domain and no portal is set up here:
    # no route serves her, so her copy is held with the reasons, never sent another way.
    # (The parents' copies are held too: no portal is set up here, and a parent's copy is never attached.)
    failed = [i for i in items if i.state == "waiting_for_approval" and not i.family_copy]
    assert [i.recipient for i in failed] == ["rachel-moore"] and report.failed == 0
    reason = failed[0].hold_reason or ""
    assert expected in reason and "nothing was sent" in reason and "no delivery route" in reason
    sent = {i.recipient for i in items if i.state == "sent"}
    assert "hannah-okafor" in sent and {i.idempotency_key for i in items if i.state == "sent"} == records
    assert not (outbox / f"{message_token(failed[0].message_id)}.eml").exists()
    assert not list((tmp_path / "delivery").rglob(f"{message_token(failed[0].message_id)}*"))
    assert _pdfs_in_clear(tmp_path) == []
