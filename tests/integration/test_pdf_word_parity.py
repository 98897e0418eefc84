"""The same document in PDF and Word holds the same content for the same reader: for every document
and audience of the example conferences' packs, each text of the case (what the reader may see and
what was withheld from them) is either in both formats or in neither."""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.readback import read_back_docx, read_back_pdf
from docgen.domain.disclosure import normalise
from docgen.domain.documents import KINDS, plan_copies
from docgen.domain.redaction import redact, strings_in
from docgen.domain.views import build_case_view
from docgen.services.pack import render_copy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / "haddad-wisniewska.yaml", ROOT / "examples" / "haddad-wisniewska-review.yaml"]
GENERATED_ON = date(2026, 11, 20)


def readable(data: bytes, fmt: str) -> str:
    read_back = read_back_pdf(data) if fmt == "pdf" else read_back_docx(data)
    if fmt == "pdf":
        return normalise("\n".join(read_back.pages))
    return normalise("\n".join([*read_back.headers, read_back.body, *read_back.footers]))


def items(view: dict[str, Any], audience: Any) -> dict[str, str]:
    """Each text of the conference that a copy might hold: shown to the reader or withheld."""
    redacted = redact(view, audience)
    texts = [*strings_in(redacted.view), *redacted.withheld.values()]
    # Single words and codes (ids, dates as stored, enumerations) say nothing about content.
    return {normalise(text): text for text in texts if len(text) >= 12 and " " in text.strip()}


def copies_of(example: Path, settings: Any) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    case = validate_case(copy.deepcopy(load_case_file(example)), source=str(example))
    view = build_case_view(case)
    done, out = set(), []
    for copy_spec in plan_copies(case):
        key = (copy_spec.kind.key, copy_spec.audience.slug)
        if key in done:
            continue
        done.add(key)
        texts = {fmt: readable(render_copy(copy_spec, view, settings, generated_on=GENERATED_ON, fmt=fmt).data, fmt)
                 for fmt in ("pdf", "docx")}
        out.append((copy_spec.kind.key, copy_spec.audience.slug, texts, items(view, copy_spec.audience)))
    return out


@pytest.fixture(scope="module")
def rendered(settings: Any) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    return [found for example in EXAMPLES for found in copies_of(example, settings)]


def test_every_document_and_audience_is_compared(rendered: list[tuple[str, str, dict[str, str], dict[str, str]]]) -> None:
    audiences = defaultdict(set)
    for kind, audience, _, _ in rendered:
        audiences[kind].add(audience.split("-")[0])
    assert set(audiences) == set(KINDS)
    for kind in ("conference_record", "decisions_notice", "outline_plan"):
        assert audiences[kind] == {"professional", "family", "child"}, kind


def test_pdf_and_word_hold_the_same_items(rendered: list[tuple[str, str, dict[str, str], dict[str, str]]]) -> None:
    differences = []
    for kind, audience, texts, found in rendered:
        # Each copy holds some of the case in both formats: the comparison reads real text.
        assert any(key in texts["pdf"] and key in texts["docx"] for key in found), f"{kind} for {audience}"
        for key, text in found.items():
            in_pdf, in_docx = key in texts["pdf"], key in texts["docx"]
            if in_pdf != in_docx:
                differences.append(f"{kind} for {audience}: {'only the PDF' if in_pdf else 'only the Word file'} "
                                   f"holds {text[:60]!r}")
    assert differences == []
