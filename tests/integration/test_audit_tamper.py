"""The tamper suite: what a database owner can do with the triggers dropped, on every backend, against
a trail whose head is checkpointed and signed outside the database. ``docgen audit verify`` finds each
attack and says which entries it affects, and an approvals table edited to "approved" (or with the
chair's later return deleted) does not release the copy."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from distribution import demo_pki
from docgen.adapters.audit_checkpoints import CheckpointSigner
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import Approval, AuditEvent, audit_entries
from docgen.domain.audit import AuditEntry, seal
from docgen.errors import ApprovalError, AuditError
from docgen.services import approval
from docgen.services.audit_trail import checkpoint, signed_checkpoints, use_audit_seal
from docgen.services.importing import import_case_file
from docgen.services.runtime import Runtime
from tests.integration.test_approval import CHAIR, EXAMPLE, lift_append_only
from tests.support.chair import review_and_approve
from tests.support.cli import run_governance_cli


@pytest.fixture
def checkpoints(runtime: Runtime, pki: demo_pki.DemoPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The signed checkpoint file, where this process writes and `docgen audit verify` reads it."""
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("DOCGEN_AUDIT_CHECKPOINTS", str(path))
    use_audit_seal(runtime, path=path, signer=CheckpointSigner(pki.signing.private_key, pki.signing.certificate))
    return path


@pytest.fixture
def reference(runtime: Runtime, checkpoints: Path) -> str:
    """A conference with a history: a return, a report sharing decision, two packs generated; each
    decision and event checkpointed as it was made."""
    imported, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    approval.return_copy(runtime, imported, "zofia", chair=CHAIR, comment="Please check section 6.")
    approval.approve_report_sharing(runtime, imported, "school-report", chair=CHAIR, decision=True)
    approval.record_event(runtime, "generated", actor="docgen", reference=imported, details={"copies": 40})
    approval.record_event(runtime, "generated", actor="docgen", reference=imported, details={"copies": 41})
    return imported


def _entries(runtime: Runtime) -> list[AuditEntry]:
    with unit_of_work(runtime.sessions) as session:
        return list(audit_entries(session))


def _rows(entries: list[AuditEntry]) -> list[dict[str, object]]:
    return [{"sequence": e.sequence, "recorded_at": e.recorded_at, "actor": e.actor, "action": e.action,
             "reference": e.reference, "subject": e.subject, "details": dict(e.details),
             "previous_sha256": e.previous_sha256, "sha256": e.sha256} for e in entries]


def _verify_fails(database_url: str) -> str:
    with pytest.raises(AuditError) as caught:
        run_governance_cli(database_url, "audit", "verify")
    return str(caught.value)


def test_the_untouched_trail_checks_out_against_its_checkpoints(runtime: Runtime, reference: str, database_url: str,
                                                                checkpoints: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    read = signed_checkpoints(use_audit_seal(runtime, path=checkpoints))  # a reader without the key
    assert [c.sequence for c in read.checkpoints] == [1, 2, 3, 4]
    run_governance_cli(database_url, "audit", "verify")
    out = capsys.readouterr().out
    assert "Audit trail intact: 4 entries" in out
    assert "Checked against 4 signed checkpoints" in out


def test_an_edited_entry_is_found(runtime: Runtime, reference: str, database_url: str) -> None:
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.sequence == 2).values(actor="intruder"))
    assert "broken at entry 2: its contents do not match its hash" in _verify_fails(database_url)


def test_a_chain_recomputed_from_an_entry_onwards_is_found(runtime: Runtime, reference: str, database_url: str) -> None:
    original = _entries(runtime)
    rewritten = original[:1]
    for entry in original[1:]:
        changed = replace(entry, actor="intruder") if entry.sequence == 2 else entry
        rewritten.append(seal(changed, rewritten[-1]))
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.sequence >= 2))
        connection.execute(insert(AuditEvent), _rows(rewritten[1:]))
    message = _verify_fails(database_url)
    assert "entry 2 does not have the hash signed in the signed checkpoint of" in message
    assert "the chain was rewritten (recomputed) from an entry after entry 1; entries 2 to 2 cannot be trusted" in message


def test_a_correctly_chained_forged_decision_appended_is_found(runtime: Runtime, reference: str,
                                                               database_url: str) -> None:
    entries = _entries(runtime)
    forged = seal(AuditEntry(sequence=0, recorded_at=entries[-1].recorded_at, actor=CHAIR, action="approved",
                             reference=reference, subject="zofia", details={"approval": 99}), entries[-1])
    with runtime.engine.begin() as connection:  # no trigger stands in the way of an INSERT
        connection.execute(insert(AuditEvent), _rows([forged]))
    message = _verify_fails(database_url)
    assert (f"entry 5 (approved, conference {reference}) was added after the signed checkpoint of") in message
    assert "it may be forged" in message
    # Nor does a later checkpoint cover it silently: the signer did not write it.
    with pytest.raises(AuditError, match="entries 5 are decisions that no checkpoint covers"):
        checkpoint(runtime, actor="distribution")


def test_entries_removed_from_the_end_are_found(runtime: Runtime, reference: str, database_url: str) -> None:
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.sequence >= 3))
    message = _verify_fails(database_url)
    assert "the trail ends at entry 2, but the signed checkpoint of" in message
    assert "entries 3 to 4 were removed from the end" in message


def test_a_dropped_and_recreated_table_is_found(runtime: Runtime, reference: str, database_url: str) -> None:
    table = AuditEvent.__table__
    with runtime.engine.begin() as connection:
        table.drop(connection)  # type: ignore[attr-defined]
        table.create(connection)  # type: ignore[attr-defined]
    message = _verify_fails(database_url)
    assert "the trail is empty, but the signed checkpoint of" in message
    assert "the table was emptied, or dropped and created again; entries 1 to 4 are missing" in message


def test_a_tampered_checkpoint_line_is_not_trusted(runtime: Runtime, reference: str, database_url: str,
                                                   checkpoints: Path) -> None:
    lines = checkpoints.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    record["sequence"] = 3
    checkpoints.write_text("\n".join([*lines[:-1], json.dumps(record)]) + "\n", encoding="utf-8")
    assert "line 4: the signature of the checkpoint of entry 3 does not verify; not trusted" in _verify_fails(database_url)


def test_expect_head_accepts_a_trail_grown_from_it(runtime: Runtime, reference: str, database_url: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    head = _entries(runtime)[-1].sha256
    approval.record_event(runtime, "generated", actor="docgen", reference=reference, details={"copies": 42})
    run_governance_cli(database_url, "audit", "verify", "--expect-head", head)
    assert "Audit trail intact: 5 entries" in capsys.readouterr().out
    with pytest.raises(AuditError, match="no entry has the expected hash"):
        run_governance_cli(database_url, "audit", "verify", "--expect-head", "ab" * 32)


def test_each_checkpoint_can_also_go_to_syslog(runtime: Runtime, reference: str, checkpoints: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(10)
        monkeypatch.setenv("DOCGEN_AUDIT_SYSLOG", f"127.0.0.1:{server.getsockname()[1]}")
        approval.record_event(runtime, "generated", actor="docgen", reference=reference, details={"copies": 43})
        message = server.recv(65536).decode("utf-8")
    assert "docgen-audit-checkpoint " in message
    sent = json.loads(message.split("docgen-audit-checkpoint ", 1)[1].rstrip("\x00"))
    last = json.loads(checkpoints.read_text(encoding="utf-8").splitlines()[-1])
    assert (sent["sequence"], sent["sha256"], sent["signature"]) == (5, last["sha256"], last["signature"])
    assert "certificate" not in sent


# -- release decisions are the trail's, not the tables' ---------------------------------------------

@pytest.fixture
def approved_then_returned(runtime: Runtime, reference: str) -> tuple[Approval, Approval]:
    approved = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
    approval.check_approval(runtime, reference, "zofia", approved.copy_sha256 or "", approved.content_version)
    returned = approval.return_copy(runtime, reference, "zofia", chair=CHAIR, comment="Section 6 names the school.")
    return approved, returned


def _not_released(runtime: Runtime, reference: str, approved: Approval) -> str:
    with pytest.raises(ApprovalError) as caught:
        approval.check_approval(runtime, reference, "zofia", approved.copy_sha256 or "", approved.content_version)
    return str(caught.value)


def test_a_returned_decision_edited_to_approved_does_not_release_the_copy(
        runtime: Runtime, reference: str, approved_then_returned: tuple[Approval, Approval]) -> None:
    approved, returned = approved_then_returned
    lift_append_only(runtime, "approvals")
    with runtime.engine.begin() as connection:
        connection.execute(update(Approval).where(Approval.id == returned.id).values(
            decision="approved", comment=None, copy_sha256=approved.copy_sha256, copy_format="pdf",
            view_sha256=approved.view_sha256, generated_on=approved.generated_on))
    message = _not_released(runtime, reference, approved)
    assert "the approvals table does not match the chair's decision in the audit trail" in message
    assert "returned" in message


def test_deleting_the_chairs_return_does_not_release_the_copy(
        runtime: Runtime, reference: str, approved_then_returned: tuple[Approval, Approval]) -> None:
    approved, returned = approved_then_returned
    lift_append_only(runtime, "approvals")
    with runtime.engine.begin() as connection:
        connection.execute(delete(Approval).where(Approval.id == returned.id))
    assert "the approvals table does not match the chair's decision in the audit trail" in _not_released(
        runtime, reference, approved)


def test_deleting_the_return_from_the_trail_and_recomputing_it_does_not_release_the_copy(
        runtime: Runtime, reference: str, approved_then_returned: tuple[Approval, Approval]) -> None:
    approved, returned = approved_then_returned
    entries = _entries(runtime)
    [gone] = [e for e in entries if e.action == "returned" and e.details.get("approval") == returned.id]
    kept = [e for e in entries if e.sequence < gone.sequence]
    for entry in entries[gone.sequence:]:
        kept.append(seal(entry, kept[-1]))
    lift_append_only(runtime, "approvals")
    lift_append_only(runtime, "audit_events")
    with runtime.engine.begin() as connection:
        connection.execute(delete(Approval).where(Approval.id == returned.id))
        connection.execute(delete(AuditEvent).where(AuditEvent.sequence >= gone.sequence))
        if kept[gone.sequence - 1:]:
            connection.execute(insert(AuditEvent), _rows(kept[gone.sequence - 1:]))
    message = _not_released(runtime, reference, approved)
    assert "its approval cannot be verified" in message
    with unit_of_work(runtime.sessions) as session:  # the refusal itself is recorded
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.sequence.desc())).first() == "sending_refused"
