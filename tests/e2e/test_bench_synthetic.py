"""The benchmark's synthetic conferences: valid, the sizes the performance issue describes,
deterministic, and withholding enough that family copies really are redacted."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import conference
from docgen.adapters.casefile import validate_case
from docgen.adapters.readback import read_back_pdf
from docgen.services.pack import build_pack

SIZES = [
    pytest.param("S", 1, 6, 2, id="S: 1 child, 6 invitees"),
    pytest.param("M", 2, 12, 4, id="M: 2 children, 12 invitees, 4 agency reports"),
    pytest.param("L", 4, 25, 8, id="L: 4 children, 25 invitees"),
]


def _marked(node: object) -> list[dict[str, Any]]:
    """Every node of the case that carries a confidentiality marking."""
    if isinstance(node, dict):
        own = [node] if node.get("confidentiality") == "confidential" or node.get("withheld_from") else []
        return own + [marked for value in node.values() for marked in _marked(value)]
    if isinstance(node, list):
        return [marked for value in node for marked in _marked(value)]
    return []


@pytest.mark.parametrize(("size", "children", "invitees", "agency_reports"), SIZES)
def test_each_size_is_a_valid_case_of_the_stated_size(size: str, children: int, invitees: int,
                                                      agency_reports: int) -> None:
    case = conference(size)
    assert validate_case(copy.deepcopy(case), source=size) == case
    assert len([c for c in case["children"] if c["subject"]]) == children
    assert len(case["invitations"]) == invitees
    assert sum(r["kind"] == "agency" for r in case["reports"]) == agency_reports
    assert [r["kind"] for r in case["reports"]].count("social_worker") == 1
    assert len(case["decisions"]) == children and case["plan"]["actions"] and case["record"]["sections"]


@pytest.mark.parametrize("size", ["S", "M", "L"])
def test_the_same_seed_gives_the_same_case_and_another_seed_another(size: str) -> None:
    assert conference(size, seed=3) == conference(size, seed=3)
    assert conference(size, seed=3) != conference(size, seed=4)


@pytest.mark.parametrize("size", ["S", "M", "L"])
def test_every_size_withholds_police_legal_third_party_and_a_childs_account(size: str) -> None:
    case = conference(size)
    fathers = {m["id"] for m in case["family"] if m["relationship"] == "father"}
    reasons = {node.get("reason") for node in _marked(case)}
    assert {"police_investigation", "legal_advice", "third_party", "child_disclosure", "victim_whereabouts"} <= reasons
    police = next(r for r in case["reports"] if r["id"] == "police-report")
    assert police["shared_with_parents"] == "no"
    assert all(set(c["address"]["withheld_from"]) == fathers for c in case["children"])


def test_names_are_varied_and_not_all_ascii() -> None:
    case = conference("L")
    names = [p["name"] for p in [*case["children"], *case["family"], *case["professionals"]]]
    assert len(set(names)) == len(names)
    assert any(not name.isascii() for name in names)


@pytest.mark.slow
def test_the_s_pack_builds_and_the_fathers_record_leaves_out_the_police_information(tmp_path: Path,
                                                                                    settings: Any) -> None:
    case = conference("S")
    artifacts = build_pack(case, settings, tmp_path / "pack", generated_on=date(2026, 11, 20))
    police = next(s for s in case["record"]["sections"] if s["title"] == "Information from the police")
    evidence = police["items"][0]["text"].split(";")[0].split(".")[0][-40:]
    father = next(m["id"] for m in case["family"] if m["relationship"] == "father")

    def record_text(audience: str) -> str:
        path = tmp_path / "pack" / "records" / f"conference_record--{audience}.pdf"
        return " ".join(" ".join(read_back_pdf(path.read_bytes()).pages).split())

    assert any(a.family_copy for a in artifacts)
    assert evidence in record_text("professional")
    assert evidence not in record_text(f"family-{father}")
