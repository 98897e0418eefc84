"""The chair's review made in the background, so that opening it is fast: a job of kind ``review``
renders one family member's family copy of the record and the chair's review beside it (PDF and
HTML) for the content as it stands, into a folder named by the content version and its hash. The
chair's workspace serves what is there for the current content, or says it is being made.

Opening a ready review is what the chair does before approving: it is recorded in the audit trail
(``previewed`` with the chair, the content version and hashes), once per chair and content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from docgen.adapters.case_store import content_versions
from docgen.adapters.database import unit_of_work
from docgen.adapters.files import write_atomically
from docgen.adapters.orm_governance import AuditEvent
from docgen.adapters.templating import render_html
from docgen.domain.documents import build_context, plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import DocgenError, NotFoundError
from docgen.services import risk
from docgen.services.approval import RECORD, Content, current_content, reader, render_record_copy, shared_reports
from docgen.services.audit_trail import record_event
from docgen.services.copies import pdf_of_html
from docgen.services.jobs import Handler, JobView, Progress, jobs_for, request_job
from docgen.services.leak_gate import AudienceView
from docgen.services.review import REVIEW_TEMPLATE, place_of, review_html
from docgen.services.runtime import Runtime

log = logging.getLogger("docgen.jobs")

REVIEW = "review"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MANIFEST = "review.json"
FILES = {"copy": "copy.pdf", "review": "chair-review.pdf"}


@dataclass(frozen=True)
class ReviewFiles:
    """A review made for one content version of one family member's copy."""

    reference: str
    person: str
    reader_name: str
    content_version: int
    content_sha256: str
    copy_sha256: str
    view_sha256: str
    review_sha256: str
    copy_pages: int | None
    withheld: tuple[dict[str, str], ...]
    folder: Path

    def html(self, which: str) -> str:
        """The body of the copy (``copy``) or of the chair's review (``review``), ready to show in a page."""
        return (self.folder / f"{which}.html").read_text(encoding="utf-8")

    def pdf(self, which: str) -> bytes:
        if which not in FILES:
            raise NotFoundError(f"a review has no file {which!r}")
        return (self.folder / FILES[which]).read_bytes()


def review_folder(data_folder: Path, reference: str, person: str, version: int, content_sha256: str) -> Path:
    if not (_SAFE.match(reference) and _SAFE.match(person)):
        raise DocgenError("the conference reference or the person's id cannot be used as a folder name")
    return data_folder / "reviews" / reference / person / f"v{version}-{content_sha256[:16]}"


# -- making a review ------------------------------------------------------------------------------

_MAIN = re.compile(r"<main>(.*)</main>", re.S)
_STYLE = re.compile(r"<style>.*?</style>", re.S)
_HEADING = re.compile(r"<(/?)h([1-4])\b")


def page_fragment(document_html: str) -> str:
    """A document's content to show inside a page: what is in its ``main``, without its print styles,
    and its headings two levels down (the page has its own h1 and a h2 for each column)."""
    found = _MAIN.search(document_html)
    body = _STYLE.sub("", found.group(1) if found else "")
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 2}", body)


def make_review(runtime: Runtime, data_folder: Path, reference: str, person: str,
                progress: Progress | None = None) -> ReviewFiles:
    """Render ``person``'s family copy of the record and the chair's review of it, for the content as it
    is now, into the review's folder (written whole or not at all). Already made: returned as it is."""
    report = progress or (lambda done, total: None)
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        reader(content.case, person)
        shared = shared_reports(session, content, now, actor="docgen")
    folder = review_folder(data_folder, reference, person, content.version, content.sha256)
    if (folder / _MANIFEST).exists():
        return _load(folder)
    report(0, 2)
    copy = render_record_copy(content, person, runtime)
    report(1, 2)
    review_document, withheld = review_html(content, copy, shared, runtime)
    review_pdf, _ = pdf_of_html(runtime.copies, review_document, runtime.settings, source=REVIEW_TEMPLATE)
    prepared = AudienceView.prepare(build_case_view(content.case), copy.copy_spec.audience)
    copy_document = render_html(copy.copy_spec.kind.html_template,
                                build_context(copy.copy_spec, prepared.view, runtime.settings,
                                              generated_on=copy.generated_on, recipient_line=""))
    manifest = {"reference": reference, "person": person, "reader_name": copy.copy_spec.audience.name,
                "content_version": content.version, "content_sha256": content.sha256, "copy_sha256": copy.sha256,
                "view_sha256": copy.view_sha256, "review_sha256": hashlib.sha256(review_pdf).hexdigest(),
                "copy_pages": copy.pages, "withheld": [vars(item) for item in withheld]}
    making = folder.with_name(f"{folder.name}.making-{uuid.uuid4().hex[:8]}")
    write_atomically(making / FILES["copy"], copy.data)
    write_atomically(making / FILES["review"], review_pdf)
    write_atomically(making / "copy.html", page_fragment(copy_document).encode("utf-8"))
    write_atomically(making / "review.html", page_fragment(review_document).encode("utf-8"))
    write_atomically(making / _MANIFEST, json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
    try:
        making.rename(folder)
    except OSError:  # made meanwhile by another worker: theirs is the same review
        shutil.rmtree(making, ignore_errors=True)
    report(2, 2)
    return _load(folder)


def _load(folder: Path) -> ReviewFiles:
    made = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    return ReviewFiles(made["reference"], made["person"], made["reader_name"], made["content_version"],
                       made["content_sha256"], made["copy_sha256"], made["view_sha256"], made["review_sha256"],
                       made["copy_pages"], tuple(made["withheld"]), folder)


def review_handler(data_folder: Path) -> Handler:
    def make(runtime: Runtime, job: JobView, progress: Progress) -> dict[str, Any]:
        files = make_review(runtime, data_folder, job.reference, str(job.parameters["person"]), progress)
        return {"content_version": files.content_version, "copy_sha256": files.copy_sha256}
    return make


class ReviewSweep:
    """What a worker does between jobs: for each conference whose content has changed since the
    worker started, ask for the chair's review of every family reader's copy of the record
    (:func:`ensure_review`), so that it is made before the chair opens it. Looks at most once
    every ``every_seconds``; conferences as they stood when it first looked are left as they are
    (the chair's queue asks for their reviews)."""

    def __init__(self, data_folder: Path, *, every_seconds: float = 5.0) -> None:
        self.data_folder = data_folder
        self.every_seconds = every_seconds
        self._seen: dict[str, int] | None = None
        self._last = float("-inf")

    def __call__(self, runtime: Runtime) -> int:
        """Ask for what is missing; returns how many reviews were asked for."""
        now = time.monotonic()
        if now - self._last < self.every_seconds:
            return 0
        self._last = now
        with unit_of_work(runtime.sessions) as session:
            versions = content_versions(session)
        if self._seen is None:
            self._seen = versions
            return 0
        asked = 0
        for reference, version in sorted(versions.items()):
            if self._seen.get(reference) == version:
                continue
            try:
                asked += self._ask(runtime, reference)
            except DocgenError as error:
                # One conference that cannot be swept (removed since, or its content refused) does
                # not hold up the others; it is looked at again when its content changes. The
                # database being away is not this (SQLAlchemyError): that is tried again as a whole.
                log.warning("reviews of %s not asked for: %s", reference, error)
            self._seen[reference] = version
        return asked

    def _ask(self, runtime: Runtime, reference: str) -> int:
        with unit_of_work(runtime.sessions) as session:
            content = current_content(session, reference)
        readers = dict.fromkeys(c.audience.person for c in plan_copies(content.case)
                                if c.kind.key == RECORD and c.audience.person is not None)
        asked = 0
        for person in readers:
            state = ensure_review(runtime, self.data_folder, reference, person, actor="docgen")
            asked += state.files is None
        return asked


# -- what the chair's workspace asks --------------------------------------------------------------

@dataclass(frozen=True)
class ReviewState:
    """Where a review of the current content stands: made (``files``), or being made (``job``)."""

    content: Content
    files: ReviewFiles | None
    job: JobView | None


def _job_for(runtime: Runtime, content: Content, person: str) -> JobView | None:
    """The newest review job of ``person``'s copy of this content version, if any."""
    return next((job for job in jobs_for(runtime, content.reference, kind=REVIEW, limit=50)
                 if job.parameters.get("person") == person and job.content_version == content.version), None)


def review_state(runtime: Runtime, data_folder: Path, reference: str, person: str) -> ReviewState:
    """The review of ``person``'s copy as the content stands now, if it is made; else its job, if asked for."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
    reader(content.case, person)
    folder = review_folder(data_folder, reference, person, content.version, content.sha256)
    if (folder / _MANIFEST).exists():
        return ReviewState(content, _load(folder), None)
    return ReviewState(content, None, _job_for(runtime, content, person))


def ensure_review(runtime: Runtime, data_folder: Path, reference: str, person: str, *, actor: str,
                  again: bool = False) -> ReviewState:
    """The review as :func:`review_state` finds it, with a job asked for when it is neither made nor
    being made (or when the last attempt failed and ``again``)."""
    state = review_state(runtime, data_folder, reference, person)
    if state.files is not None:
        return state
    if state.job is None or (state.job.state == "failed" and again) or (
            state.job.state == "done" and state.files is None):
        job = request_job(runtime, REVIEW, reference, content_version=state.content.version,
                          parameters={"person": person}, actor=actor)
        return ReviewState(state.content, None, job)
    return state


def note_opened(runtime: Runtime, files: ReviewFiles, *, chair: str, actor: str, open_flags: int) -> None:
    """Record that the chair opened this review (what approval looks for), once per chair and content."""
    with unit_of_work(runtime.sessions) as session:
        done = session.scalars(select(AuditEvent.details).where(
            AuditEvent.reference == files.reference, AuditEvent.action == "previewed",
            AuditEvent.subject == files.person)).all()
    if any(d.get("chair") == chair and d.get("content_version") == files.content_version
           and d.get("content_sha256") == files.content_sha256 for d in done):
        return
    record_event(runtime, "previewed", actor=actor, reference=files.reference, subject=files.person,
                 details={"copy_sha256": files.copy_sha256, "view_sha256": files.view_sha256,
                          "content_version": files.content_version, "withheld_items": len(files.withheld),
                          "review_sha256": files.review_sha256, "chair": chair,
                          "content_sha256": files.content_sha256, "open_flags": open_flags,
                          "where": "the chair's workspace"})


@dataclass(frozen=True)
class ReviewPage:
    """What the chair's review page shows: the review (made, or its job), the reader's name, and the
    copy's disclosure flags, each with where it is in words (``places``, by flag key)."""

    state: ReviewState
    name: str
    flags: tuple[risk.FlagView, ...]
    places: dict[str, str]

    @property
    def open_flags(self) -> list[risk.FlagView]:
        return [flag for flag in self.flags if flag.status == "open"]


def open_review(runtime: Runtime, data_folder: Path, reference: str, person: str, *, chair: str, actor: str,
                again: bool = False, progress_only: bool = False) -> ReviewPage:
    """The chair opens the review of ``person``'s copy: asked for if not made (:func:`ensure_review`);
    when it is made, or could not be made, the copy's flags as the content stands (so the chair can
    resolve them either way); when it is made, recorded as opened (:func:`note_opened`).
    ``progress_only``: only where the making stands, for the page's script, nothing recorded."""
    state = ensure_review(runtime, data_folder, reference, person, actor=actor, again=again)
    name = reader(state.content.case, person).name
    failed = state.files is None and state.job is not None and state.job.state == "failed"
    if progress_only or not (state.files is not None or failed):
        return ReviewPage(state, name, (), {})
    flags = tuple(risk.flags(runtime, reference, person, actor=chair))
    view = build_case_view(state.content.case) if flags else None
    places = {flag.key: place_of(view, flag.path) for flag in flags}
    if state.files is not None:
        note_opened(runtime, state.files, chair=chair, actor=chair,
                    open_flags=sum(1 for flag in flags if flag.status == "open"))
    return ReviewPage(state, name, flags, places)
