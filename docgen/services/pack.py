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
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from docgen.adapters import parallel
from docgen.adapters.copy_store import CopyStore
from docgen.adapters.files import sha256, write_atomically
from docgen.domain.authority import Settings
from docgen.domain.documents import CopySpec, plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import DocgenError, RenderError
from docgen.services.copies import (
    Found,
    addressed_line,
    check_again,
    find,
    for_all_recipients,
    keep,
    laid_out_once,
    stamped_copy,
)
from docgen.services.leak_gate import AudienceView, RenderedCopy
from docgen.services.rendering import MadeCopy, make_copy, render_copy
from docgen.services.templates_check import templates_sha256

__all__ = ["FORMATS", "Artifact", "build_pack", "render_copy", "write_manifest"]

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


# -- the pack -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CopyTask:
    """One copy for a worker to render and verify."""

    copy_spec: CopySpec
    fmt: str
    view: dict[str, Any]
    settings: Settings
    generated_on: date


def _render_task(task: _CopyTask) -> tuple[MadeCopy, float]:
    """Render and verify one copy of a pack (in a worker); returns it and the seconds it took."""
    start = time.perf_counter()
    made = make_copy(task.copy_spec, task.view, task.settings, generated_on=task.generated_on, fmt=task.fmt)
    return made, time.perf_counter() - start


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
               workers: int | None = None, on_progress: Callable[[int, int], None] | None = None,
               store: CopyStore | None = None, counts: dict[str, int] | None = None) -> list[Artifact]:
    """Render every copy of the conference's pack into ``out_dir`` and write its manifest.

    ``workers`` is how many processes render copies side by side: by default one for each core
    this process may use; 1 renders every copy in this process, one after another. ``on_progress``
    is told (copies written, copies in all) after each copy passes and is written. With a
    ``store``, a copy kept there for exactly these inputs is used instead of being rendered
    (:mod:`docgen.services.copies`), and every copy rendered is kept; ``counts`` is told how
    many copies were ``reused`` and ``made``.
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

        # A form addressed to each of several recipients is laid out once and stamped for each.
        stamped = [index for index, (copy_spec, fmt) in enumerate(copies) if laid_out_once(copy_spec, fmt)]
        work = [*copies, *((base, "pdf") for base in dict.fromkeys(for_all_recipients(copies[i][0]) for i in stamped))]
        bases: dict[CopySpec, RenderedCopy] = {}

        def place(index: int, copy: RenderedCopy) -> None:
            if index < len(copies):
                write(index, copy)
            else:
                bases[work[index][0]] = copy

        wanted = [index for index in range(len(work)) if index not in set(stamped)]
        kept, todo = _kept(store, work, wanted, view, settings, generated_on) if store is not None else ([], wanted)
        lock = threading.Lock()  # copies arrive from the workers while kept ones are checked here

        def placed(index: int, copy: RenderedCopy) -> None:
            with lock:
                place(index, copy)

        def made(index: int, result: MadeCopy) -> None:
            if store is not None:
                keep(store, result, AudienceView.prepare(view, result.copy.copy_spec.audience), settings, generated_on)
            placed(index, result.copy)

        if counts is not None:
            counts.update(reused=len(kept), made=len(todo))
        if workers == 1 or len(todo) <= 1 or not parallel.can_start_workers():
            _check_kept(store, kept, work, view, settings, generated_on, placed)
            _render_here(work, todo, view, settings, generated_on, made)
        else:
            # The workers render what is not kept while this process checks what is.
            rendering = _Background(lambda: _render_in_workers(work, todo, view, settings, generated_on, workers, made))
            try:
                _check_kept(store, kept, work, view, settings, generated_on, placed)
            finally:
                rendering.join()
        for index in stamped:
            copy_spec = copies[index][0]
            base = bases[for_all_recipients(copy_spec)]
            try:
                copy = stamped_copy(replace(base, copy_spec=copy_spec), view, settings,
                                    recipient_line=addressed_line(copy_spec, view), one_revision=True)
            except DocgenError as exc:
                raise _failed(copy_spec, "pdf", exc) from exc
            write(index, copy)
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


def _kept(store: CopyStore, copies: Sequence[tuple[CopySpec, str]], wanted: Sequence[int], view: dict[str, Any],
          settings: Settings, generated_on: date) -> tuple[list[tuple[int, Found]], list[int]]:
    """The copies of ``wanted`` the store keeps for these inputs, and the positions of the rest."""
    kept, todo = [], []
    for index in wanted:
        copy_spec, fmt = copies[index]
        found = find(store, copy_spec, fmt, AudienceView.prepare(view, copy_spec.audience), settings, generated_on)
        if found is None:
            todo.append(index)
        else:
            kept.append((index, found))
    return kept, todo


def _check_kept(store: CopyStore | None, kept: Sequence[tuple[int, Found]], copies: Sequence[tuple[CopySpec, str]],
                view: dict[str, Any], settings: Settings, generated_on: date,
                write: Callable[[int, RenderedCopy], None]) -> None:
    """Write each kept copy, checked again at the gate first when the gate's inputs changed."""
    for index, found in kept:
        assert store is not None
        copy_spec, fmt = copies[index]
        try:
            check_again(store, found, AudienceView.prepare(view, copy_spec.audience), settings, generated_on)
        except DocgenError as exc:
            raise _failed(copy_spec, fmt, exc) from exc
        write(index, found.copy)


class _Background:
    """``action`` run in a thread; :meth:`join` waits for it and raises what it raised."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - handed to the joining thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="docgen-pack-render", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _render_here(copies: Sequence[tuple[CopySpec, str]], todo: Sequence[int], view: dict[str, Any], settings: Settings,
                 generated_on: date, made: Callable[[int, MadeCopy], None]) -> None:
    """Render the copies ``todo`` in this process, one after another, handing on each as it passes."""
    for index in todo:
        copy_spec, fmt = copies[index]
        try:
            result = make_copy(copy_spec, view, settings, generated_on=generated_on, fmt=fmt)
        except DocgenError as exc:
            raise _failed(copy_spec, fmt, exc) from exc
        made(index, result)


def _render_in_workers(copies: Sequence[tuple[CopySpec, str]], todo: Sequence[int], view: dict[str, Any],
                       settings: Settings, generated_on: date, workers: int,
                       made: Callable[[int, MadeCopy], None]) -> None:
    """Render the copies ``todo`` in the worker pool, longest first, handing on each as it arrives."""
    tasks = [_CopyTask(copies[index][0], copies[index][1], view, settings, generated_on) for index in todo]
    order = sorted(range(len(tasks)), key=lambda i: -_expected_seconds(*copies[todo[i]]))
    timings: dict[tuple[str, str], float] = {}

    def arrived(position: int, result: tuple[MadeCopy, float]) -> None:
        made_copy, seconds = result
        copy_spec, fmt = copies[todo[position]]
        key = (copy_spec.kind.key, fmt)
        timings[key] = max(seconds, timings.get(key, 0.0))
        made(todo[position], made_copy)

    try:
        parallel.run_all(_render_task, tasks, workers=workers, order=order, on_result=arrived,
                         preload=("docgen.services.pack",))
    except parallel.TaskFailed as failure:
        copy_spec, fmt = copies[todo[failure.index]]
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
