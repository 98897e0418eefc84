"""Plant distinctive markers in every place content can hide, build the whole pack, and read
everything back out of the bytes: no family copy may hold any marker, while the professional
copies hold them all."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from docgen.adapters.casefile import validate_case
from docgen.adapters.docx import render_docx
from docgen.adapters.readback import read_back_docx, read_back_pdf
from docgen.services.pack import build_pack

MARKERS = {
    "section title": "Qzxsectiontitle Kestrel",
    "section body": "Qzxsectionbody Merlin",
    "table cell": "Qzxtablecell Osprey",
    "address": "Qzxaddress Heron Walk",
    "report name": "Qzxreportname Falcon",
    "report body": "Qzxreportbody Harrier",
    "item withheld from one parent": "Qzxdisclosure Plover",
}


def _planted(example_data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(example_data)
    sections = data["record"]["sections"]
    sections.insert(1, {"title": MARKERS["section title"], "confidentiality": "confidential", "reason": "third_party",
                        "items": [{"text": f"{MARKERS['section body']} is a neighbour's child."}]})
    sections[0]["items"].append({"table": {"columns": ["Who", "What"], "rows": [
        {"cells": ["Open row", "Nothing secret"]},
        {"cells": [MARKERS["table cell"], "third party"], "confidentiality": "confidential"}]}})
    sections[0]["items"].append({"text": f"{MARKERS['item withheld from one parent']} said so.", "withheld_from": ["karim", "zofia"]})
    zofia = next(m for m in data["family"] if m["id"] == "zofia")
    zofia["address"]["lines"] = ["Flat 9", MARKERS["address"], "Northmoor"]
    data["reports"].append({"id": "qzxfilename", "kind": "agency", "title": MARKERS["report name"], "author": "rachel-moore",
                            "agency": "police", "shared_with_parents": "no", "confidentiality": "confidential",
                            "sections": [{"title": "Detail", "items": [{"text": MARKERS["report body"]}]}]})
    return data


PARENTS = ("family-karim", "family-zofia")


@pytest.fixture(scope="module")
def planted_pack(example_data: dict[str, Any], settings, tmp_path_factory: pytest.TempPathFactory):
    case = validate_case(_planted(example_data), source="planted")
    folder = tmp_path_factory.mktemp("planted") / "pack"
    build_pack(case, settings, folder, generated_on=date(2026, 11, 20))
    return folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _everything(path: Path) -> str:
    data = path.read_bytes()
    read_back = read_back_pdf(data) if path.suffix == ".pdf" else read_back_docx(data)
    return re.sub(r"\s+", " ", "\n".join([path.name, *read_back.values()])).casefold()


def test_no_family_copy_holds_any_marker(planted_pack) -> None:
    folder, manifest = planted_pack
    family = [a for a in manifest["artifacts"] if a["family_copy"]]
    assert len(family) > 20
    for artifact in family:
        text = _everything(folder / artifact["path"])
        found = [where for where, marker in MARKERS.items() if marker.casefold() in text
                 and not (where == "address" and artifact["audience"] != "family-karim")
                 and not (where == "item withheld from one parent" and artifact["audience"] not in PARENTS)]
        assert not found, f"{artifact['path']} holds {found}"
        assert "qzxfilename" not in text


def test_the_withheld_address_is_only_in_the_copies_of_those_who_may_see_it(planted_pack) -> None:
    folder, manifest = planted_pack
    record = {a["audience"]: _everything(folder / a["path"]) for a in manifest["artifacts"]
              if a["kind"] == "conference_record" and a["format"] == "pdf"}
    assert MARKERS["address"].casefold() in record["family-zofia"]
    assert MARKERS["address"].casefold() not in record["family-karim"]


def test_the_professional_copies_hold_every_marker(planted_pack) -> None:
    folder, manifest = planted_pack
    professional = "\n".join(_everything(folder / a["path"]) for a in manifest["artifacts"] if not a["family_copy"])
    for where, marker in MARKERS.items():
        assert marker.casefold() in professional, where
    assert any("qzxfilename" in a["path"] for a in manifest["artifacts"] if not a["family_copy"])


def test_template_metadata_never_reaches_an_output(tmp_path: Path, settings) -> None:
    from docgen.configuration.folder import TEMPLATES_DIR

    source = TEMPLATES_DIR / "records" / "decisions_notice.docx"
    template = Document(str(source))
    props = template.core_properties
    props.author, props.comments, props.last_modified_by, props.keywords = "Qzxauthor", "Qzxcomment", "Qzxeditor", "Qzxkeyword"
    props.revision = 42
    (tmp_path / "records").mkdir()
    template.save(str(tmp_path / "records" / "decisions_notice.docx"))
    with zipfile.ZipFile(tmp_path / "records" / "decisions_notice.docx") as planted:
        assert b"Qzxauthor" in planted.read("docProps/core.xml")
    from docgen.adapters.casefile import load_case_file
    from docgen.domain.documents import KINDS, CopySpec, build_context
    from docgen.domain.redaction import PROFESSIONALS, redact
    from docgen.domain.views import build_case_view

    example = validate_case(load_case_file(Path(__file__).resolve().parents[2] / "examples" / "haddad-wisniewska.yaml"), source="x")
    copy_spec = CopySpec(KINDS["decisions_notice"], PROFESSIONALS)
    context = build_context(copy_spec, redact(build_case_view(example), PROFESSIONALS).view, settings, generated_on=date(2026, 11, 20))
    output = render_docx("records/decisions_notice.docx", context, title="Decisions", created=datetime(2026, 11, 20),
                         override=str(tmp_path))
    text = "\n".join(read_back_docx(output).values()).casefold()
    assert "qzx" not in text
    assert Document(io.BytesIO(output)).core_properties.revision == 1
