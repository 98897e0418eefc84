"""Chair approval bound to content, the release check, report sharing decisions, and the audit
trail in the database, on every backend (SQLite always, PostgreSQL when a URL is given).

The tests in ``TestWithRendering`` make real PDFs (WeasyPrint and the leak check); the rest need no
rendering (select them with ``-k "not TestWithRendering"``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from docgen.adapters.case_store import content_hash
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm import ConferenceVersion
from docgen.adapters.orm_governance import Approval, audit_entries, verify_trail
from docgen.adapters.templating import render_html
from docgen.configuration.authority import parse_settings
from docgen.configuration.toml import Problems
from docgen.domain.audit import AuditEntry
from docgen.domain.documents import KINDS, CopySpec, copy_marking, family_audience, plan_copies
from docgen.domain.redaction import PROFESSIONALS
from docgen.domain.views import build_case_view
from docgen.errors import ApprovalError, AuditError, ConfigurationError, NotFoundError
from docgen.services import approval, review
from docgen.services.importing import content_version, import_case_file, stored_case
from docgen.services.runtime import Runtime
from tests.support.chair import review_and_approve
from tests.support.cli import run_governance_cli

CHAIR = "david-pryce"
NOT_CHAIR = "hannah-okafor"
VISIBLE_WORDS = ("She asked for help with housing.", "She asked for help with schooling.")
WITHHELD_WORDS = ("No charging decision\n            has been made.", "No charging decision\n            has been taken.")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "haddad-wisniewska.yaml"


@pytest.fixture
def reference(runtime: Runtime) -> str:
    imported, version = import_case_file(runtime, EXAMPLE, actor="business-support")
    assert version == 1
    return imported


def changed_case_file(tmp_path: Path, old: str, new: str) -> Path:
    source = EXAMPLE.read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    path = tmp_path / "changed.yaml"
    path.write_text(source.replace(old, new), encoding="utf-8")
    return path


def events(runtime: Runtime, reference: str | None = None, action: str | None = None) -> list[AuditEntry]:
    with unit_of_work(runtime.sessions) as session:
        return [e for e in audit_entries(session, reference=reference) if action is None or e.action == action]


def refusal_reasons(runtime: Runtime, reference: str) -> list[str]:
    return [str(e.details["reason"]) for e in events(runtime, reference, "sending_refused")]


def lift_append_only(runtime: Runtime, table: str) -> None:
    """What someone with the database owner's rights could do: take the triggers away."""
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
            connection.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        else:
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


# -- the chair's review, pure ---------------------------------------------------------------------

@pytest.mark.parametrize(("person", "flagged", "not_flagged"), [
    pytest.param("karim", ["Children › Lena Haddad-Wiśniewska › address", "Family › Zofia Wiśniewska › address",
                           "Record › 'Lena's account' › item 1", "Record › 'Information from the police'",
                           "Record › 'Legal advice'", "Record › 'Summary of discussion' › item 2 › row 4"],
                 ["Family › Karim Haddad › address"], id="father-victim-address-disclosure-confidential"),
    pytest.param("zofia", ["Family › Karim Haddad › address", "Record › 'Information from the police'",
                           "Record › 'Legal advice'",
                           "Reports › 'Police report' › 'Police involvement' › item 1"],
                 ["Family › Zofia Wiśniewska › address", "Record › 'Lena's account' › item 1"],
                 id="mother-father-address-and-confidential"),
    pytest.param("lena", ["Record › 'Legal advice'"], ["Children › Lena Haddad-Wiśniewska › address"], id="child"),
])
def test_the_review_flags_exactly_what_is_withheld_from_that_reader(example_case: dict[str, Any], person: str,
                                                                   flagged: list[str], not_flagged: list[str]) -> None:
    audience = family_audience(example_case, person)
    view, items = review.chair_review_view(build_case_view(example_case), audience)
    wheres = [item.where for item in items]
    for where in flagged:
        assert where in wheres
    for where in not_flagged:
        assert where not in wheres
    assert len(wheres) == len({item.path for item in items})  # each node once, subject children not repeated
    disclosure = view["record"]["sections"][2]["items"][0]
    assert disclosure["text"].startswith("Lena told her social worker")  # nothing is taken out for the chair
    assert disclosure.get("withheld_for_reader", False) is (person == "karim")


def test_review_reasons_say_why_in_words(example_case: dict[str, Any]) -> None:
    _, items = review.chair_review_view(build_case_view(example_case), family_audience(example_case, "karim"))
    reasons = {item.where: item.reason for item in items}
    assert reasons["Record › 'Lena's account' › item 1"] == \
        "Withheld from Karim Haddad: a child's disclosure, shared in confidence"
    assert reasons["Record › 'Legal advice'"] == "Confidential to professionals: legal advice"


def test_the_review_template_highlights_withheld_items_beside_their_reason(example_case: dict[str, Any], settings) -> None:
    audience = family_audience(example_case, "karim")
    view, items = review.chair_review_view(build_case_view(example_case), audience)
    context = {"authority": settings.authority, "contacts": settings.contacts,
               "document": {"kind": "chair_review", "title": "Chair's review", "reference": "R",
                            "protective_marking": "OFFICIAL-SENSITIVE", "generated_on_text": "20 November 2026",
                            "language": "en-GB"},
               "copy": {**copy_marking(PROFESSIONALS, settings), "recipient_line": ""}, "placeholder": "", "case": view,
               "recipient": None, "report": None,
               "review": {"reader_name": audience.name, "reader_kind": audience.kind, "withheld": [vars(i) for i in items],
                          "copy_file": "x.pdf", "copy_sha256": "0" * 64, "copy_pages": 1, "content_version": 1,
                          "shared_reports": []}}
    html = render_html(review.REVIEW_TEMPLATE, context)
    disclosure = re.search(r'<div class="review-withheld">\s*<p class="review-flag">WITHHELD: Withheld from Karim Haddad: '
                           r"a child&#39;s disclosure, shared in confidence</p>\s*<p>Lena told her social worker", html)
    assert disclosure is not None
    assert html.count('class="review-flag"') >= len(items)
    assert "Do not send this document to the family" in html


# -- decisions and the release check without rendering --------------------------------------------

@pytest.mark.parametrize("decide", [
    pytest.param(lambda rt, ref: approval.approve(rt, ref, "zofia", chair=NOT_CHAIR), id="approve"),
    pytest.param(lambda rt, ref: approval.return_copy(rt, ref, "zofia", chair=NOT_CHAIR, comment="no"), id="return"),
    pytest.param(lambda rt, ref: approval.approve_report_sharing(rt, ref, "school-report", chair=NOT_CHAIR, decision=True),
                 id="share-report"),
])
def test_only_the_conference_chair_may_decide(runtime: Runtime, reference: str, decide: Any) -> None:
    with pytest.raises(ApprovalError, match=r"'hannah-okafor' is not the chair of conference .*david-pryce, David Pryce"):
        decide(runtime, reference)
    assert events(runtime) == []
    with unit_of_work(runtime.sessions) as session:
        assert session.scalars(select(Approval)).all() == []


def test_approval_by_the_chair_who_saved_the_content_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    reference, _ = import_case_file(runtime, EXAMPLE, actor=CHAIR)
    with pytest.raises(ApprovalError, match=r"'david-pryce' saved content version 1 .*second pair of eyes"):
        approval.approve(runtime, reference, "zofia", chair=CHAIR)
    # Someone else saving the same content makes it approvable by the chair (checked in TestWithRendering).
    assert not events(runtime, reference, "approved")


def test_the_second_pair_of_eyes_is_on_unless_the_authority_turns_it_off(settings) -> None:
    base = {"authority": {"name": "N", "service": "S", "address": ["A"], "phone": "1", "email": "e@x.invalid"},
            "contacts": {"complaints": "c", "interpreter": "i"}}
    assert settings.approval.chair_may_approve_own_edits is False
    for table, expected in [({}, False), ({"approval": {"chair_may_approve_own_edits": True}}, True)]:
        parsed = parse_settings({**base, **table}, source="authority.toml", problems=Problems())
        assert parsed is not None and parsed.approval.chair_may_approve_own_edits is expected
    problems = Problems()
    parse_settings({**base, "approval": {"chair_may_approve_own_edit": True}}, source="authority.toml",
                   problems=problems)
    with pytest.raises(ConfigurationError, match="chair_may_approve_own_edit"):
        problems.raise_if_any("Authority settings not loaded")


def test_a_returned_copy_is_not_released_and_the_refusal_is_recorded(runtime: Runtime, reference: str) -> None:
    row = approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Section 6 misquotes the health visitor.")
    assert (row.decision, row.chair, row.content_version, row.copy_sha256) == ("returned", CHAIR, 1, None)
    with pytest.raises(ApprovalError, match=r"returned it on 20/11/2026 09:00 \(decision 1\)") as refused:
        approval.check_approval(runtime, reference, "zofia", "0" * 64, 1)
    assert "misquotes" not in str(refused.value)  # the comment stays with the decision, out of logs
    assert refusal_reasons(runtime, reference) == ["returned"]
    assert [e.action for e in events(runtime, reference)] == ["returned", "sending_refused"]


def test_a_return_needs_a_comment(runtime: Runtime, reference: str) -> None:
    with pytest.raises(ApprovalError, match="needs a comment"):
        approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="  ")


@pytest.mark.parametrize(("person", "version", "reason"), [
    pytest.param("zofia", 1, "not_approved", id="never-approved"),
    pytest.param("zofia", 7, "copy_out_of_date", id="copy-from-another-version"),
    pytest.param("nobody", 1, "unknown_reader", id="unknown-reader"),
])
def test_release_without_a_valid_approval_is_refused_and_recorded(runtime: Runtime, reference: str, person: str,
                                                                  version: int, reason: str) -> None:
    with pytest.raises(ApprovalError, match=f"{person}'s copy of conference {reference} was not released"):
        approval.check_approval(runtime, reference, person, "0" * 64, version)
    assert refusal_reasons(runtime, reference) == [reason]


def test_given_a_session_the_refusal_is_recorded_in_the_callers_transaction(runtime: Runtime, reference: str) -> None:
    with unit_of_work(runtime.sessions) as session, pytest.raises(ApprovalError):
        approval.check_approval(session, reference, "zofia", "0" * 64, 1, clock=runtime.clock)
    assert refusal_reasons(runtime, reference) == ["not_approved"]


def test_an_approval_written_straight_into_the_table_is_not_trusted(runtime: Runtime, reference: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        content = approval.current_content(session, reference)
        audience = family_audience(content.case, "zofia")
        session.add(Approval(conference_reference=reference, person="zofia", document="conference_record",
                             decision="approved", chair=CHAIR, decided_at=runtime.clock().replace(tzinfo=None),
                             content_version=content.version, content_sha256=content.sha256,
                             view_sha256=approval.view_hash(content.case, audience), copy_sha256="ab" * 32,
                             copy_format="pdf", generated_on=runtime.clock().date()))
    # Decisions are read from the audit trail: a row it does not record is no decision at all.
    with pytest.raises(ApprovalError, match="the chair has not approved it"):
        approval.check_approval(runtime, reference, "zofia", "ab" * 32, 1)
    assert refusal_reasons(runtime, reference) == ["not_approved"]


# -- report sharing -------------------------------------------------------------------------------

def test_a_report_the_chair_shares_is_planned_for_parents_until_the_chair_decides_otherwise(
        runtime: Runtime, reference: str) -> None:
    def school_copies() -> list[str]:
        case = stored_case(runtime, reference)
        return [j.audience.slug for j in plan_copies(case, approval.approved_reports(runtime, reference))
                if j.report == "school-report" and j.audience.is_family_copy]

    assert approval.approved_reports(runtime, reference) == frozenset()
    assert school_copies() == []
    row = approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
    assert (row.shared, row.chair, row.content_version) == (True, CHAIR, 1)
    assert approval.approved_reports(runtime, reference) == frozenset({"school-report"})
    assert school_copies() == ["family-zofia", "family-karim"]
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=False, comment="On reflection")
    assert approval.approved_reports(runtime, reference) == frozenset()
    assert [e.details["shared"] for e in events(runtime, reference, "report_sharing_decided")] == [True, False]


def test_a_sharing_decision_lapses_when_the_report_changes(runtime: Runtime, reference: str, tmp_path: Path) -> None:
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
    import_case_file(runtime, changed_case_file(tmp_path, "sometimes asks to stay in at playtime",
                                                "often asks to stay in at playtime"), actor="business-support",
                     replace=True)
    assert approval.approved_reports(runtime, reference) == frozenset()
    assert approval.approved_reports(runtime, reference) == frozenset()
    assert len(events(runtime, reference, "report_sharing_invalidated")) == 1  # recorded once


def test_a_sharing_decision_survives_changes_elsewhere(runtime: Runtime, reference: str, tmp_path: Path) -> None:
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
    import_case_file(runtime, changed_case_file(tmp_path, *VISIBLE_WORDS), actor="business-support", replace=True)
    assert approval.approved_reports(runtime, reference) == frozenset({"school-report"})


@pytest.mark.parametrize(("report", "error", "message"), [
    pytest.param("police-report", ApprovalError, "marked shared_with_parents: no", id="not-for-the-chair"),
    pytest.param("sw-report", ApprovalError, "marked shared_with_parents: yes", id="already-shared"),
    pytest.param("no-such-report", NotFoundError, "its reports are: sw-report, police-report", id="unknown"),
])
def test_only_reports_marked_chair_decides_take_a_decision(runtime: Runtime, reference: str, report: str,
                                                           error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        approval.approve_report_sharing(runtime, reference, report, chair=CHAIR, decision=True)


# -- the tables are append-only, and tampering is found -------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE {table} SET chair = 'someone-else'", "DELETE FROM {table}"],
                         ids=["update", "delete"])
@pytest.mark.parametrize("table", ["audit_events", "approvals", "report_sharing_decisions"])
def test_the_database_refuses_to_change_or_delete_decisions_and_audit_entries(runtime: Runtime, reference: str,
                                                                              table: str, statement: str) -> None:
    approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Please check section 6.")
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
    sql = statement.format(table=table)
    if table == "audit_events":
        sql = sql.replace("chair =", "actor =")
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
        connection.exec_driver_sql(sql)
    with runtime.engine.connect() as connection:
        assert connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() >= 1


def test_postgresql_also_refuses_truncate(runtime: Runtime, reference: str) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none")
    approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Please check section 6.")
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE audit_events")


def _some_history(runtime: Runtime, reference: str) -> None:
    approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Please check section 6.")
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
    with pytest.raises(ApprovalError):
        approval.check_approval(runtime, reference, "zofia", "0" * 64, 1)
    approval.record_event(runtime, "generated", actor="docgen", reference=reference, details={"copies": 40})


@pytest.mark.parametrize(("tamper", "entry"), [
    pytest.param("UPDATE audit_events SET actor = 'hannah-okafor' WHERE sequence = 1", "entry 1", id="actor-changed"),
    pytest.param("UPDATE audit_events SET recorded_at = recorded_at WHERE sequence = 2", None, id="no-op-is-not-a-change"),
    pytest.param("UPDATE audit_events SET subject = 'karim' WHERE sequence = 3", "entry 3", id="subject-changed"),
    pytest.param("DELETE FROM audit_events WHERE sequence = 2", "entry 3", id="middle-deleted"),
])
def test_audit_verify_finds_a_tampered_row(runtime: Runtime, reference: str, database_url: str, tamper: str,
                                           entry: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    _some_history(runtime, reference)
    with unit_of_work(runtime.sessions) as session:
        count, head = verify_trail(session)
    assert count == 4
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql(tamper)
    if entry is None:
        run_governance_cli(database_url, "audit", "verify", "--expect-head", head)
        assert "Audit trail intact: 4 entries" in capsys.readouterr().out
        return
    with pytest.raises(AuditError, match=f"broken at {entry}: "):
        run_governance_cli(database_url, "audit", "verify")


def test_audit_verify_with_the_noted_head_finds_entries_removed_from_the_end(runtime: Runtime, reference: str,
                                                                             database_url: str) -> None:
    _some_history(runtime, reference)
    with unit_of_work(runtime.sessions) as session:
        _, head = verify_trail(session)
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_events WHERE sequence = 4")
    run_governance_cli(database_url, "audit", "verify")  # consistent in itself
    with pytest.raises(AuditError, match="removed from the end"):
        run_governance_cli(database_url, "audit", "verify", "--expect-head", head)


def test_cli_return_share_and_list(runtime: Runtime, reference: str, database_url: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run_governance_cli(database_url, "return", reference, "--for", "karim", "--chair", CHAIR, "--comment", "Check the address.")
    run_governance_cli(database_url, "share-report", reference, "school-report", "--chair", CHAIR, "--yes")
    run_governance_cli(database_url, "audit", "list", reference)
    out = capsys.readouterr().out
    assert "Returned karim's copy" in out and "school-report" in out and "may be shared with parents" in out
    listed = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert [(row[0], row[3], row[4], row[5], row[6]) for row in listed] == [
        ("1", CHAIR, "returned", reference, "karim"), ("2", CHAIR, "report_sharing_decided", reference, "school-report")]
    with pytest.raises(SystemExit):
        run_governance_cli(database_url, "share-report", reference, "school-report", "--chair", CHAIR)  # --yes or --no required


# -- with rendering: approval bound to the content, end to end ------------------------------------

class TestWithRendering:
    """Approval bound to the content, end to end, with real family copies."""

    def test_approval_needs_the_chair_to_have_opened_the_review_of_exactly_this_version(
            self, runtime: Runtime, reference: str, tmp_path: Path) -> None:
        with pytest.raises(ApprovalError, match=r"has not opened the review of zofia's copy .* content version 1"):
            approval.approve(runtime, reference, "zofia", chair=CHAIR)
        review.preview(runtime, reference, "zofia", actor="business-support", out_dir=tmp_path)
        with pytest.raises(ApprovalError, match="has not opened the review"):
            approval.approve(runtime, reference, "zofia", chair=CHAIR)  # someone else's preview does not count
        review.preview(runtime, reference, "zofia", actor=CHAIR, chair=CHAIR, out_dir=tmp_path)
        import_case_file(runtime, changed_case_file(tmp_path, *VISIBLE_WORDS), actor="business-support", replace=True)
        with pytest.raises(ApprovalError, match="at content version 2"):
            approval.approve(runtime, reference, "zofia", chair=CHAIR)  # a preview of version 1 does not count
        review.preview(runtime, reference, "zofia", actor=CHAIR, chair=CHAIR, out_dir=tmp_path)
        assert approval.approve(runtime, reference, "zofia", chair=CHAIR).content_version == 2

    def test_an_authority_may_let_the_chair_approve_their_own_edits(self, runtime: Runtime) -> None:
        reference, _ = import_case_file(runtime, EXAMPLE, actor=CHAIR)
        rules = dataclasses.replace(runtime.settings.approval, chair_may_approve_own_edits=True)
        allowed = dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings, approval=rules))
        assert review_and_approve(allowed, reference, "zofia", chair=CHAIR).decision == "approved"

    def test_approval_binds_chair_time_copy_and_content_and_clears_release(self, runtime: Runtime, reference: str) -> None:
        row = review_and_approve(runtime, reference, "zofia", chair=CHAIR, comment="Accurate.")
        assert (row.decision, row.chair, row.content_version, row.document) == ("approved", CHAIR, 1, "conference_record")
        assert row.decided_at == runtime.clock().replace(tzinfo=None)
        assert re.fullmatch("[0-9a-f]{64}", row.copy_sha256 or "")
        approval.check_approval(runtime, reference, "zofia", row.copy_sha256 or "", 1)
        assert [e.action for e in events(runtime, reference)] == ["previewed", "approved", "sending_cleared"]
        approved = events(runtime, reference, "approved")[0]
        assert approved.actor == CHAIR and approved.details["copy_sha256"] == row.copy_sha256
        assert "Accurate." not in str(approved.details)  # comments stay in the decision, out of the permanent trail

    @pytest.mark.parametrize("words", [VISIBLE_WORDS, WITHHELD_WORDS],
                             ids=["word-the-reader-sees", "word-withheld-from-reader"])
    def test_changing_one_word_blocks_release_until_reapproved(self, runtime: Runtime, reference: str, tmp_path: Path,
                                                               words: tuple[str, str]) -> None:
        first = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        approval.check_approval(runtime, reference, "zofia", first.copy_sha256 or "", 1)

        import_case_file(runtime, changed_case_file(tmp_path, *words), actor="business-support", replace=True)
        assert content_version(runtime, reference) == 2
        with pytest.raises(ApprovalError, match="made from content version 1, but the conference is now at version 2"):
            approval.check_approval(runtime, reference, "zofia", first.copy_sha256 or "", 1)
        new_copy = approval.render_family_copy(runtime, reference, "zofia")
        changed = r"the record changed after the chair approved it \(approved content version 1, now 2\)"
        with pytest.raises(ApprovalError, match=changed):
            approval.check_approval(runtime, reference, "zofia", new_copy.sha256, 2, view_sha256=new_copy.view_sha256)
        assert refusal_reasons(runtime, reference) == ["copy_out_of_date", "content_changed"]
        invalidated = events(runtime, reference, "approval_invalidated")
        assert [(e.subject, e.details["approval"]) for e in invalidated] == [("zofia", first.id)]

        second = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        assert second.content_version == 2
        approval.check_approval(runtime, reference, "zofia", second.copy_sha256 or "", 2)
        approval.check_approval(runtime, reference, "zofia", new_copy.sha256, 2, view_sha256=new_copy.view_sha256)

    def test_a_return_after_approval_blocks_release_until_approved_again(self, runtime: Runtime, reference: str) -> None:
        first = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Remove the second paragraph of section 6.")
        with pytest.raises(ApprovalError, match="returned it"):
            approval.check_approval(runtime, reference, "zofia", first.copy_sha256 or "", 1)
        second = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        approval.check_approval(runtime, reference, "zofia", second.copy_sha256 or "", 1)

    def test_an_edit_made_without_a_new_content_version_still_invalidates(self, runtime: Runtime, reference: str) -> None:
        row = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        # Copies are made from the stored version, so that is what is edited in place, its SHA-256 made to
        # match: what only someone with the database owner's rights could do (the table is append-only).
        lift_append_only(runtime, "conference_versions")
        with unit_of_work(runtime.sessions) as session:
            stored = session.scalars(select(ConferenceVersion).where(ConferenceVersion.reference == reference)).one()
            text_before = json.dumps(stored.content, ensure_ascii=False)
            assert text_before.count("help with housing") == 1
            edited = json.loads(text_before.replace("help with housing", "help with schooling"))
            stored.content, stored.content_sha256 = edited, content_hash(edited)
        with pytest.raises(ApprovalError, match="the record changed after the chair approved it"):
            approval.check_approval(runtime, reference, "zofia", row.copy_sha256 or "", 1)

    def test_copies_rendered_again_are_released_on_the_approved_view_only(self, runtime: Runtime, reference: str) -> None:
        row = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        again = approval.render_family_copy(runtime, reference, "zofia")
        approval.check_approval(runtime, reference, "zofia", again.sha256, 1, view_sha256=again.view_sha256)
        with pytest.raises(ApprovalError, match="neither the copy the chair approved"):
            approval.check_approval(runtime, reference, "zofia", "f" * 64, 1, view_sha256="0" * 64)
        case = stored_case(runtime, reference)
        for copy_spec in plan_copies(case):
            if copy_spec.audience.person == "zofia" or not copy_spec.audience.is_family_copy:
                approval.check_approval_of(runtime, reference, copy_spec, b"%PDF- personalised copy", case=case)
        karim = next(j for j in plan_copies(case) if j.audience.person == "karim")
        with pytest.raises(ApprovalError, match="the chair has not approved it"):
            approval.check_approval_of(runtime, reference, karim, b"%PDF-", case=case)
        # The approval binds the view together with the templates the reader's copies are made from.
        assert row.view_sha256 == approval.bound_view_hash(again.view_sha256, case, again.copy_spec.audience,
                                                           runtime.settings.templates.folder)

    def test_a_copy_made_from_older_content_is_refused_after_a_new_approval(self, runtime: Runtime, reference: str,
                                                                            tmp_path: Path) -> None:
        old_case = stored_case(runtime, reference)
        review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        import_case_file(runtime, changed_case_file(tmp_path, *VISIBLE_WORDS), actor="business-support", replace=True)
        review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        copy_spec = next(j for j in plan_copies(old_case) if j.audience.person == "zofia" and j.kind.key == "conference_record")
        with pytest.raises(ApprovalError, match="render the copy again"):
            approval.check_approval_of(runtime, reference, copy_spec, b"%PDF- made from version 1", case=old_case)

    def test_a_report_copy_needs_the_chairs_sharing_decision_as_well(self, runtime: Runtime, reference: str) -> None:
        review_and_approve(runtime, reference, "zofia", chair=CHAIR)
        case = stored_case(runtime, reference)
        copy_spec = CopySpec(KINDS["agency_report"], family_audience(case, "zofia"), report="school-report")
        with pytest.raises(ApprovalError, match="report 'school-report' may not be shared with parents"):
            approval.check_approval_of(runtime, reference, copy_spec, b"%PDF-", case=case)
        approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=True)
        approval.check_approval_of(runtime, reference, copy_spec, b"%PDF-", case=case)

    def test_preview_writes_the_family_copy_and_the_chairs_review_beside_it(self, runtime: Runtime, reference: str,
                                                                            tmp_path: Path, database_url: str,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
        run_governance_cli(database_url, "preview", reference, "--for", "zofia", "--out", str(tmp_path / "review"),
                "--actor", "minute-taker")
        assert "Chair review:" in capsys.readouterr().out
        family = (tmp_path / "review" / "conference_record--family-zofia.pdf").read_bytes()
        review = (tmp_path / "review" / "conference_record--family-zofia--chair-review.pdf").read_bytes()
        family_text, review_text = pdf_text(family), pdf_text(review)
        assert "Oliver Brennan" not in family_text and "Legal advice from Northmoor" not in family_text
        assert "Oliver Brennan" in review_text and "WITHHELD: Confidential to professionals: legal advice" in review_text
        assert "Do not send this document to the family" in review_text
        previewed = events(runtime, reference, "previewed")
        # Six: the five marked items, and Mr Haddad's phone and email (withheld with his address).
        assert [(e.actor, e.subject, e.details["withheld_items"]) for e in previewed] == [("minute-taker", "zofia", 6)]
        run_governance_cli(database_url, "preview", reference, "--for", "zofia", "--out", str(tmp_path / "review"), "--chair", CHAIR)
        assert "Disclosure flags: 0 (0 open)" in capsys.readouterr().out
        run_governance_cli(database_url, "approve", reference, "--for", "zofia", "--chair", CHAIR)
        assert "Approved zofia's copies" in capsys.readouterr().out
