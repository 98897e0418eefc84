"""A recipient's "Copy for" line added to a copy already rendered: checked by what tools recover
from the bytes (pdfinfo, pdftotext, qpdf, the DOCX package), and refused by the gate and by the
stamp check when the update adds anything else."""

from __future__ import annotations

import copy as copying
import io
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from docgen.adapters.copy_store import CopyStore
from docgen.adapters.stamping import StampError, check_docx_stamp, check_pdf_stamp, stamp_docx, stamp_pdf
from docgen.domain.documents import CopySpec, plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import RedactionError
from docgen.services.copies import audience_copy, stamped_copy
from docgen.services.leak_gate import AudienceView, ReaderView, check_copy

ON = date(2026, 11, 20)
MOTHER = "Copy for: Zofia Wiśniewska, Family, 20 November 2026"
FATHER = "Copy for: وليد حداد, Family, 20 November 2026"
TEACHER = "Copy for: Rachel Moore, Northmoor Primary School, 20 November 2026"


def _spec(case: dict[str, Any], kind: str, person: str | None) -> CopySpec:
    return next(c for c in plan_copies(case) if c.kind.key == kind and c.audience.person == person)


def _pages(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def record(example_data: dict[str, Any], settings, tmp_path_factory: pytest.TempPathFactory):
    from docgen.adapters.casefile import validate_case

    case = validate_case(copying.deepcopy(example_data), source="test")
    view = build_case_view(case)
    store = CopyStore(tmp_path_factory.mktemp("store"))
    base = audience_copy(store, _spec(case, "conference_record", "zofia"), view, settings, generated_on=ON, fmt="pdf")
    return case, view, base


def test_a_stamped_copy_passes_the_gate_and_stays_tagged_with_the_line_on_every_page(record, settings,
                                                                                     tmp_path: Path) -> None:
    _, view, base = record
    stamped = stamped_copy(base, view, settings, recipient_line=MOTHER)
    assert stamped.data.startswith(base.data)  # the approved copy's bytes, unchanged
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamped.data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Tagged:          yes" in info
    assert f"Pages:           {base.pages}" in info
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    pages = _pages(stamped.data, tmp_path)
    assert len(pages) == base.pages
    assert all(MOTHER in page for page in pages)
    assert not any(MOTHER in page for page in _pages(base.data, tmp_path))
    # The stamp is outside the structure tree (a pagination artifact): the tree is the copy's own.
    with pikepdf.open(io.BytesIO(base.data)) as before, pikepdf.open(io.BytesIO(stamped.data)) as after:
        assert before.Root.StructTreeRoot.objgen == after.Root.StructTreeRoot.objgen
        assert after.Root.MarkInfo.Marked
        for page in after.pages:
            assert b"/Artifact <</Type /Pagination /Subtype /Header>> BDC" in page.obj.Contents[-1].read_bytes()


def test_a_stamp_in_arabic_script_is_shaped_and_read_back(record, settings, tmp_path: Path) -> None:
    _, view, base = record
    stamped = stamped_copy(base, view, settings, recipient_line=FATHER)
    assert all("وليد حداد" in page for page in _pages(stamped.data, tmp_path))


def test_a_recipients_stamp_is_never_in_another_recipients_copy(example_data: dict[str, Any], settings,
                                                                tmp_path: Path) -> None:
    from docgen.adapters.casefile import validate_case

    case = validate_case(copying.deepcopy(example_data), source="test")
    view = build_case_view(case)
    store = CopyStore(tmp_path / "store")
    spec = _spec(case, "decisions_notice", None)
    lines = [TEACHER, "Copy for: David Pryce, Northmoor Children's Services, 20 November 2026"]
    copies = [stamped_copy(audience_copy(store, spec, view, settings, generated_on=ON, fmt=fmt), view, settings,
                           recipient_line=line) for line in lines for fmt in ("pdf", "docx")]
    for index, line in enumerate(lines):
        other = lines[1 - index]
        pdf, docx = copies[2 * index], copies[2 * index + 1]
        assert other.encode() not in pdf.data and line.encode() not in pdf.stamped_from
        assert all(line in page and other not in page for page in _pages(pdf.data, tmp_path))
        with zipfile.ZipFile(io.BytesIO(docx.data)) as package:
            text = b"".join(package.read(name) for name in package.namelist()).decode("utf-8", "replace")
        assert line in text and other not in text


def test_an_update_that_adds_more_than_the_stamp_is_refused(record) -> None:
    _, _, base = record
    stamped = stamp_pdf(base.data, MOTHER)
    check_pdf_stamp(base.data, stamped)
    # Text drawn into a page's stamp stream besides the stamp itself.
    with pikepdf.open(io.BytesIO(stamped)) as pdf:
        last = pdf.pages[0].obj.Contents[-1]
        last.write(last.read_bytes() + b"BT /F1 9 Tf (Withheld) Tj ET\n")
        out = io.BytesIO()
        pdf.save(out)
    with pytest.raises(StampError):
        check_pdf_stamp(base.data, out.getvalue())
    # A stamp that does not begin with the copy's exact bytes.
    with pytest.raises(StampError, match="exact bytes"):
        check_pdf_stamp(base.data, stamped[:100] + b" " + stamped[101:])
    # A second update appended after the stamp.
    with pytest.raises(StampError):
        check_pdf_stamp(base.data, stamped + stamped[len(base.data):])
    # A trailer that says more than the base's: other document information, or encryption.
    update = stamped.rindex(b" /ID [")
    for extra in (b" /Info 1 0 R /Info 1 0 R", b" /Extra (Withheld)"):
        with pytest.raises(StampError, match="trailer"):
            check_pdf_stamp(base.data, stamped[:update] + extra + stamped[update:])
    with pytest.raises(StampError):  # encryption the base does not have: refused one way or another
        check_pdf_stamp(base.data, stamped[:update] + b" /Encrypt 1 0 R" + stamped[update:])
    # Anything added between the stamp's objects.
    at = stamped.index(b"endobj\n", len(base.data)) + len(b"endobj\n")
    with pytest.raises(StampError):
        check_pdf_stamp(base.data, stamped[:at] + b"(Withheld text) " + stamped[at:])


def test_the_gate_refuses_a_stamped_pdf_whose_update_is_not_only_the_stamp(record, settings) -> None:
    from dataclasses import replace

    _, view, base = record
    stamped = stamp_pdf(base.data, MOTHER)
    other = stamp_pdf(base.data, TEACHER)
    prepared = AudienceView.prepare(view, base.copy_spec.audience)
    # Said to be stamped from a copy it does not begin with.
    wrong = replace(base, data=stamped, stamped_from=other)
    verdict = check_copy(wrong, ReaderView.for_copy(prepared, wrong, settings, recipient_line=MOTHER))
    with pytest.raises(RedactionError, match="does not begin with the rendered copy"):
        verdict.enforce()
    # A copy with an incremental update but no earlier revision named is refused as today.
    unnamed = replace(base, data=stamped)
    with pytest.raises(RedactionError, match="revisions"):
        check_copy(unnamed, ReaderView.for_copy(prepared, unnamed, settings)).enforce()


def test_a_stamped_word_copy_has_the_line_in_every_header_and_nothing_else_changed(record, settings) -> None:
    case, view, _ = record
    base = audience_copy(None, _spec(case, "conference_record", "zofia"), view, settings, generated_on=ON, fmt="docx")
    stamped = stamped_copy(base, view, settings, recipient_line=MOTHER)
    with zipfile.ZipFile(io.BytesIO(stamped.data)) as package:
        headers = [name for name in package.namelist() if name.startswith("word/header")]
        assert headers and all(MOTHER.encode() in package.read(name) for name in headers)
    check_docx_stamp(base.data, stamped.data, MOTHER)
    with pytest.raises(StampError):
        check_docx_stamp(base.data, stamp_docx(base.data, TEACHER), MOTHER)


def test_a_line_too_long_for_the_header_is_refused(record) -> None:
    _, _, base = record
    with pytest.raises(StampError, match="one line"):
        stamp_pdf(base.data, "Copy for: " + "x" * 300)


def test_the_agency_report_form_is_laid_out_once_and_stamped_for_each_agency(example_data: dict[str, Any], settings,
                                                                             tmp_path: Path) -> None:
    import json

    from docgen.adapters.casefile import validate_case
    from docgen.services.pack import build_pack

    case = validate_case(copying.deepcopy(example_data), source="test")
    counts: dict[str, int] = {}
    build_pack(case, settings, tmp_path / "pack", generated_on=ON, store=CopyStore(tmp_path / "store"), counts=counts)
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    forms = [a for a in manifest["artifacts"] if a["kind"] == "agency_report_form" and a["format"] == "pdf"]
    assert len(forms) >= 2
    assert counts["made"] == len(manifest["artifacts"]) - len(forms) + 1  # one form for every agency
    people = {p["id"]: p for p in case["professionals"]}

    for form in forms:
        data = (tmp_path / "pack" / form["path"]).read_bytes()
        assert data.count(b"startxref") == 1  # a pack's file is one revision
        path = tmp_path / "form.pdf"
        path.write_bytes(data)
        assert "Tagged:          yes" in subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                                                         text=True).stdout
        pages = _pages(data, tmp_path)
        person = people[form["recipient"]]
        assert all(f"For {person['name']}, {person['role']}" in " ".join(page.split()) for page in pages)
        others = [p["name"] for key, p in people.items() if key != form["recipient"] and key in {f["recipient"] for f in forms}]
        assert not any(name in "".join(pages) for name in others)

