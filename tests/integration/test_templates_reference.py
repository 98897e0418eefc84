"""docs/templates.md holds the reference of the names each document's context offers, as generated."""

from __future__ import annotations

from pathlib import Path

from docgen.entrypoints.cli_templates import reference_text
from docgen.services.templates_reference import BEGIN, END

DOC = Path(__file__).resolve().parents[2] / "docs" / "templates.md"


def test_the_reference_in_the_docs_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    assert text[start:end] == reference_text(), "run `docgen templates reference` and put its output in docs/templates.md"


def test_every_name_the_shipped_templates_use_is_in_the_reference() -> None:
    reference = reference_text()
    for name in ("case.conference.chair_name", "copy.label", "copy.copy_for", "copy.notice", "placeholder",
                 "document.protective_marking", "recipient.invitation.report_due_text", "report.author_name",
                 "case.plan.actions[].by_when_text", "authority.logo"):
        assert f"| `{name}` | " in reference, name
    rows = [line for line in reference.splitlines() if line.startswith("| `")]
    assert len(rows) > 200 and all(not line.endswith("|  |") for line in rows)
