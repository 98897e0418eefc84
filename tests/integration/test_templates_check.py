"""`docgen templates check` and the pack refuse an authority's template with a fault planted in it,
naming the file and the place; the shipped templates pass."""

from __future__ import annotations

import copy
import dataclasses
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile import validate_case
from docgen.configuration.folder import TEMPLATES_DIR
from docgen.domain.authority import Templates
from docgen.errors import DocgenError
from docgen.services.pack import build_pack
from docgen.services.templates_check import check_templates

NOTICE = "records/decisions_notice"
GENERATED_ON = date(2026, 11, 20)


def rewrite_docx(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """Copy a Word file, letting ``change`` edit its members (name to bytes)."""
    with zipfile.ZipFile(source) as package:
        members = {name: package.read(name) for name in package.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out.getvalue())


def in_body(xml_change: Callable[[str], str]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        members["word/document.xml"] = xml_change(members["word/document.xml"].decode("utf-8")).encode("utf-8")
    return change


def first_paragraph_text(xml: str, insert: str) -> str:
    """``insert`` (runs or fields) added to the first paragraph that has a run."""
    return xml.replace("<w:r>", insert + "<w:r>", 1)


def unknown_name_in_html(folder: Path) -> None:
    source = (TEMPLATES_DIR / f"{NOTICE}.html").read_text(encoding="utf-8").splitlines()
    source.insert(9, "<p>{{ case.conference.chair_nmae }}</p>")  # becomes line 10
    (folder / "records").mkdir(parents=True, exist_ok=True)
    (folder / f"{NOTICE}.html").write_text("\n".join(source) + "\n", encoding="utf-8")


def unknown_name_in_word(folder: Path) -> None:
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx", in_body(lambda xml: first_paragraph_text(
        xml, "<w:r><w:t>{{ case.conference.chair_nmae }}</w:t></w:r>")))


def header_without_marking(folder: Path) -> None:
    def change(members: dict[str, bytes]) -> None:
        xml = members["word/header1.xml"].decode("utf-8")
        assert "{{ copy.label }}. Copy for: {{ copy.copy_for }}" in xml
        members["word/header1.xml"] = xml.replace("{{ copy.label }}. Copy for: {{ copy.copy_for }}", "Conference service").encode("utf-8")
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx", change)


def includepicture_with_url(folder: Path) -> None:
    field = ('<w:fldSimple w:instr=" INCLUDEPICTURE &quot;http://tracker.example.org/pixel.png&quot; \\d ">'
             "<w:r><w:t>picture</w:t></w:r></w:fldSimple>")
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx",
                 in_body(lambda xml: first_paragraph_text(xml, field)))


def macro_enabled_part(folder: Path) -> None:
    def change(members: dict[str, bytes]) -> None:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not really a macro project"
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx", change)


def comment(folder: Path) -> None:
    def change(members: dict[str, bytes]) -> None:
        in_body(lambda xml: first_paragraph_text(xml, '<w:commentRangeStart w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>'))(members)
        members["word/comments.xml"] = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments xmlns:w="http://schemas.openxmlformats.org/'
            b'wordprocessingml/2006/main"><w:comment w:id="0" w:author="Reviewer"><w:p><w:r><w:t>Check this</w:t></w:r>'
            b"</w:p></w:comment></w:comments>")
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx", change)


def tracked_change(folder: Path) -> None:
    inserted = '<w:ins w:id="1" w:author="Editor" w:date="2026-11-01T10:00:00Z"><w:r><w:t>Added later.</w:t></w:r></w:ins>'
    rewrite_docx(TEMPLATES_DIR / f"{NOTICE}.docx", folder / f"{NOTICE}.docx",
                 in_body(lambda xml: first_paragraph_text(xml, inserted)))


FAULTS = [
    pytest.param(unknown_name_in_html, r"records/decisions_notice\.html \(the authority's\), line 10: .*chair_nmae",
                 id="unknown-name-html"),
    pytest.param(unknown_name_in_word, r"records/decisions_notice\.docx \(the authority's\), document, paragraph \d+: .*chair_nmae",
                 id="unknown-name-word"),
    pytest.param(header_without_marking, r"records/decisions_notice\.docx \(the authority's\), header 1: a family copy "
                 "would lack its marking", id="header-without-marking"),
    pytest.param(includepicture_with_url, r"records/decisions_notice\.docx \(the authority's\), document, paragraph \d+: "
                 r"a INCLUDEPICTURE field", id="includepicture-with-url"),
    pytest.param(macro_enabled_part, r"records/decisions_notice\.docx \(the authority's\), word/vbaProject\.bin: a macro",
                 id="macro-enabled-part"),
    pytest.param(comment, r"records/decisions_notice\.docx \(the authority's\), (word/comments\.xml|document, paragraph \d+): "
                 r".*comment", id="comment"),
    pytest.param(tracked_change, r"records/decisions_notice\.docx \(the authority's\), document, paragraph \d+: a tracked insertion",
                 id="tracked-change"),
]


# The pack finds a missing marking in the copy it rendered, and names the copy, the place and the template.
PACK_REFUSALS = {"header_without_marking": r"decisions_notice--family-\w+\.docx was refused: the copy's marking is missing: "
                 r"header 1 lacks .*; made from authority-templates/records/decisions_notice\.docx \(the authority's\)"}


@pytest.fixture(scope="module")
def example(example_data: dict[str, Any]) -> dict[str, Any]:
    return validate_case(copy.deepcopy(example_data), source="example")


def test_the_shipped_templates_pass(example: dict[str, Any], settings) -> None:
    report = check_templates([("example", example)], settings, generated_on=GENERATED_ON, kinds=["decisions_notice"])
    assert report.problems == ()
    assert "records/decisions_notice.docx" in report.checked and "records/decisions_notice.html" in report.checked
    assert report.renders == 6  # professional, family and child readers, in PDF and Word


@pytest.mark.parametrize(("plant", "expected"), FAULTS)
def test_a_planted_fault_is_refused_by_the_check_and_the_pack(tmp_path: Path, example: dict[str, Any], settings,
                                                              plant: Callable[[Path], None], expected: str) -> None:
    folder = tmp_path / "authority-templates"
    folder.mkdir()
    plant(folder)
    overridden = dataclasses.replace(settings, templates=Templates(folder=str(folder)))

    report = check_templates([("example", example)], overridden, generated_on=GENERATED_ON, kinds=["decisions_notice"])
    assert any(re.search(expected, problem) for problem in report.problems), report.problems
    assert not any(".html" in problem for problem in report.problems if "docx" in expected), report.problems

    with pytest.raises(DocgenError) as refused:
        build_pack(example, overridden, tmp_path / "pack", generated_on=GENERATED_ON, workers=1)
    pack_refusal = PACK_REFUSALS.get(plant.__name__, expected)
    assert re.search(pack_refusal, str(refused.value)), str(refused.value)
    assert not (tmp_path / "pack").exists()
