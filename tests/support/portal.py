"""The recipient portal under test: a portal key made up per test, a code sender that keeps what it
would have sent (the lead swaps in the GOV.UK Notify fake), and publishing a document as the
dispatcher does (``publish`` then ``confirm_published``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from docgen.adapters.database import unit_of_work
from docgen.adapters.portal_crypto import SECRET_VARIABLE
from docgen.domain.portal import document_words
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
