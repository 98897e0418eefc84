"""The SMS folder and the post room's print batch: each text or letter written once, atomically and
privately, named by its idempotency key; the manifest lists files, pages and dates and nobody's name."""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest

from distribution.errors import TransportError
from distribution.transports.print_batch import MANIFEST, PrintBatchTransport
from distribution.transports.sms_folder import SmsFolderTransport
from docgen.bootstrap import build_transport, build_transports
from docgen.configuration.transports import PrintBatchSettings, SmsFolderSettings, TransportSettings
from docgen.errors import ConfigurationError

NUMBER = "07700 900461"
TEXT = "Northmoor Borough Council: your passphrase is k7fq-2mzd-p9wx-c4hn-t6rb . Keep it private."
FIRST = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = FIRST

    def __call__(self) -> datetime:
        return self.now


def pdf_of(pages: int, *, password: str = "") -> bytes:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page(page_size=(595, 842))
        out = io.BytesIO()
        if password:
            pdf.save(out, encryption=pikepdf.Encryption(user=password, owner=password + "-owner"))
        else:
            pdf.save(out)
    return out.getvalue()


# -- text messages in a folder ----------------------------------------------------------------------

def test_a_text_is_written_once_privately_and_named_by_its_key(tmp_path: Path) -> None:
    clock = Clock()
    transport = SmsFolderTransport(tmp_path / "sms", clock=clock)
    first = transport.send(TEXT.encode(), envelope_from="x@northmoor.gov.uk", recipients=[NUMBER],
                           idempotency_key="3f9a7c1e")
    path = tmp_path / "sms" / "3f9a7c1e.txt"
    assert path.read_text(encoding="utf-8") == f"To: {NUMBER}\n\n{TEXT}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (first.reference, first.message_id, first.accepted_at, first.transport) == (
        "3f9a7c1e.txt", "3f9a7c1e", FIRST, "sms_folder")
    clock.now = FIRST + timedelta(hours=1)
    again = transport.send(b"a different text", envelope_from="x@northmoor.gov.uk", recipients=[NUMBER],
                           idempotency_key="3f9a7c1e")
    assert path.read_text(encoding="utf-8") == f"To: {NUMBER}\n\n{TEXT}\n"  # the first text, not a second
    assert again == first
    assert [p.name for p in (tmp_path / "sms").iterdir()] == ["3f9a7c1e.txt"]


@pytest.mark.parametrize(("recipients", "key", "problem"), [
    pytest.param([], "k1", "one phone number, not 0", id="no-number"),
    pytest.param(["zofia.w@example.org"], "k1", "not a phone number", id="an-email-address"),
    pytest.param([NUMBER], "../k1", "cannot name a file", id="a-key-that-climbs"),
])
def test_a_text_the_folder_cannot_take_is_refused(tmp_path: Path, recipients: list[str], key: str,
                                                  problem: str) -> None:
    with pytest.raises(TransportError, match=problem) as caught:
        SmsFolderTransport(tmp_path / "sms").send(TEXT.encode(), envelope_from="x@y.gov.uk", recipients=recipients,
                                                  idempotency_key=key)
    assert not caught.value.transient and not (tmp_path / "sms").exists()


# -- the post room's print batch ----------------------------------------------------------------------

def manifest_rows(folder: Path) -> list[list[str]]:
    with (folder / MANIFEST).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_letters_go_into_the_batch_with_a_manifest_of_files_pages_and_dates(tmp_path: Path) -> None:
    clock = Clock()
    folder = tmp_path / "print"
    transport = PrintBatchTransport(folder, clock=clock)
    one = transport.send(pdf_of(1), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11")
    clock.now = FIRST + timedelta(minutes=5)
    transport.send(pdf_of(3), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="bb22")
    assert (folder / "aa11.pdf").read_bytes() == pdf_of(1) and stat.S_IMODE((folder / "aa11.pdf").stat().st_mode) == 0o600
    assert manifest_rows(folder) == [["file", "pages", "added"], ["aa11.pdf", "1", "2026-03-02T09:30:00+00:00"],
                                     ["bb22.pdf", "3", "2026-03-02T09:35:00+00:00"]]
    assert (one.reference, one.message_id, one.transport) == ("aa11.pdf", "aa11", "print_batch")


def test_a_letter_sent_again_is_not_printed_twice_even_after_the_batch_was_taken(tmp_path: Path) -> None:
    clock = Clock()
    folder = tmp_path / "print"
    transport = PrintBatchTransport(folder, clock=clock)
    first = transport.send(pdf_of(2), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11")
    clock.now = FIRST + timedelta(days=1)
    assert transport.send(pdf_of(2), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11") == first
    assert len(manifest_rows(folder)) == 2
    # The post room takes the batch away (letters and manifest); the same letter again adds nothing.
    (folder / "aa11.pdf").unlink()
    (folder / MANIFEST).unlink()
    assert transport.send(pdf_of(2), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11") == first
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == []


def test_a_letter_written_before_a_crash_gets_its_manifest_row_once(tmp_path: Path) -> None:
    folder = tmp_path / "print"
    folder.mkdir()
    (folder / "aa11.pdf").write_bytes(pdf_of(2))  # written, then the process died before the row and receipt
    transport = PrintBatchTransport(folder, clock=Clock())
    transport.send(pdf_of(2), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11")
    transport.send(pdf_of(2), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11")
    assert manifest_rows(folder) == [["file", "pages", "added"], ["aa11.pdf", "2", "2026-03-02T09:30:00+00:00"]]


@pytest.mark.parametrize(("letter", "recipients", "problem"), [
    pytest.param(b"Dear Zofia", [], "not a PDF", id="not-a-pdf"),
    pytest.param(b"%PDF-1.7\nbroken", [], "not a readable PDF", id="a-broken-pdf"),
    pytest.param(pdf_of(1, password="k7fq-2mzd"), [], "locked PDF", id="a-locked-pdf"),
    pytest.param(pdf_of(1), ["Flat 3, 27 Linden Court"], "takes no recipients", id="an-address-given"),
])
def test_a_letter_the_post_room_cannot_print_is_refused(tmp_path: Path, letter: bytes, recipients: list[str],
                                                        problem: str) -> None:
    with pytest.raises(TransportError, match=problem) as caught:
        PrintBatchTransport(tmp_path / "print").send(letter, envelope_from="x@y.gov.uk", recipients=recipients,
                                                     idempotency_key="aa11")
    assert not caught.value.transient and not (tmp_path / "print").exists()


def test_the_manifest_names_nobody(tmp_path: Path) -> None:
    folder = tmp_path / "print"
    PrintBatchTransport(folder).send(pdf_of(1), envelope_from="x@y.gov.uk", recipients=[], idempotency_key="aa11")
    assert manifest_rows(folder)[0] == ["file", "pages", "added"]
    assert all(len(row) == 3 for row in manifest_rows(folder))


# -- wiring -----------------------------------------------------------------------------------------

def test_bootstrap_builds_the_folders_for_their_channels(tmp_path: Path) -> None:
    sms = TransportSettings(backend="sms_folder", sms_folder=SmsFolderSettings(tmp_path / "sms"))
    batch = TransportSettings(backend="print_batch", print_batch=PrintBatchSettings(tmp_path / "print"))
    assert isinstance(build_transport(sms, channel="sms"), SmsFolderTransport)
    assert isinstance(build_transports(batch)["letter"], PrintBatchTransport)
    with pytest.raises(ConfigurationError, match="'sms_folder' cannot send email"):
        build_transport(sms)
    with pytest.raises(ConfigurationError, match="'print_batch' cannot send sms"):
        build_transport(batch, channel="sms")
