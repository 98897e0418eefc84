"""The recipient portal under test: a portal key made up per test, a code sender that keeps what it
would have sent (the lead swaps in the GOV.UK Notify fake), and publishing a document as the
dispatcher does (``publish`` then ``confirm_published``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.database import unit_of_work
from docgen.adapters.portal_crypto import SECRET_VARIABLE
from docgen.bootstrap import code_sender
from docgen.configuration.delivery import ChannelsSettings, DeliverySettings
from docgen.domain.portal import document_words
from docgen.entrypoints.demo_notify import FakeNotify
from docgen.services.portal import Publication, confirm_published, publish
from docgen.services.runtime import Runtime

REFERENCE = "NM-ICPC-2026-0147"
BASE_URL = "https://docs.northmoor.example"
FATHER_PHONE = "07700 900733"
MOTHER_PHONE = "07700 900461"


@pytest.fixture
def portal_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """``DOCGEN_PORTAL_SECRET`` set to 32 random bytes in hex for this test."""
    secret = secrets.token_hex(32)
    monkeypatch.setenv(SECRET_VARIABLE, secret)
    return secret


@dataclass
class CapturedCodes:
    """A code sender that keeps each (channel, address, text, idempotency key) instead of sending it."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)

    def __call__(self, channel: str, address: str, text: str, idempotency_key: str) -> None:
        self.sent.append((channel, address, text, idempotency_key))

    def last_code(self) -> str:
        assert self.sent, "no code was sent"
        found = re.search(r"\b(\d{6})\b", self.sent[-1][2])
        assert found, f"no code in {self.sent[-1][2]!r}"
        return found.group(1)


class NotifyCodes(CapturedCodes):
    """The code sender ``docgen serve`` builds from delivery.toml (``bootstrap.code_sender``), its text
    messages and emails going through GOV.UK Notify's stand-in on loopback; ``sent`` keeps what was
    handed over, and ``last_code`` reads the code from what the phone or the mailbox received."""

    def __init__(self, notify: FakeNotify, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self.notify = notify
        config = folder / "notify.toml"
        config.write_text(
            f'[transport]\nbackend = "notify"\n\n[transport.notify]\napi_key_env = "DOCGEN_TEST_NOTIFY_KEY"\n'
            f'base_url = "{notify.base_url}"\nsms_template_id = "{notify.sms_template.id}"\n'
            f'email_template_id = "{notify.email_template.id}"\n', encoding="utf-8")
        monkeypatch.setenv("DOCGEN_TEST_NOTIFY_KEY", notify.api_key)
        channels = ChannelsSettings(sms=f"notify:{config}", email=f"notify:{config}")
        sender = code_sender(DeliverySettings(channels=channels), sender="cp.conferences@northmoor.gov.uk")
        assert sender is not None
        self.forward = sender

    def __call__(self, channel: str, address: str, text: str, idempotency_key: str) -> None:
        super().__call__(channel, address, text, idempotency_key)
        self.forward(channel, address, text, idempotency_key)

    def last_code(self) -> str:
        received = self.notify.sent()
        assert received, "GOV.UK Notify received no code"
        found = re.search(r"\b(\d{6})\b", received[-1].body)
        assert found, f"no code in {received[-1].body!r}"
        return found.group(1)


def tiny_pdf(text: str = "Copy for: Karim Haddad") -> bytes:
    """A small, valid one-page PDF holding ``text``, for tests that do not need the renderer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def publish_document(runtime: Runtime, *, message_token: str | None = None, recipient_key: str = "karim",
                     recipient_name: str = "Karim Haddad", kind: str = "conference_record", pdf: bytes | None = None,
                     outbox_item_id: int | None = None, reference: str = REFERENCE, code_channel: str = "sms",
                     code_address: str = FATHER_PHONE, announced_by: str = "email", confirm: bool = True,
                     now: datetime | None = None, lifetime: timedelta = timedelta(days=28),
                     base_url: str = BASE_URL) -> Publication:
    """What the dispatcher does for an item going to the portal: publish, then confirm once sent."""
    token = message_token or secrets.token_hex(16)
    words = document_words(kind)
    at = now or runtime.clock()
    publication = publish(
        runtime, reference=reference, recipient_key=recipient_key, recipient_name=recipient_name,
        message_token=token, outbox_item_id=outbox_item_id, document_kind=kind, title=words.title, note=words.note,
        filename=f"{kind.replace('_', '-')}.pdf", pdf=pdf if pdf is not None else tiny_pdf(), code_channel=code_channel,
        code_address=code_address, announced_by=announced_by, now=at, base_url=base_url, lifetime=lifetime)
    if confirm:
        with unit_of_work(runtime.sessions) as session:
            confirm_published(session, token, now=at)
    return publication


def family_copy(runtime: Runtime, person: str, kind: str, *, line: str) -> bytes:
    """The person's family copy of a document of the stored example, rendered (and leak-checked) as the
    dispatcher renders it, carrying ``line`` ("Copy for: ...")."""
    from docgen.domain.documents import plan_copies
    from docgen.domain.views import build_case_view
    from docgen.services.importing import stored_case
    from docgen.services.pack import render_copy

    case = stored_case(runtime, REFERENCE)
    spec = next(s for s in plan_copies(case) if s.kind.key == kind and s.audience.person == person)
    return render_copy(spec, build_case_view(case), runtime.settings, generated_on=runtime.clock().date(), fmt="pdf",
                       recipient_line=line).data


def token_of(publication: Publication) -> str:
    return publication.url.rsplit("/", 1)[1]


def send_by_the_portal(runtime: Runtime, pki: Any, folder: Path, *, base_url: str,
                       people: tuple[str, ...] = ("karim", "zofia"),
                       kinds: tuple[str, ...] = ("conference_record", "decisions_notice")) -> dict[str, set[str]]:
    """The stored example scheduled, the people's copies approved by the chair, and those of ``kinds``
    sent by the scheduler's dispatcher the way the policy sends a parent's copies: published to the
    portal, the link emailed (into ``folder/outbox``). Every other item is cancelled. Returns each
    person's links, read from the emails they received."""
    from email import message_from_bytes
    from email import policy as email_policy

    from distribution.keys import load_signing_identity
    from distribution.transports import HandDeliveryTransport, OutboxFolderTransport
    from docgen.configuration.circulation import load_rules
    from docgen.configuration.folder import config_file
    from docgen.services.delivery import DeliveryContext, DocumentMessages
    from docgen.services.dispatch import Dispatcher, DispatchPolicy, cancel_item
    from docgen.services.importing import stored_case
    from docgen.services.scheduling import schedule_conference
    from tests.support.chair import review_and_approve
    from tests.support.pki import SIGNING_PASSPHRASE

    case = stored_case(runtime, REFERENCE)
    rules = load_rules(config_file("circulation.toml"))
    sender = runtime.settings.authority.email
    for person in people:
        review_and_approve(runtime, REFERENCE, person, chair=case["conference"]["chair"])
    with unit_of_work(runtime.sessions) as session:
        items = schedule_conference(session, case, rules, now=runtime.clock(), envelope_from=sender,
                                    reason="tests").items
        for item in items:
            if not (item.recipient in people and item.document in kinds) and item.state not in ("sent", "cancelled"):
                cancel_item(session, item.id, reason="not part of this test", now=runtime.clock())
    messages = DocumentMessages(DeliveryContext(
        runtime=runtime, signer=load_signing_identity(pki.signing_p12_path, prompt=lambda _: SIGNING_PASSPHRASE),
        archive_certificate=pki.archive.certificate, ca_certificates=[pki.ca.certificate], folder=folder / "delivery",
        sender_address=sender, sms=True, portal_url=base_url))
    outbox = folder / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    report = Dispatcher(runtime.sessions, OutboxFolderTransport(outbox), build_message=messages.build,
                        approval_gate=messages.approval_gate, on_sent=messages.record_sent,
                        hand_delivery=HandDeliveryTransport(folder / "hand"), clock=runtime.clock,
                        policy=DispatchPolicy(envelope_from=sender, calendar=rules.calendar, zone=rules.zone)).drain()
    assert report.sent == len(people) * len(kinds) and not (report.failed or report.held), report
    links: dict[str, set[str]] = {}
    addresses = {member["email"]: member["id"] for member in case["family"] if member.get("email")}
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        found = re.search(r"https?://\S+/portal/\S+", message.get_content())
        assert found and not list(message.iter_attachments())
        links.setdefault(addresses[str(message["To"])], set()).add(found.group(0))
    return links
