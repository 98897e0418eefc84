"""The chair's review made before the chair asks: a worker makes it when the content changes,
what is served as ready is byte for byte what a cold render makes for the same content, and the
command line's preview takes it instead of laying it out again."""

from __future__ import annotations

import copy as copying
import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile import load_case_file
from docgen.adapters.copy_store import CopyStore
from docgen.services import copies, rendering, review
from docgen.services.importing import import_case_file
from docgen.services.jobs import run_one
from docgen.services.review_jobs import REVIEW, ReviewSweep, make_review, review_handler, review_state
from docgen.services.runtime import Runtime
from tests.conftest import EXAMPLE

FILES = ("copy.pdf", "chair-review.pdf", "copy.html", "review.html")


@pytest.fixture
def stored(runtime: Runtime, tmp_path: Path) -> tuple[Runtime, str]:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    return dataclasses.replace(runtime, copies=CopyStore(tmp_path / "store")), reference


def test_the_review_served_as_ready_is_byte_identical_to_a_cold_one(stored, tmp_path: Path) -> None:
    runtime, reference = stored
    ready = make_review(runtime, tmp_path / "ready", reference, "karim")
    cold = make_review(dataclasses.replace(runtime, copies=None), tmp_path / "cold", reference, "karim")
    assert ready.folder != cold.folder
    for name in FILES:
        assert (ready.folder / name).read_bytes() == (cold.folder / name).read_bytes(), name
    assert (ready.copy_sha256, ready.review_sha256) == (cold.copy_sha256, cold.review_sha256)


def test_the_command_line_preview_takes_what_the_worker_made(stored, tmp_path: Path, monkeypatch) -> None:
    runtime, reference = stored
    ready = make_review(runtime, tmp_path / "web", reference, "karim")

    def no_layout(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("laid out again")

    monkeypatch.setattr(rendering, "render_pdf", no_layout)
    monkeypatch.setattr(copies, "render_pdf", no_layout)
    result = review.preview(runtime, reference, "karim", actor="david-pryce", out_dir=tmp_path / "out",
                            chair="david-pryce")
    assert result.family_copy.read_bytes() == ready.pdf("copy")
    assert result.chair_review.read_bytes() == ready.pdf("review")


def test_a_worker_makes_the_reviews_when_the_content_changes(stored, tmp_path: Path) -> None:
    runtime, reference = stored
    data = tmp_path / "web"
    sweep = ReviewSweep(data, every_seconds=0)
    assert sweep(runtime) == 0  # what was there when the worker started is left to the chair's queue
    assert review_state(runtime, data, reference, "karim").job is None

    edited = copying.deepcopy(load_case_file(EXAMPLE))
    edited["record"]["sections"][0]["items"][0]["text"] += " The door has since been repaired."
    changed = tmp_path / "edited.json"
    changed.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    import_case_file(runtime, changed, actor="business-support", replace=True)

    asked = sweep(runtime)
    assert asked >= 2  # every family reader of the record: the mother, the father, the child
    assert sweep(runtime) == 0  # asked once
    while run_one(runtime, {REVIEW: review_handler(data)}, "test-worker", lease=timedelta(minutes=5)):
        pass
    for person in ("karim", "zofia"):
        state = review_state(runtime, data, reference, person)
        assert state.files is not None and state.files.content_version == state.content.version == 2


def test_a_conference_that_cannot_be_swept_does_not_hold_up_the_others(stored, tmp_path: Path, monkeypatch,
                                                                        caplog) -> None:
    runtime, _ = stored
    data = tmp_path / "web"
    sweep = ReviewSweep(data, every_seconds=0)
    sweep(runtime)
    edited = copying.deepcopy(load_case_file(EXAMPLE))
    edited["record"]["sections"][0]["items"][0]["text"] += " The door has since been repaired."
    changed = tmp_path / "edited.json"
    changed.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    import_case_file(runtime, changed, actor="business-support", replace=True)

    from docgen.services import review_jobs

    real = review_jobs.content_versions

    def with_a_broken_conference(session: Any) -> dict[str, int]:
        return {"AAA-BROKEN-0001": 7, **real(session)}  # sorted first; no such conference

    monkeypatch.setattr(review_jobs, "content_versions", with_a_broken_conference)
    asked = sweep(runtime)
    assert asked >= 2  # the real conference's reviews were asked for all the same
    assert "AAA-BROKEN-0001" in caplog.text and "Traceback" not in caplog.text
    assert sweep(runtime) == 0  # and the broken one is not tried again until its content changes
