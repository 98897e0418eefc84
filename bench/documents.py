"""Single documents as a user waits for them: an invitation rendered warm, and the chair's preview
of a family copy of the record (with the family-copy render alone as a secondary figure)."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf

from bench.timing import Timing, time_runs
from docgen.adapters.case_store import save_case
from docgen.adapters.database import unit_of_work
from docgen.bootstrap import bootstrap
from docgen.domain.authority import Settings
from docgen.domain.documents import plan_copies
from docgen.domain.views import build_case_view
from docgen.services.approval import record_copy_spec
from docgen.services.pack import render_copy
from docgen.services.review import preview
from docgen.services.runtime import Runtime


@dataclass(frozen=True)
class InvitationFigures:
    kind: str
    timing: Timing
    pages: int | None


def invitation(case: dict[str, Any], settings: Settings, *, kind: str, runs: int, generated_on: date) -> InvitationFigures:
    """Render the first ``kind`` invitation of the conference as a PDF, warm: the view is built and
    two copies rendered before the timed runs."""
    view = build_case_view(case)
    copy_spec = next(j for j in plan_copies(case) if j.kind.key == kind)

    def render() -> int | None:
        return render_copy(copy_spec, view, settings, generated_on=generated_on, fmt="pdf").pages

    pages = render()
    return InvitationFigures(kind, time_runs(render, runs=runs, warmups=1), pages)


@dataclass(frozen=True)
class PreviewFigures:
    person: str
    preview: Timing  # docgen.services.review.preview: what the chair runs
    family_copy: Timing  # render_copy of that family copy of the record alone
    copy_pages: int | None
    review_pages: int
    withheld_items: int


def store(runtime: Runtime, case: dict[str, Any]) -> None:
    """Save a validated case as ``docgen import`` would (the case file's hash is that of its JSON)."""
    source = hashlib.sha256(json.dumps(case, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    with unit_of_work(runtime.sessions) as session:
        save_case(session, case, saved_by="bench", source_sha256=source, now=runtime.clock().replace(tzinfo=None))


def chair_preview(case: dict[str, Any], folder: Path, *, person: str, runs: int) -> PreviewFigures:
    """Import ``case`` into a new SQLite database in ``folder`` and time the chair's preview of
    ``person``'s copy of the record, after one untimed preview."""
    runtime = bootstrap(f"sqlite:///{folder / 'bench.sqlite3'}")
    runtime.copies = None  # every preview made from nothing, as before the copy store (bench/endtoend.py has both)
    try:
        store(runtime, case)
        reference, chair = case["reference"], case["conference"]["chair"]
        out_dir = folder / "preview"
        first = preview(runtime, reference, person, actor=chair, out_dir=out_dir)
        timing = time_runs(lambda: preview(runtime, reference, person, actor=chair, out_dir=out_dir), runs=runs)
        copy_spec = record_copy_spec(case, person)
        view = build_case_view(case)
        generated_on = runtime.clock().date()
        family_copy = time_runs(lambda: render_copy(copy_spec, view, runtime.settings, generated_on=generated_on, fmt="pdf"),
                                runs=runs, warmups=1)
        with pikepdf.open(io.BytesIO(first.chair_review.read_bytes())) as review:
            review_pages = len(review.pages)
        return PreviewFigures(person, timing, family_copy, first.copy.pages, review_pages, len(first.withheld))
    finally:
        runtime.engine.dispose()
