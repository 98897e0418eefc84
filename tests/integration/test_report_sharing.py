"""The chair's decision to share a report takes effect: in the pack, in the outbox after ``schedule``,
in what the scheduler's message builder sends, and in ``render``; on every backend.

The example's school report is marked ``chair_decides``: until the chair shares it no family
member receives it, and once the chair decides otherwise its scheduled copies are cancelled.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from distribution.demo_pki import DemoPki
from distribution.keys import load_signing_identity
from docgen.adapters.database import unit_of_work
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.domain.outbox import CANCELLED_UNPLANNED, OutboxItem
from docgen.entrypoints.cli import main
from docgen.errors import ApprovalError
from docgen.services import approval
from docgen.services.delivery import DeliveryContext, DocumentMessages
from docgen.services.importing import import_case_file, stored_case
from docgen.services.report_sharing import reports_shared
from docgen.services.runtime import Runtime
from docgen.services.scheduling import schedule_conference
from tests.support.chair import review_and_approve
from tests.support.pki import SIGNING_PASSPHRASE

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "haddad-wisniewska.yaml"
CHAIR = "david-pryce"
SCHOOL_COPIES = {"agency_report--school-report--family-zofia", "agency_report--school-report--family-karim"}


@pytest.fixture
def reference(runtime: Runtime) -> str:
    imported, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    return imported


def share(runtime: Runtime, reference: str, decision: bool) -> None:
    approval.approve_report_sharing(runtime, reference, "school-report", chair=CHAIR, decision=decision)


def schedule(runtime: Runtime, reference: str) -> dict[str, OutboxItem]:
    """Schedule the stored conference as ``docgen schedule`` does; its school-report family items by copy."""
    with unit_of_work(runtime.sessions) as session:
        result = schedule_conference(session, stored_case(runtime, reference),
                                     load_rules(DEFAULT_CONFIG_DIR / "circulation.toml"), now=runtime.clock(),
                                     envelope_from=runtime.settings.authority.email)
    return {i.copy: i for i in result.items if i.report == "school-report" and i.family_copy}


def test_the_outbox_follows_the_chairs_decision(runtime: Runtime, reference: str) -> None:
    assert schedule(runtime, reference) == {}
    share(runtime, reference, True)
    shared = schedule(runtime, reference)
    assert set(shared) == SCHOOL_COPIES
    assert {i.recipient for i in shared.values()} == {"zofia", "karim"}
    assert all(i.state != "cancelled" for i in shared.values())
    share(runtime, reference, False)
    unshared = schedule(runtime, reference)
    assert set(unshared) == SCHOOL_COPIES and all(i.state == "cancelled" for i in unshared.values())
    assert {c: i.id for c, i in unshared.items()} == {c: i.id for c, i in shared.items()}
    assert all(i.hold_reason == CANCELLED_UNPLANNED for i in unshared.values())


def test_a_decision_applies_only_to_the_report_the_chair_decided_on(runtime: Runtime, reference: str) -> None:
    share(runtime, reference, True)
    case = stored_case(runtime, reference)
    assert reports_shared(runtime, case) == frozenset({"school-report"})
    changed = copy.deepcopy(case)
    next(r for r in changed["reports"] if r["id"] == "school-report")["title"] += " (revised)"
    assert reports_shared(runtime, changed) == frozenset()  # a case file with another version of the report
    other = copy.deepcopy(case)
    other["reference"] = "NM-ICPC-2099-0001"
    assert reports_shared(runtime, other) == frozenset()  # never imported: nobody decided anything


def test_the_scheduler_sends_a_shared_report_and_holds_it_once_unshared(
        runtime: Runtime, reference: str, tmp_path: Path, example_pki: DemoPki, portal_secret: str) -> None:
    messages = DocumentMessages(DeliveryContext(
        runtime=runtime, signer=load_signing_identity(example_pki.signing_p12_path, prompt=lambda _: SIGNING_PASSPHRASE),
        archive_certificate=example_pki.archive.certificate, ca_certificates=[example_pki.ca.certificate],
        folder=tmp_path / "delivery", sender_address=runtime.settings.authority.email,
        portal_url="https://docs.northmoor.example"))
    share(runtime, reference, True)
    item = schedule(runtime, reference)["agency_report--school-report--family-zofia"]
    review_and_approve(runtime, reference, "zofia", chair=CHAIR)
    messages.approval_gate(item)
    message = messages.build(item).message
    assert item.message_id in message.decode("ascii", "replace")
    share(runtime, reference, False)
    # Before the conference is scheduled again, the message already built is held, not sent.
    with pytest.raises(ApprovalError, match=r"is no longer part of conference .* it is held until the chair decides"):
        messages.build(item)


def cli(database_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(["--database", database_url, *argv])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_docgen_pack_holds_the_reports_the_chair_shares(runtime: Runtime, database_url: str, reference: str,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def school_copies(folder: str) -> set[str]:
        code, _, err = cli(database_url, "pack", reference, "--out", str(tmp_path / folder), "--formats", "docx",
                           capsys=capsys)
        assert code == 0, err
        manifest = json.loads((tmp_path / folder / "manifest.json").read_text(encoding="utf-8"))
        return {Path(a["path"]).stem for a in manifest["artifacts"] if a["family_copy"] and "school-report" in a["path"]}

    assert school_copies("before") == set()
    share(runtime, reference, True)
    assert school_copies("shared") == SCHOOL_COPIES
    share(runtime, reference, False)
    assert school_copies("unshared") == set()


def test_docgen_render_renders_a_shared_report_only_once_the_chair_shares_it(
        runtime: Runtime, database_url: str, reference: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "school-zofia.docx"
    argv = ("render", "agency_report", "--case", reference, "--for", "zofia", "--report", "school-report",
            "--format", "docx", "--out", str(out))
    code, _, err = cli(database_url, *argv, capsys=capsys)
    assert code == 1 and "has no agency_report copy like that" in err and not out.exists()
    share(runtime, reference, True)
    code, printed, err = cli(database_url, *argv, capsys=capsys)
    assert code == 0, err
    assert out.exists() and f"Wrote {out}" in printed


def test_docgen_render_for_an_unknown_person_names_who_can_be_chosen(
        runtime: Runtime, database_url: str, reference: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(database_url, "render", "conference_record", "--case", reference, "--for", "nobody",
                       capsys=capsys)
    assert code == 2
    assert "Traceback" not in err and "StopIteration" not in err
    assert "'nobody'" in err
    for named in ("lena (child)", "adam (child)", "zofia (mother)", "karim (father)"):
        assert named in err

