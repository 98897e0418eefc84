"""Regenerating only what changed: a pack made again from the same content takes every copy from
the copy store; editing one paragraph re-makes exactly the copies that show it, and changing a
template re-makes every copy made from it. Every copy taken from the store is the copy a fresh
render makes (rendering is deterministic), and still passes the gate for today's inputs."""

from __future__ import annotations

import copy as copying
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile import validate_case
from docgen.adapters.copy_store import CopyStore
from docgen.configuration.authority import load_settings
from docgen.configuration.folder import DEFAULT_CONFIG_DIR, TEMPLATES_DIR
from docgen.domain.views import build_case_view
from docgen.services.copies import COPIES, audience_copy, find
from docgen.services.leak_gate import AudienceView
from docgen.services.pack import build_pack

ON = date(2026, 11, 20)
FIRST_FACT = "On 14 October 2026 police were called"


@pytest.fixture
def authority(tmp_path: Path):
    """Settings whose templates folder holds a copy of the decisions notice's HTML template."""
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    toml = (config / "authority.toml").read_text(encoding="utf-8")
    (config / "authority.toml").write_text(toml.replace('# folder = "templates"', 'folder = "../our-templates"'),
                                           encoding="utf-8")
    (tmp_path / "our-templates" / "records").mkdir(parents=True)
    shutil.copy(TEMPLATES_DIR / "records" / "decisions_notice.html", tmp_path / "our-templates" / "records")
    return load_settings(config), tmp_path / "our-templates" / "records" / "decisions_notice.html"


def _pack(case: dict[str, Any], settings, folder: Path, store: CopyStore | None) -> tuple[dict[str, str], dict[str, int]]:
    counts: dict[str, int] = {}
    build_pack(case, settings, folder, generated_on=ON, store=store, counts=counts)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {a["path"]: a["sha256"] for a in manifest["artifacts"]}, counts


def _edited(case: dict[str, Any]) -> dict[str, Any]:
    edited = copying.deepcopy(case)
    item = edited["record"]["sections"][0]["items"][0]
    assert item["text"].startswith(FIRST_FACT)
    item["text"] = item["text"].replace("neighbours reported shouting", "a neighbour reported shouting")
    return validate_case(edited, source="edited")


def test_only_what_changed_is_made_again(example_case: dict[str, Any], authority, tmp_path: Path) -> None:
    settings, template = authority
    store = CopyStore(tmp_path / "store")
    first, counts = _pack(example_case, settings, tmp_path / "1", store)
    # The agency report forms' PDFs are one form laid out once and stamped for each agency.
    forms = {path for path in first if path.startswith("records/agency_report_form--") and path.endswith(".pdf")}
    laid_out = len(first) - len(forms) + 1
    assert forms and counts == {"reused": 0, "made": laid_out}

    again, counts = _pack(example_case, settings, tmp_path / "2", store)
    assert counts == {"reused": laid_out, "made": 0}
    assert again == first

    # One paragraph of the record edited: exactly the copies whose bytes change are made again,
    # they are copies of the record, and every copy is what a fresh render makes.
    edited = _edited(example_case)
    after_edit, counts = _pack(edited, settings, tmp_path / "3", store)
    changed = {path for path in first if after_edit[path] != first[path] and path not in forms}
    assert changed and all(path.startswith("records/conference_record--") for path in changed)
    assert counts == {"reused": laid_out - len(changed), "made": len(changed)}
    fresh, _ = _pack(edited, settings, tmp_path / "3-fresh", None)
    assert after_edit == fresh

    # The decisions notice's template changed: every copy made from it, and only those.
    wording = template.read_text(encoding="utf-8")
    assert "The conference record follows separately." in wording
    template.write_text(wording.replace("The conference record follows separately.",
                                        "The record will reach you within 20 working days."), encoding="utf-8")
    after_template, counts = _pack(edited, settings, tmp_path / "4", store)
    # (its Word copies too: they are checked at the gate with the HTML template's fixed wording)
    notices = {path for path in first if path.startswith("records/decisions_notice--")}
    assert any(path.endswith(".docx") for path in notices)
    assert counts == {"reused": laid_out - len(notices), "made": len(notices)}
    # (the sentence is in the professional copy only: the family copies come out the same)
    assert {path for path in first if after_template[path] != after_edit[path]} == {
        "records/decisions_notice--professional.pdf"}


def test_a_kept_copy_is_checked_again_when_what_the_gate_compares_against_changes(
        example_case: dict[str, Any], settings, tmp_path: Path) -> None:
    """Text withheld from the father changes: his copies render the same (it is not in them), so
    they are reused, and the gate checks them again for the new withheld text. A family copy is
    never taken as passed from a mark in the store: it is read back and gated each time it is used."""
    from docgen.domain.documents import plan_copies

    store = CopyStore(tmp_path / "store")
    spec = next(c for c in plan_copies(example_case) if c.kind.key == "conference_record" and c.audience.person == "karim")
    view = build_case_view(example_case)
    made = audience_copy(store, spec, view, settings, generated_on=ON, fmt="pdf")
    found = find(store, spec, "pdf", AudienceView.prepare(view, spec.audience), settings, ON)
    assert found is not None and not found.gated and found.copy.data == made.data

    changed = copying.deepcopy(example_case)
    lena = next(s for s in changed["record"]["sections"] if s["title"] == "Lena's account")
    lena["items"][0]["text"] += " She also said she was frightened at night."
    changed = validate_case(changed, source="changed")
    view = build_case_view(changed)
    found = find(store, spec, "pdf", AudienceView.prepare(view, spec.audience), settings, ON)
    assert found is not None and not found.gated and found.copy.data == made.data
    assert audience_copy(store, spec, view, settings, generated_on=ON, fmt="pdf").data == made.data
    found = find(store, spec, "pdf", AudienceView.prepare(view, spec.audience), settings, ON)
    assert found is not None and not found.gated


def test_an_emptied_store_makes_everything_again(example_case: dict[str, Any], settings, tmp_path: Path) -> None:
    from docgen.domain.documents import plan_copies

    store = CopyStore(tmp_path / "store")
    spec = next(c for c in plan_copies(example_case) if c.kind.key == "decisions_notice" and c.audience.person is None)
    view = build_case_view(example_case)
    audience_copy(store, spec, view, settings, generated_on=ON, fmt="pdf")
    assert list((tmp_path / "store" / "records" / COPIES).rglob("*.json"))
    store.clear()
    assert find(store, spec, "pdf", AudienceView.prepare(view, spec.audience), settings, ON) is None
