"""The scheduler's message builder: the chair's gate, the route the policy gives each recipient (checked
before rendering), and a message built once, so a send repeated after a crash is the same message
with the same passphrase or the same portal document."""

from __future__ import annotations

import copy
import io
import re
import subprocess
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from sqlalchemy import delete, select

from distribution.abc import Delivery
from distribution.demo_pki import DemoPki
from distribution.keys import load_signing_identity
from distribution.wording import wording
from docgen.adapters.case_store import save_case
from docgen.adapters.casefile import validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_directory import DeliveryRecord
from docgen.adapters.orm_portal import PortalDocument
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.domain.outbox import OutboxItem
from docgen.domain.routes import RoutePolicy
from docgen.errors import ApprovalError, NoRouteError
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.directory import import_certificate
from docgen.services.dispatch import cancel_item
from docgen.services.importing import import_case_file, stored_case
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference
from tests.support.chair import review_and_approve
from tests.support.pki import SIGNING_PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "haddad-wisniewska.yaml"


def _schedule(runtime: Runtime, case: dict[str, Any]) -> dict[tuple[str, str], OutboxItem]:
    with unit_of_work(runtime.sessions) as session:
        result = schedule_conference(session, case, load_rules(DEFAULT_CONFIG_DIR / "circulation.toml"),
                                     now=runtime.clock(), envelope_from=runtime.settings.authority.email)
    return {(i.copy, i.recipient): i for i in result.items}


def _without_contact(runtime: Runtime, case: dict[str, Any], person: str) -> dict[str, Any]:
    """The case saved again with ``person`` having no email address and no phone number."""
    changed = copy.deepcopy(case)
    for member in changed["family"]:
        if member["id"] == person:
            member.pop("email", None)
            member.pop("phone", None)
    with unit_of_work(runtime.sessions) as session:
        save_case(session, validate_case(changed, source="test"), saved_by="test", source_sha256="2" * 64,
                  now=runtime.clock().replace(tzinfo=None), replace=True)
    return stored_case(runtime, case["reference"])


@pytest.fixture
def setup(runtime: Runtime, tmp_path: Path, example_pki: DemoPki, portal_secret: str, request: pytest.FixtureRequest,
          ) -> tuple[DocumentMessages, dict[str, Any], dict[tuple[str, str], OutboxItem]]:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="test")
    case = stored_case(runtime, reference)
    without = request.node.get_closest_marker("without_contact")
    if without:  # a parent with neither email nor phone: documents by hand, the passphrase by post
        case = _without_contact(runtime, case, without.args[0])
    pki = example_pki
    for person in case["professionals"]:
        if person["id"] != "rachel-moore":  # the police officer's certificate is missing
            import_certificate(runtime, person["id"], pki.recipients[person["email"]].cert_path,
                               ca_certificates=[pki.ca.certificate])
    messages = DocumentMessages(DeliveryContext(
        runtime=runtime, signer=load_signing_identity(pki.signing_p12_path, prompt=lambda _: SIGNING_PASSPHRASE),
        archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate], folder=tmp_path / "delivery",
        sender_address=runtime.settings.authority.email, sms=True, portal_url="https://docs.northmoor.example"))
    return messages, case, _schedule(runtime, case)


def _portal_documents(runtime: Runtime) -> list[PortalDocument]:
    with unit_of_work(runtime.sessions) as session:
        return list(session.scalars(select(PortalDocument)))


def test_a_family_copy_waits_for_the_chair_and_is_built_once(setup, runtime: Runtime, tmp_path: Path) -> None:
    messages, case, items = setup
    item = items[("conference_record--family-zofia", "zofia")]
    with pytest.raises(ApprovalError, match="not approved"):
        messages.approval_gate(item)
    review_and_approve(runtime, case["reference"], "zofia", chair=case["conference"]["chair"])
    messages.approval_gate(item)
    first = messages.build(item)
    again = messages.build(item)
    # Her copy goes to the portal, announced by email (the code will go by text message).
    assert first == again and first.carrier == "email" and first.recipients == ("zofia.w@example.org",)
    assert item.message_id in first.message.decode("ascii", "replace")
    body = message_from_bytes(first.message, policy=email_policy.default)
    assert not list(body.iter_attachments()) and "https://docs.northmoor.example/portal/" in body.get_content()
    [published] = _portal_documents(runtime)
    assert published.published_at is None  # visible only once the item is marked sent
    assert list((tmp_path / "delivery" / "letters").glob("*.pdf")) == []

    # The record is corrected after the approval: the copy is rendered again and refused.
    changed = copy.deepcopy(case)
    changed["record"]["sections"][0]["items"][0]["text"] += " Corrected after the conference."
    with unit_of_work(runtime.sessions) as session:
        save_case(session, validate_case(changed, source="test"), saved_by="test", source_sha256="1" * 64,
                  now=runtime.clock().replace(tzinfo=None), replace=True)
    with pytest.raises(ApprovalError, match="earlier content"):
        messages.approval_gate(item)
    with pytest.raises(ApprovalError):
        messages.build(item)


def test_an_agency_copy_without_a_certificate_goes_by_the_next_route_the_policy_allows(setup) -> None:
    messages, _, items = setup
    item = items[("conference_record--professional", "rachel-moore")]  # no certificate on file
    # police.example.uk is not accredited: a portal link, the code by email (no phone is known).
    portal = messages.build(item)
    assert portal.carrier == "email" and b"/portal/" in portal.message
    # Once the authority lists the domain: secure email, the record attached and marked.
    messages.context.routes = RoutePolicy(accredited_domains=("police.example.uk",))
    other = items[("decisions_notice--professional", "rachel-moore")]
    secure = messages.build(other)
    assert (secure.carrier, secure.recipients) == ("secure_email", ("rachel.moore@police.example.uk",))
    message = message_from_bytes(secure.message, policy=email_policy.default)
    assert message["X-Protective-Marking"] == "OFFICIAL-SENSITIVE"
    assert str(message["Subject"]).startswith("OFFICIAL-SENSITIVE: ")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "decisions.pdf" and attachment.get_payload(decode=True).startswith(b"%PDF")


def test_no_route_holds_the_copy_before_anything_is_rendered(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    messages, _, items = setup
    item = items[("conference_record--professional", "rachel-moore")]
    import docgen.services.delivery as delivery

    def no_rendering(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered before the route was known")

    monkeypatch.setattr(delivery, "recipient_copy", no_rendering)
    messages.context.routes = RoutePolicy(portal=False)
    with pytest.raises(NoRouteError, match="no certificate in the directory") as held:
        messages.build(item)
    assert "not at an accredited domain" in str(held.value) and "portal is turned off" in str(held.value)


def _letter_text(letter: Path) -> str:
    return subprocess.run(["pdftotext", str(letter), "-"], check=True, capture_output=True,
                          text=True).stdout


def _as_the_letter_says(printed: str) -> str:
    """What a person types after reading the letter: the passphrase as printed, "Do not type any
    spaces", and "small letters" (no capital letters in it)."""
    return printed.replace(" ", "").lower()


@pytest.mark.without_contact("zofia")
def test_a_parent_who_follows_the_letter_opens_every_document_with_one_passphrase(
        setup, runtime: Runtime, tmp_path: Path) -> None:
    messages, case, items = setup
    review_and_approve(runtime, case["reference"], "zofia", chair=case["conference"]["chair"])
    hers = [item for (_, recipient), item in items.items() if recipient == "zofia" and item.family_copy]
    assert len(hers) >= 2
    attachments = []
    for item in hers:
        built = messages.build(item)
        assert built.carrier == "hand"
        message = message_from_bytes(built.message, policy=email_policy.default)
        # What mail systems see: nothing of the conference, the family or the copy's reader.
        assert str(message["Subject"]).strip().startswith("OFFICIAL-SENSITIVE: Child protection conference: ")
        headers = "".join(f"{name}: {value}\n" for name, value in message.items() if name != "To")
        for secret in (case["reference"], "Zofia", "zofia", "Wi\u015bniewska", item.idempotency_key[4:20]):
            assert secret not in headers
        [attachment] = list(message.iter_attachments())
        assert re.fullmatch(r"[a-z-]+\.pdf", attachment.get_filename() or "")
        attachments.append(attachment.get_payload(decode=True))
    letters = list((tmp_path / "delivery" / "letters").glob("*.pdf"))
    assert len(letters) == 1  # one letter, one passphrase for all her documents
    text = " ".join(_letter_text(letters[0]).split())
    printed = text.split("This one passphrase opens all of them:")[1].split("It opens these documents:")[0].strip()
    assert "Capital letters and small letters are the same" not in text
    assert "Do not type any spaces" in text and "There are no capital letters in it" in text
    for word in {wording(item.document).words for item in hers}:
        assert f"the {word}" in text  # the letter says which documents it opens
    typed = _as_the_letter_says(printed)
    for pdf in attachments:
        with pytest.raises(pikepdf.PasswordError):
            pikepdf.open(io.BytesIO(pdf))
        with pikepdf.open(io.BytesIO(pdf), password=typed) as opened:
            assert len(opened.pages) >= 1
        # The same in qpdf, the command-line tool a recipient might use.
        path = tmp_path / "copy.pdf"
        path.write_bytes(pdf)
        assert subprocess.run(["qpdf", f"--password={typed}", "--decrypt", str(path), str(tmp_path / "open.pdf")],
                              capture_output=True).returncode == 0


def test_an_agency_message_shows_mail_systems_only_plain_words(setup) -> None:
    messages, case, items = setup
    item = items[("conference_record--professional", "claire-dunn")]
    message = message_from_bytes(messages.build(item).message, policy=email_policy.default)
    assert message["Subject"] == "OFFICIAL-SENSITIVE: Child protection conference: record"
    assert message["Message-ID"] == item.message_id and case["reference"] not in message.as_string()
    assert re.fullmatch(r"<[0-9a-f]{32}@[^>]+>", item.message_id)


@pytest.mark.without_contact("zofia")
def test_the_passphrase_is_kept_until_the_persons_last_document_has_gone(setup, runtime: Runtime,
                                                                         tmp_path: Path) -> None:
    messages, case, items = setup
    review_and_approve(runtime, case["reference"], "zofia", chair=case["conference"]["chair"])
    first, *others = [item for (_, recipient), item in items.items() if recipient == "zofia" and item.family_copy]
    kept = tmp_path / "delivery" / "passphrases"
    messages.build(first)

    def sent(item: OutboxItem) -> None:
        delivery = Delivery(item.message_id, "recording", runtime.clock(), "token", "250 OK")
        with unit_of_work(runtime.sessions) as session:
            messages.record_sent(session, item, delivery)

    sent(first)
    assert len(list(kept.glob("*.json"))) == 1  # her other documents still need it
    for other in others:
        cancel_item(runtime.sessions, other.id, reason="handed over", now=runtime.clock())
    with unit_of_work(runtime.sessions) as session:  # as if the first record had not been written yet
        session.execute(delete(DeliveryRecord))
    sent(first)
    assert list(kept.glob("*.json")) == []  # nothing more is to go with it


@pytest.mark.without_contact("zofia")
def test_a_passphrase_letter_goes_to_the_post_room_once_with_the_address_in_the_window(
        setup, runtime: Runtime, tmp_path: Path) -> None:
    from distribution.transports.print_batch import PrintBatchTransport

    messages, case, items = setup
    post = PrintBatchTransport(tmp_path / "post")
    messages.context.letters = post
    review_and_approve(runtime, case["reference"], "zofia", chair=case["conference"]["chair"])
    hers = [item for (_, recipient), item in items.items() if recipient == "zofia" and item.family_copy]
    for item in [*hers, hers[0]]:  # every copy, and the first built again as after a crash
        assert messages.build(item).carrier == "hand"
    [row] = post.manifest()  # one letter for all her documents, in the print batch
    assert set(row) == {"file", "pages", "added"} and "zofia" not in str(row).lower()
    letter = tmp_path / "post" / row["file"]
    text = " ".join(_letter_text(letter).split())
    assert "Zofia Wiśniewska Flat 3 27 Linden Court Northmoor NM4 6QT" in text
    assert list((tmp_path / "delivery" / "letters").glob("*.pdf")) == []  # no copy kept beside the batch


def test_a_copy_sent_days_after_the_pack_is_the_packs_copy_dated_the_day_its_content_was_saved(
        setup, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every copy of a version of the content is dated the day it was saved, so the copy the pack
    made is the copy sent on a later day: stamped with that day, never laid out again."""
    from datetime import timedelta

    from docgen.adapters.copy_store import CopyStore
    from docgen.services import copies, delivery
    from docgen.services.jobs import run_one
    from docgen.services.pack_jobs import PACK, pack_handler, request_pack
    from tests.conftest import RUNTIME_NOW

    messages, case, items = setup
    runtime.copies = CopyStore(tmp_path / "store")
    request_pack(runtime, case["reference"], actor="business-support", formats=("pdf",))
    assert run_one(runtime, {PACK: pack_handler(tmp_path / "data", workers=1)}, "test-worker",
                   lease=timedelta(minutes=5))

    later = RUNTIME_NOW + timedelta(days=3)
    runtime.clock = lambda: later  # type: ignore[method-assign]

    def no_layout(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("laid out again")

    monkeypatch.setattr(copies, "make_copy", no_layout)
    sent: list[bytes] = []
    real = delivery.recipient_copy

    def keeping(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        sent.append(made.data)
        return made

    monkeypatch.setattr(delivery, "recipient_copy", keeping)
    item = next(i for (copy_name, recipient), i in items.items()
                if copy_name == "conference_record--professional" and recipient != "rachel-moore")
    messages.build(item)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=sent[0], capture_output=True, check=True).stdout
    text = re.sub(r"\s+", " ", text.decode("utf-8"))
    [packed] = (tmp_path / "data").rglob("conference_record--professional.pdf")
    assert sent[0].startswith(packed.read_bytes()) and len(sent[0]) > packed.stat().st_size  # the pack's, stamped
    assert "Copy for: " in text and "23 November 2026" in text  # the day it was sent, in the stamp


@pytest.mark.without_contact("zofia")
def test_a_passphrase_letter_whose_address_would_not_fit_the_window_holds_her_documents(
        setup, runtime: Runtime, tmp_path: Path) -> None:
    """Lines past the envelope's window would be cut off, the postcode first: nothing is posted or
    handed over until the address is shortened, and the reason says so."""
    from docgen.errors import HeldError

    messages, case, items = setup
    changed = copy.deepcopy(case)
    member = next(m for m in changed["family"] if m["id"] == "zofia")
    member["address"] = {"lines": ["Flat 4", "Rose Court", "12 Long Lane", "Upper Marsh", "Northmoor Estate",
                                   "Northmoor", "West Riding"], "postcode": "NM1 2AB"}
    with unit_of_work(runtime.sessions) as session:
        save_case(session, validate_case(changed, source="test"), saved_by="test", source_sha256="3" * 64,
                  now=runtime.clock().replace(tzinfo=None), replace=True)
    review_and_approve(runtime, case["reference"], "zofia", chair=case["conference"]["chair"])
    item = items[("conference_record--family-zofia", "zofia")]
    with pytest.raises(HeldError, match="has 8 lines with its postcode") as held:
        messages.build(item)
    assert "Rose Court" not in str(held.value) and "NM1" not in str(held.value)
    assert not list((tmp_path / "delivery" / "letters").glob("*"))
