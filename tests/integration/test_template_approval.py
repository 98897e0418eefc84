"""A template changed after the chair approved a family copy holds the copies it affects until the
chair approves again; a template the reader's copies are not made from holds nothing."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from docgen.configuration.folder import TEMPLATES_DIR
from docgen.domain.authority import Templates
from docgen.domain.documents import plan_copies
from docgen.errors import ApprovalError
from docgen.services import approval
from docgen.services.importing import import_case_file, stored_case
from docgen.services.runtime import Runtime
from tests.support.chair import review_and_approve

CHAIR = "david-pryce"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "haddad-wisniewska.yaml"


@pytest.fixture
def with_templates_folder(runtime: Runtime, tmp_path: Path) -> tuple[Runtime, Path]:
    folder = tmp_path / "authority-templates"
    folder.mkdir()
    settings = dataclasses.replace(runtime.settings, templates=Templates(folder=str(folder)))
    return dataclasses.replace(runtime, settings=settings), folder


def release(runtime: Runtime, reference: str, person: str) -> None:
    """The release check on a copy for ``person`` rendered again, as delivery renders it."""
    again = approval.render_family_copy(runtime, reference, person)
    approval.check_approval(runtime, reference, person, again.sha256, again.content_version, view_sha256=again.view_sha256)


def test_a_changed_template_holds_the_family_copies_it_affects(with_templates_folder: tuple[Runtime, Path]) -> None:
    runtime, folder = with_templates_folder
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    review_and_approve(runtime, reference, "zofia", chair=CHAIR)
    release(runtime, reference, "zofia")

    # A template only professionals' copies are made from: zofia's copies are not affected.
    (folder / "invites").mkdir()
    guidance = (TEMPLATES_DIR / "invites" / "professional_guidance.html").read_text(encoding="utf-8")
    (folder / "invites" / "professional_guidance.html").write_text(guidance.replace("<h1>", "<h1>Updated: ", 1),
                                                                   encoding="utf-8")
    release(runtime, reference, "zofia")

    # The record, which zofia receives, edited by the authority after the approval.
    (folder / "records").mkdir()
    shutil.copyfile(TEMPLATES_DIR / "records" / "conference_record.docx", folder / "records" / "conference_record.docx")
    record = (TEMPLATES_DIR / "records" / "conference_record.html").read_text(encoding="utf-8")
    assert "Minutes taken by" in record
    (folder / "records" / "conference_record.html").write_text(record.replace("Minutes taken by", "Minutes written by"),
                                                               encoding="utf-8")
    with pytest.raises(ApprovalError, match="if a template was changed since the approval"):
        release(runtime, reference, "zofia")
    case = stored_case(runtime, reference)
    for copy_spec in plan_copies(case):
        if copy_spec.audience.person == "zofia":
            with pytest.raises(ApprovalError, match="neither the copy the chair approved"):
                approval.check_approval_of(runtime, reference, copy_spec, b"%PDF- rendered with the new template", case=case)

    review_and_approve(runtime, reference, "zofia", chair=CHAIR)
    release(runtime, reference, "zofia")


def test_the_approved_copy_itself_stays_releasable(with_templates_folder: tuple[Runtime, Path]) -> None:
    """The exact bytes the chair approved were made with the old template, and are what was approved."""
    runtime, folder = with_templates_folder
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    row = review_and_approve(runtime, reference, "zofia", chair=CHAIR)
    (folder / "assets").mkdir()
    (folder / "assets" / "style.css").write_text((TEMPLATES_DIR / "assets" / "style.css").read_text(encoding="utf-8")
                                                 + "\nh1 { font-size: 20pt; }\n", encoding="utf-8")
    approval.check_approval(runtime, reference, "zofia", row.copy_sha256 or "", 1)
    with pytest.raises(ApprovalError, match="neither the copy the chair approved"):
        release(runtime, reference, "zofia")
