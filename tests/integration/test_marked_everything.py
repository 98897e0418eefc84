"""Markings on everything a family copy shows: a withheld agency or professional is withheld
wherever a document repeats it, and the safer defaults keep homes apart, read back from the bytes
of every document in each parent's pack."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile import validate_case
from docgen.adapters.readback import read_back_docx, read_back_pdf
from docgen.errors import CaseFileError
from docgen.services.pack import build_pack
from tests.support.cases import shared_care

SCHOOL = "Qzxschool Larkspur Academy"
LEAD = "Qzxlead Wren Ashby"


def _read(path: Path) -> str:
    data = path.read_bytes()
    read_back = read_back_pdf(data) if path.suffix == ".pdf" else read_back_docx(data)
    return re.sub(r"\s+", " ", "\n".join([path.name, *read_back.values()])).casefold()


def _pack(case: dict[str, Any], settings: Any, folder: Path) -> dict[str, list[str]]:
    """Every document's text, by audience."""
    build_pack(validate_case(case, source="planted"), settings, folder, generated_on=date(2026, 11, 20))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    texts: dict[str, list[str]] = {}
    for artifact in manifest["artifacts"]:
        texts.setdefault(artifact["audience"], []).append(_read(folder / artifact["path"]))
    return texts


def _sibling_school(example_data: dict[str, Any]) -> dict[str, Any]:
    """A sibling at a school the father must not learn of, whose safeguarding lead is invited."""
    data = copy.deepcopy(example_data)
    data["agencies"].append({"id": "larkspur", "name": SCHOOL, "kind": "education",
                             "withheld_from": ["karim"], "reason": "victim_whereabouts"})
    data["professionals"].append({"id": "wren-ashby", "name": LEAD, "role": "Designated safeguarding lead",
                                  "agency": "larkspur", "email": "w.ashby@larkspur.example.sch.uk"})
    data["children"].append({"id": "maja", "name": "Maja Wiśniewska", "date_of_birth": "2012-03-14",
                             "subject": False, "school": "larkspur",
                             "address": copy.deepcopy(data["children"][0]["address"])})
    data["invitations"].append({"invitee": "wren-ashby", "attendance": "attended",
                                "note": "Spoke about Maja's wellbeing at school."})
    data["plan"]["core_group"]["members"].append("wren-ashby")
    data["decisions"][1]["dissent"].append({"by": "wren-ashby", "view": "The school would like a review in 6 weeks."})
    return data


@pytest.fixture(scope="module")
def sibling_school_pack(example_data: dict[str, Any], settings: Any, tmp_path_factory: pytest.TempPathFactory):
    return _pack(_sibling_school(example_data), settings, tmp_path_factory.mktemp("school") / "pack")


def test_the_invited_school_is_withheld_from_the_father_in_every_document(sibling_school_pack) -> None:
    fathers = sibling_school_pack["family-karim"]
    assert len(fathers) >= 4
    for text in fathers:
        assert SCHOOL.casefold() not in text
        assert LEAD.casefold() not in text


def test_the_mother_and_the_professionals_still_see_the_school(sibling_school_pack) -> None:
    assert any(SCHOOL.casefold() in text and LEAD.casefold() in text for text in sibling_school_pack["family-zofia"])
    assert any(SCHOOL.casefold() in text for text in sibling_school_pack["professional"])


def test_a_marked_professional_takes_their_invitation_opinion_and_core_group_entry_with_them(example_data: dict[str, Any]) -> None:
    from docgen.domain.redaction import Audience, redact
    from docgen.domain.views import build_case_view

    data = _sibling_school(example_data)
    view = redact(build_case_view(validate_case(data, source="x")), Audience("family", "karim", "Karim Haddad")).view
    assert SCHOOL not in json.dumps(view, ensure_ascii=False)
    assert LEAD not in json.dumps(view, ensure_ascii=False)
    mother = redact(build_case_view(validate_case(data, source="x")), Audience("family", "zofia", "Zofia")).view
    assert LEAD in json.dumps(mother, ensure_ascii=False)


def test_shared_care_keeps_each_home_from_the_other_parent(example_data: dict[str, Any], settings: Any, tmp_path: Path) -> None:
    texts = _pack(shared_care(example_data), settings, tmp_path / "pack")
    mothers_home, fathers_home = "27 linden court", "14 orchard row"
    assert not any(mothers_home in text for text in texts["family-karim"])
    assert not any(fathers_home in text for text in texts["family-zofia"])
    assert any(mothers_home in text for text in texts["family-zofia"])
    assert any(fathers_home in text for text in texts["family-karim"])


def test_at_risk_from_withholds_the_childrens_school_from_that_person(example_data: dict[str, Any], settings: Any,
                                                                       tmp_path: Path) -> None:
    data = copy.deepcopy(example_data)
    data["family"][0]["at_risk_from"] = ["karim"]
    # The plan's free text names the school; a person marks it, as the leak gate would otherwise refuse the pack.
    data["plan"]["actions"][2].update({"withheld_from": ["karim"], "reason": "victim_whereabouts"})
    texts = _pack(data, settings, tmp_path / "pack")
    for text in texts["family-karim"]:
        assert "st aidan" not in text.replace("'", " ").replace("\u2019", " ")
        assert "joanna baker" not in text
        assert "07700 900461" not in text and "zofia.w@example.org" not in text
    assert any("st aidan" in text.replace("'", " ").replace("\u2019", " ") for text in texts["family-zofia"])


def test_the_chair_cannot_be_withheld(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    data["professionals"][0]["withheld_from"] = ["karim"]
    with pytest.raises(CaseFileError) as caught:
        validate_case(data, source="x")
    assert caught.value.problems[0].startswith("professionals[0]: is marked as withheld, but conference.chair")


def test_a_marked_decision_and_a_marked_dissent_are_withheld_and_the_pack_is_made(
        example_data: dict[str, Any], settings: Any, tmp_path: Path) -> None:
    data = copy.deepcopy(example_data)
    data["decisions"][0].update({"reasons": "Qzxdecision Bittern reasons.", "withheld_from": ["karim"], "reason": "other"})
    data["decisions"][1]["dissent"][0].update({"view": "Qzxdissent Dunlin view.", "withheld_from": ["zofia"],
                                               "reason": "other"})
    texts = _pack(data, settings, tmp_path / "pack")
    assert not any("qzxdecision bittern" in text for text in texts["family-karim"])
    assert not any("qzxdissent dunlin" in text for text in texts["family-zofia"])
    assert any("qzxdecision bittern" in text for text in texts["family-zofia"])
    assert any("qzxdissent dunlin" in text for text in texts["family-karim"])
