"""The disclosure-risk check as the chair meets it: flags stored per reader and version, resolved
by withholding or sharing with a reason, audited, and approval refused while one is open; on
every backend."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import audit_entries
from docgen.errors import ApprovalError, NotFoundError
from docgen.services import approval, review, risk
from docgen.services.importing import import_case_file, save_conference, stored_case
from docgen.services.runtime import Runtime
from tests.support.cli import run_governance_cli

CHAIR = "david-pryce"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "haddad-wisniewska.yaml"
PASTED = ("DC Moore told the conference that Mr Haddad is also under investigation for an assault on a "
          "neighbour's child, aged 11, on 2 September 2026. No charging decision has been made.")


@pytest.fixture
def reference(runtime: Runtime) -> str:
    return import_case_file(runtime, EXAMPLE, actor="business-support")[0]


def actions(runtime: Runtime, reference: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    with unit_of_work(runtime.sessions) as session:
        return [(e.action, e.subject, dict(e.details)) for e in audit_entries(session, reference=reference)]


def plant(runtime: Runtime, reference: str, text: str) -> None:
    case: dict[str, Any] = copy.deepcopy(dict(stored_case(runtime, reference)))
    case["record"]["sections"][0]["items"].append({"text": text})
    save_conference(runtime, case, based_on=1, saved_by="business-support", source="test edit")


def test_flags_are_stored_once_per_version_and_audited(runtime: Runtime, reference: str) -> None:
    first = risk.flags(runtime, reference, "karim", actor=CHAIR)
    assert {(f.kind, f.path, f.status) for f in first} == {("locates_person", "invitations[8].role", "open"),
                                                           ("locates_person", "plan.actions[2].who", "open")}
    assert risk.flags(runtime, reference, "karim", actor=CHAIR) == first
    raised = [d for a, s, d in actions(runtime, reference) if a == "flag_raised" and s == "karim"]
    assert sorted(d["path"] for d in raised) == ["invitations[8].role", "plan.actions[2].who"]
    assert risk.flags(runtime, reference, "zofia", actor=CHAIR) == []


def test_approval_is_refused_while_a_flag_is_open_and_allowed_once_each_is_resolved(runtime: Runtime,
                                                                                    reference: str,
                                                                                    tmp_path: Path) -> None:
    plant(runtime, reference, PASTED)
    review.preview(runtime, reference, "karim", actor=CHAIR, chair=CHAIR, out_dir=tmp_path)
    open_ = risk.flags(runtime, reference, "karim", actor=CHAIR)
    assert {f.kind for f in open_} == {"locates_person", "repeats_withheld"}
    with pytest.raises(ApprovalError, match=rf"3 open disclosure flags; see them with `docgen flags {reference} "):
        approval.approve(runtime, reference, "karim", chair=CHAIR)
    pasted = next(f for f in open_ if f.kind == "repeats_withheld")
    withheld = risk.resolve_flag(runtime, reference, "karim", pasted.key, resolution="withhold",
                                 reason="Police information; not for Mr Haddad", chair=CHAIR)
    assert withheld.status == "withheld"
    case = stored_case(runtime, reference)
    assert case["record"]["sections"][0]["items"][2]["withheld_from"] == ["karim"]
    review.preview(runtime, reference, "karim", actor=CHAIR, chair=CHAIR, out_dir=tmp_path)
    with pytest.raises(ApprovalError, match="2 open disclosure flags"):
        approval.approve(runtime, reference, "karim", chair=CHAIR)
    for flag in risk.flags(runtime, reference, "karim", actor=CHAIR):
        assert flag.kind == "locates_person"
        risk.resolve_flag(runtime, reference, "karim", flag.key, resolution="share",
                          reason="The father already knows the school", chair=CHAIR)
    assert {f.status for f in risk.flags(runtime, reference, "karim", actor=CHAIR)} == {"shared"}
    # The chair's withholding is no edit of the content: the second pair of eyes still holds.
    review.preview(runtime, reference, "karim", actor=CHAIR, chair=CHAIR, out_dir=tmp_path)
    assert approval.approve(runtime, reference, "karim", chair=CHAIR).decision == "approved"
    trail = [(a, d.get("path")) for a, s, d in actions(runtime, reference) if a.startswith("flag_") and s == "karim"]
    assert ("flag_withheld", "record.sections[0].items[2].text") in trail
    assert trail.count(("flag_shared", "invitations[8].role")) == 1
    assert trail.count(("flag_shared", "plan.actions[2].who")) == 1


def test_a_shared_flag_stays_resolved_in_later_versions(runtime: Runtime, reference: str) -> None:
    for flag in risk.flags(runtime, reference, "karim", actor=CHAIR):
        risk.resolve_flag(runtime, reference, "karim", flag.key, resolution="share", reason="Known", chair=CHAIR)
    plant(runtime, reference, "Lena enjoys drawing.")
    assert {f.status for f in risk.flags(runtime, reference, "karim", actor=CHAIR)} == {"shared"}


@pytest.mark.parametrize(("key", "chair", "reason", "error"), [
    pytest.param("0000000000000000", CHAIR, "why", NotFoundError, id="an unknown flag"),
    pytest.param(None, "hannah-okafor", "why", ApprovalError, id="someone who is not the chair"),
    pytest.param(None, CHAIR, "  ", ApprovalError, id="no reason"),
])
def test_a_resolution_is_refused(runtime: Runtime, reference: str, key: str | None, chair: str, reason: str,
                                 error: type[Exception]) -> None:
    flag = risk.flags(runtime, reference, "karim", actor=CHAIR)[0]
    with pytest.raises(error):
        risk.resolve_flag(runtime, reference, "karim", key or flag.key, resolution="share", reason=reason, chair=chair)
    assert risk.flags(runtime, reference, "karim", actor=CHAIR)[0].status == "open"


def test_a_real_edit_by_the_chair_still_needs_a_second_pair_of_eyes(runtime: Runtime, reference: str) -> None:
    case: dict[str, Any] = copy.deepcopy(dict(stored_case(runtime, reference)))
    case["record"]["sections"][0]["items"].append({"text": "Lena enjoys drawing."})
    save_conference(runtime, case, based_on=1, saved_by=CHAIR, source="the chair's edit")
    with pytest.raises(ApprovalError, match="second pair of eyes"):
        approval.approve(runtime, reference, "zofia", chair=CHAIR)


def test_the_cli_lists_and_resolves_flags(runtime: Runtime, reference: str, database_url: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run_governance_cli(database_url, "preview", reference, "--for", "karim", "--out", str(tmp_path), "--chair", CHAIR)
    out = capsys.readouterr().out
    assert "Disclosure flags: 2 (2 open)" in out and "docgen resolve-flag" in out
    keys = [f.key for f in risk.flags(runtime, reference, "karim", actor=CHAIR)]
    run_governance_cli(database_url, "resolve-flag", reference, "--for", "karim", keys[0], "--share", "--reason", "Known",
            "--chair", CHAIR)
    assert f"Flag {keys[0]} on karim's copy of {reference}: shared." in capsys.readouterr().out
    run_governance_cli(database_url, "flags", reference, "--for", "karim")
    listed = capsys.readouterr().out
    assert "Disclosure flags: 2 (1 open)" in listed and f"{keys[1]}  open" in listed


OLD = {"items": [{"text": "a"}, {"text": "b", "withheld_from": ["zofia"], "reason": "third_party"}]}


@pytest.mark.parametrize(("new", "expected"), [
    pytest.param({"items": [{"text": "a", "withheld_from": ["karim"], "reason": "third_party"},
                            {"text": "b", "withheld_from": ["karim", "zofia"], "reason": "third_party"}]}, True,
                 id="markings added"),
    pytest.param(OLD, True, id="nothing changed"),
    pytest.param({"items": [{"text": "a!"}, OLD["items"][1]]}, False, id="a word changed"),
    pytest.param({"items": [{"text": "a"}, {"text": "b"}]}, False, id="a marking taken away"),
    pytest.param({"items": [{"text": "a"}, {"text": "b", "withheld_from": ["zofia"], "reason": "other"}]}, False,
                 id="a reason changed"),
    pytest.param({"items": [{"text": "a"}]}, False, id="an item removed"),
    pytest.param({"items": [{"text": "a", "confidentiality": "open"}, OLD["items"][1]]}, False,
                 id="another marking added"),
])
def test_only_a_version_that_withholds_more_is_no_edit_of_the_content(new: dict[str, Any], expected: bool) -> None:
    assert approval.only_withheld_more(new, OLD) is expected
