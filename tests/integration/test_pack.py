"""The pack as its readers get it: every document kind in PDF and DOCX, checked by what a tool
recovers from the bytes (pdftotext, pdfinfo, the DOCX package), never by how it was made."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from docgen.adapters.casefile import load_case_file, validate_case
from docgen.domain.documents import KINDS
from docgen.services.pack import build_pack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / "haddad-wisniewska.yaml", ROOT / "examples" / "haddad-wisniewska-review.yaml"]
WITHHELD_FROM_KARIM = ["Linden Court", "NM4 6QT", "Oliver Brennan", "hid under the table", "Sam Ortiz", "pre-proceedings"]


@pytest.fixture(scope="session")
def packs(tmp_path_factory: pytest.TempPathFactory, settings) -> dict[str, tuple[Path, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("packs")
    result = {}
    for example in EXAMPLES:
        case = validate_case(load_case_file(example), source=str(example))
        folder = out / case["reference"]
        build_pack(case, settings, folder, generated_on=date(2026, 11, 20))
        result[case["reference"]] = (folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    return result


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(pdf_pages(path)))


def docx_text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        for header in (section.header, section.first_page_header, section.even_page_header,
                       section.footer, section.first_page_footer, section.even_page_footer):
            parts.extend(p.text for p in header.paragraphs)
    return re.sub(r"\s+", " ", " ".join(parts))


def artifacts(packs, **match: str) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for folder, manifest in packs.values():
        for entry in manifest["artifacts"]:
            if all(entry[k] == v for k, v in match.items()):
                found.append((folder / entry["path"], entry))
    assert found, f"no artifact matches {match}"
    return found


def test_every_document_kind_in_both_formats(packs) -> None:
    seen = {(a["kind"], a["format"]) for _, manifest in packs.values() for a in manifest["artifacts"]}
    assert seen == {(kind, fmt) for kind in KINDS for fmt in ("pdf", "docx")}


def test_manifest_lists_each_file_with_its_hash_and_pages(packs) -> None:
    import hashlib

    for folder, manifest in packs.values():
        for entry in manifest["artifacts"]:
            data = (folder / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            if entry["format"] == "pdf":
                info = subprocess.run(["pdfinfo", str(folder / entry["path"])], check=True, capture_output=True, text=True).stdout
                assert re.search(rf"^Pages:\s+{entry['pages']}$", info, re.MULTILINE), entry["path"]


REQUIRED = {
    "parent_invitation": ["Thursday 19 November 2026", "friend", "advocate", "solicitor", "supporter",
                          "Northmoor Family Advocacy", "complain", "interpreter", "Zofia Wiśniewska"],
    "professional_invitation": ["Thursday 19 November 2026", "Monday 16 November 2026", "Lena Haddad-Wiśniewska",
                                "Adam Haddad", "guidance sent with this letter"],
    "professional_guidance": ["significant harm", "section 47", "Physical abuse", "Emotional abuse", "Sexual abuse",
                              "Neglect", "one primary category", "other significant concerns",
                              "at least 2 working days before the conference", "Confidentiality"],
    "child_invitation": ["Lena", "Childline"],
    "exclusion_letter": ["risk of violence", "complain", "Karim Haddad"],
    "social_worker_report": ["Chronology of significant events", "Lena Haddad-Wiśniewska", "Hannah Okafor"],
    "agency_report_form": ["Lena Haddad-Wiśniewska", "Adam Haddad"],
    "conference_record": ["Lena Haddad-Wiśniewska", "9 May 2017", "Adam Haddad", "30 June 2023", "Zofia Wiśniewska",
                          "Karim Haddad", "Sent apologies", "Excluded", "Police report", "Purpose of the conference",
                          "opinion", "Lena told her social worker she feels safe", "Emotional abuse",
                          "does not agree that a plan is needed", "Hannah Okafor", "Thursday 3 December 2026",
                          "Thursday 11 February 2027", "Core group"],
    "decisions_notice": ["Emotional abuse", "Hannah Okafor", "Thursday 3 December 2026"],
    "outline_plan": ["Lena and Adam live free from domestic abuse", "Joanna Baker", "strategy discussion", "30 November 2026"],
    "discharge_notification": ["Lena Haddad-Wiśniewska", "12 August 2027", "child in need plan"],
}


@pytest.mark.parametrize("kind", sorted(REQUIRED))
@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_professional_copies_contain_the_required_items(packs, kind: str, fmt: str) -> None:
    extra = {"recipient": "rachel-moore"} if kind == "professional_invitation" else {}
    path, _ = artifacts(packs, kind=kind, format=fmt, **extra)[0]
    text = pdf_text(path) if fmt == "pdf" else docx_text(path)
    flat = text.lower()
    missing = [item for item in REQUIRED[kind] if item.lower() not in flat]
    assert not missing, f"{path.name} lacks {missing}"


def test_a_professional_invitation_is_one_page_and_its_guidance_made_once(packs) -> None:
    for _, manifest in packs.values():
        letters = [a for a in manifest["artifacts"] if a["kind"] == "professional_invitation" and a["format"] == "pdf"]
        guidance = [a for a in manifest["artifacts"] if a["kind"] == "professional_guidance" and a["format"] == "pdf"]
        assert letters and all(a["pages"] == 1 for a in letters), [(a["path"], a["pages"]) for a in letters]
        assert len(guidance) == 1


def test_pdfs_are_tagged_titled_and_carry_no_template_author(packs) -> None:
    for path, entry in artifacts(packs, format="pdf"):
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), path.name
        assert re.search(rf"^Title:\s+{re.escape(entry['title'])}$", info, re.MULTILINE), path.name
        assert "Author:" not in info, path.name
        assert re.search(r"^Page size:\s+595.276 x 841.89 pts \(A4\)", info, re.MULTILINE)


def test_pdfs_declare_pdf_ua_and_language(packs) -> None:
    import pikepdf

    path, _ = artifacts(packs, kind="conference_record", format="pdf")[0]
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang) == "en-GB"
        assert "pdfuaid" in pdf.open_metadata().__str__() or b"pdfuaid" in pdf.Root.Metadata.read_bytes()


def test_docx_properties_hold_the_title_and_nothing_of_the_template(packs) -> None:
    for path, entry in artifacts(packs, format="docx"):
        properties = Document(str(path)).core_properties
        assert properties.title == entry["title"]
        assert (properties.author, properties.last_modified_by, properties.comments) == ("", "", "")
        with zipfile.ZipFile(path) as package:
            app = package.read("docProps/app.xml").decode()
            assert "Company" not in app
            assert not [n for n in package.namelist() if "comments" in n or n == "docProps/custom.xml"]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_fathers_copies_hold_nothing_withheld_from_him(packs, fmt: str) -> None:
    for path, _ in artifacts(packs, audience="family-karim", format=fmt):
        text = pdf_text(path) if fmt == "pdf" else docx_text(path)
        leaked = [phrase for phrase in WITHHELD_FROM_KARIM if phrase in text]
        assert not leaked, f"{path.name} contains {leaked}"


def test_professional_record_holds_everything(packs) -> None:
    path, _ = artifacts(packs, kind="conference_record", audience="professional", format="pdf")[0]
    text = pdf_text(path)
    assert [p for p in WITHHELD_FROM_KARIM if p not in text] == []


def test_the_two_parents_copies_differ_each_correctly(packs) -> None:
    mother = pdf_text(artifacts(packs, kind="conference_record", audience="family-zofia", format="pdf")[0][0])
    father = pdf_text(artifacts(packs, kind="conference_record", audience="family-karim", format="pdf")[0][0])
    assert "Linden Court" in mother and "Linden Court" not in father
    assert "14 Orchard Row" not in mother  # his address is withheld from her by the safe default
    assert "hid under the table" in mother and "hid under the table" not in father
    assert "Oliver Brennan" not in mother and "Oliver Brennan" not in father


def test_every_page_of_every_family_pdf_is_marked(packs, settings) -> None:
    for path, entry in artifacts(packs, family_copy=True, format="pdf"):
        pages = pdf_pages(path)
        assert len(pages) == entry["pages"]
        for number, page in enumerate(pages, start=1):
            flat = re.sub(r"\s+", " ", page)
            label = settings.marking.child_copy_label if entry["audience"].startswith("child-") else settings.marking.family_copy_label
            assert label in flat, f"{path.name} page {number}"
            assert "Copy for:" in flat, f"{path.name} page {number}"
            assert "court order" in flat, f"{path.name} page {number}"


def test_every_header_of_every_family_docx_is_marked(packs) -> None:
    for path, _entry in artifacts(packs, family_copy=True, format="docx"):
        document = Document(str(path))
        section = document.sections[0]
        assert section.different_first_page_header_footer
        assert document.settings.odd_and_even_pages_header_footer
        for header in (section.header, section.first_page_header, section.even_page_header):
            text = " ".join(p.text for p in header.paragraphs)
            assert "Copy for:" in text and "court order" in text, path.name


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_a_family_copy_marked_for_someone_else_is_refused(example_data: dict[str, Any], settings, monkeypatch,
                                                          fmt: str) -> None:
    """The gate takes the marking a copy must carry from its audience and the authority's settings,
    not from the context its template was given: a copy marked for the wrong person is refused."""
    import copy

    from docgen.domain.documents import plan_copies
    from docgen.domain.views import build_case_view
    from docgen.errors import RedactionError
    from docgen.services import pack, rendering

    case = validate_case(copy.deepcopy(example_data), source="test")
    copy_spec = next(j for j in plan_copies(case) if j.kind.key == "conference_record" and j.audience.person == "zofia")
    real = rendering.build_context

    def mislabelled_context(*args: Any, **kwargs: Any) -> dict[str, Any]:
        context = real(*args, **kwargs)
        context["copy"] = {**context["copy"], "copy_for": "Somebody Else"}
        return context

    monkeypatch.setattr(rendering, "build_context", mislabelled_context)
    with pytest.raises(RedactionError, match=r"the copy's marking is missing: .* lacks 'Copy for: "):
        pack.render_copy(copy_spec, build_case_view(case), settings, generated_on=date(2026, 11, 20), fmt=fmt)


@pytest.mark.parametrize("marking", [
    pytest.param({"withheld_from": ["karim"]}, id="withheld-from-the-father"),
    pytest.param({"confidentiality": "confidential"}, id="confidential"),
])
def test_a_shared_report_marked_as_a_whole_is_left_out_of_those_readers_copies(
        example_data: dict[str, Any], settings, tmp_path: Path, marking: dict[str, Any]) -> None:
    """A report shared with parents but withheld as a whole (from one reader, or from every family
    reader) is simply not in those readers' copies: the pack is made, and no copy of it is theirs."""
    import copy

    data = copy.deepcopy(example_data)
    report = next(r for r in data["reports"] if r["id"] == "health-report")
    report.update(marking, reason="third_party")
    case = validate_case(data, source="test")
    folder = tmp_path / "pack"
    build_pack(case, settings, folder, generated_on=date(2026, 11, 20), formats=("docx",))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    readers = {a["audience"] for a in manifest["artifacts"] if "health-report" in a["path"]}
    assert readers == ({"professional", "family-zofia"} if "withheld_from" in marking else {"professional"})
    karim = [Path(a["path"]).name for a in manifest["artifacts"] if a["audience"] == "family-karim"]
    assert karim and not any("health-report" in name for name in karim)
