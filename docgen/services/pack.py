"""Builds a conference pack: every copy of every document, in PDF and DOCX, with a manifest.

Each copy goes through the same steps, each one function: redact the view for the copy's
audience, build the template context, render, verify the bytes, write. The pack is assembled
in a temporary folder and moved into place only when every copy has passed, so a failed pack
leaves nothing half-written behind.

What does not depend on the copy is done once: the view is redacted once per audience (with the
text every check of that audience's copies compares against), and copies are rendered side by
side in worker processes (:mod:`docgen.adapters.parallel`), one copy a task, longest first. Every
copy still passes the leak gate (:mod:`docgen.services.leak_gate`) on its own bytes, in the worker
that rendered it, before it is written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docgen.adapters import parallel
from docgen.adapters.docx import render_docx
from docgen.adapters.files import sha256, write_atomically
from docgen.adapters.pdf import fewer_collections, render_pdf
from docgen.adapters.templating import render_html
from docgen.domain.authority import Settings
from docgen.domain.documents import CopySpec, build_context, plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import DocgenError, RedactionError, RenderError, TemplateError
from docgen.services.leak_gate import AudienceView, ReaderView, RenderedCopy, check_copy
from docgen.services.templates_check import (
    TemplateCheckError,
    require_usable,
    template_name,
    templates_sha256,
    unknown_names,
)

FORMATS = ("pdf", "docx")


@dataclass(frozen=True)
class Artifact:
    """One file of a pack, as listed in its manifest."""

    kind: str
    audience: str
    recipient: str | None
    format: str
    path: str
    sha256: str
    pages: int | None
    title: str
    family_copy: bool


def render_copy(copy_spec: CopySpec, view: dict[str, Any], settings: Settings, *, generated_on: date, fmt: str,
                recipient_line: str = "") -> RenderedCopy:
    """Redact, render and check one copy at the leak gate; raises if the copy may not be used.

    ``recipient_line`` ("Copy for: NAME, ORGANISATION, DATE") makes a copy traceable to the one
    recipient it was sent to. A template that fails its checks makes no copy
    (:func:`~docgen.services.templates_check.require_usable`)."""
    require_usable(copy_spec.kind, fmt, settings.templates.folder)
    with fewer_collections():
        prepared = AudienceView.prepare(view, copy_spec.audience)
        context = build_context(copy_spec, prepared.view, settings, generated_on=generated_on, recipient_line=recipient_line)
        title = context["document"]["title"]
        try:
            data, pages = _render(copy_spec, context, fmt, title=title, generated_on=generated_on,
                                  override=settings.templates.folder)
        except TemplateError as exc:
            # The message `docgen templates check` gives, naming every unknown name and its place.
            problems = unknown_names(copy_spec, fmt, context, settings, generated_on)
            if problems:
                raise TemplateCheckError.listing(problems) from exc
            raise
        copy = RenderedCopy(copy_spec=copy_spec, format=fmt, data=data, pages=pages, title=title)
        verdict = check_copy(copy, ReaderView.for_copy(prepared, copy, settings, recipient_line=recipient_line))
        if verdict.unmarked:  # name the template, which is where the marking is missing
            raise RedactionError(f"{verdict.refusal}; made from {template_name(copy_spec, fmt, settings.templates.folder)}")
        verdict.enforce()
    return copy


def _render(copy_spec: CopySpec, context: dict[str, Any], fmt: str, *, title: str, generated_on: date,
            override: str = "") -> tuple[bytes, int | None]:
    if fmt == "pdf":
        html = render_html(copy_spec.kind.html_template, context, override=override)
        return render_pdf(html, source=copy_spec.kind.html_template, override=override)
    if fmt == "docx":
        created = datetime.combine(generated_on, datetime.min.time())
        return render_docx(copy_spec.kind.docx_template, context, title=title, created=created, override=override), None
    raise RenderError(f"unknown format {fmt!r}; use pdf or docx")


# -- the pack -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CopyTask:
    """One copy for a worker to render and verify."""

    copy_spec: CopySpec
    fmt: str
    view: dict[str, Any]
    settings: Settings
    generated_on: date


def _render_task(task: _CopyTask) -> tuple[RenderedCopy, float]:
    """Render and verify one copy of a pack (in a worker); returns it and the seconds it took."""
    start = time.perf_counter()
    copy = render_copy(task.copy_spec, task.view, task.settings, generated_on=task.generated_on, fmt=task.fmt)
    return copy, time.perf_counter() - start


# Seconds each kind of copy took last time in this process, to hand the longest out first; until
# a kind has been timed, a rough figure measured on the M conference of bench/render_steps.py.
# Only the order work is handed out in depends on these.
_SECONDS: dict[tuple[str, str], float] = {}
_FIRST_GUESS = {"conference_record": 0.6, "social_worker_report": 0.5, "outline_plan": 0.2, "decisions_notice": 0.15,
                "parent_invitation": 0.2, "professional_invitation": 0.06, "professional_guidance": 0.1,
                "agency_report_form": 0.2, "exclusion_letter": 0.15, "child_invitation": 0.15, "agency_report": 0.1,
                "discharge_notification": 0.1}


def _expected_seconds(copy_spec: CopySpec, fmt: str) -> float:
    known = _SECONDS.get((copy_spec.kind.key, fmt))
    if known is not None:
        return known
    guess = _FIRST_GUESS.get(copy_spec.kind.key, 0.2)
    return guess if fmt == "pdf" else guess / 4


def build_pack(case: dict[str, Any], settings: Settings, out_dir: Path, *, generated_on: date,
               formats: Iterable[str] = FORMATS, approved_reports: frozenset[str] = frozenset(),
               workers: int | None = None, on_progress: Callable[[int, int], None] | None = None) -> list[Artifact]:
    """Render every copy of the conference's pack into ``out_dir`` and write its manifest.

    ``workers`` is how many processes render copies side by side: by default one for each core
    this process may use; 1 renders every copy in this process, one after another. ``on_progress``
    is told (copies written, copies in all) after each copy passes and is written.
    """
    view = build_case_view(case)
    formats = tuple(formats)
    for fmt in formats:
        if fmt not in FORMATS:
            raise RenderError(f"unknown format {fmt!r}; use pdf or docx")
    copies = [(copy_spec, fmt) for copy_spec in plan_copies(case, approved_reports) for fmt in formats]
    workers = parallel.available_cores() if workers is None else workers
    if workers < 1:
        raise DocgenError(f"workers must be 1 or more, not {workers}")
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DocgenError(f"{out_dir}: the folder is not empty; choose a new folder for the pack")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        artifacts: list[Artifact | None] = [None] * len(copies)

        def write(index: int, copy: RenderedCopy) -> None:
            copy_spec, fmt = copies[index]
            relative = _relative_path(copy_spec, fmt)
            write_atomically(staging / relative, copy.data)
            artifacts[index] = Artifact(
                kind=copy_spec.kind.key, audience=copy_spec.audience.slug, recipient=copy_spec.recipient, format=fmt, path=relative,
                sha256=sha256(copy.data), pages=copy.pages, title=copy.title, family_copy=copy_spec.audience.is_family_copy)
            if on_progress is not None:
                on_progress(sum(1 for artifact in artifacts if artifact is not None), len(copies))

        if workers == 1 or len(copies) <= 1 or not parallel.can_start_workers():
            _render_here(copies, view, settings, generated_on, write)
        else:
            _render_in_workers(copies, view, settings, generated_on, workers, write)
        written = [artifact for artifact in artifacts if artifact is not None]
        if len(written) != len(copies):  # every copy either passed and was written, or raised
            raise RenderError(f"{len(copies) - len(written)} copies of the pack were not rendered; nothing was written")
        kinds = {copy_spec.kind.key: copy_spec.kind for copy_spec, _ in copies}
        write_manifest(staging, case, written, generated_on=generated_on,
                       templates=templates_sha256(kinds.values(), formats, settings.templates.folder))
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _relative_path(copy_spec: CopySpec, fmt: str) -> str:
    return f"{copy_spec.kind.family}/{copy_spec.stem}.{fmt}"


def _render_here(copies: Sequence[tuple[CopySpec, str]], view: dict[str, Any], settings: Settings, generated_on: date,
                 write: Callable[[int, RenderedCopy], None]) -> None:
    """Render every copy in this process, one after another, writing each as it passes."""
    for index, (copy_spec, fmt) in enumerate(copies):
        try:
            copy = render_copy(copy_spec, view, settings, generated_on=generated_on, fmt=fmt)
        except DocgenError as exc:
            raise _failed(copy_spec, fmt, exc) from exc
        write(index, copy)


def _render_in_workers(copies: Sequence[tuple[CopySpec, str]], view: dict[str, Any], settings: Settings,
                       generated_on: date, workers: int, write: Callable[[int, RenderedCopy], None]) -> None:
    """Render the copies in the worker pool, longest first, writing each as it arrives."""
    tasks = [_CopyTask(copy_spec, fmt, view, settings, generated_on) for copy_spec, fmt in copies]
    order = sorted(range(len(copies)), key=lambda i: -_expected_seconds(*copies[i]))
    timings: dict[tuple[str, str], float] = {}

    def arrived(index: int, result: tuple[RenderedCopy, float]) -> None:
        copy, seconds = result
        copy_spec, fmt = copies[index]
        key = (copy_spec.kind.key, fmt)
        timings[key] = max(seconds, timings.get(key, 0.0))
        write(index, copy)

    try:
        parallel.run_all(_render_task, tasks, workers=workers, order=order, on_result=arrived,
                         preload=("docgen.services.pack",))
    except parallel.TaskFailed as failure:
        copy_spec, fmt = copies[failure.index]
        error = failure.error
        if isinstance(error, DocgenError):
            raise _failed(copy_spec, fmt, error) from error
        if isinstance(error, parallel.BrokenProcessPool):
            raise RenderError(f"{_relative_path(copy_spec, fmt)}: a rendering worker stopped before the pack was finished "
                              "(killed or out of memory; or, run from a script, the script's own code is not under "
                              "'if __name__ == \"__main__\":', which every worker imports); nothing was written") from None
        raise RenderError(f"{_relative_path(copy_spec, fmt)} could not be rendered, so the pack was not written: "
                          f"{type(error).__name__}: {error}") from error
    _SECONDS.update(timings)


def _failed(copy_spec: CopySpec, fmt: str, error: DocgenError) -> DocgenError:
    """The error a copy raised, said to be that copy's and to have stopped the whole pack."""
    where = _relative_path(copy_spec, fmt)
    message = str(error)
    if f"{copy_spec.stem}.{fmt}" not in message:
        message = f"{where}: {message}"
    try:
        named = type(error)(f"{message} (no part of the pack was written)")
    except TypeError:  # an error class that takes more than a message
        named = DocgenError(f"{message} (no part of the pack was written)")
    return named


def write_manifest(folder: Path, case: dict[str, Any], artifacts: list[Artifact], *, generated_on: date,
                   templates: dict[str, str] | None = None) -> None:
    """The pack's manifest: every copy with its SHA-256, and the SHA-256 of every template file
    the copies were made from (the authority's marked as such)."""
    manifest = {
        "format": "docgen.manifest/1",
        "conference": case["reference"],
        "generated_on": generated_on.isoformat(),
        "artifacts": [asdict(a) for a in artifacts],
        "templates": templates or {},
    }
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
