"""Builds a conference pack: every copy of every document, in PDF and DOCX, with a manifest.

Each copy goes through the same steps, each one function: redact the view for the copy's
audience, build the template context, render, verify the bytes, write. The pack is assembled
in a temporary folder and moved into place only when every copy has passed, so a failed pack
leaves nothing half-written behind.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docgen.adapters.docx import docx_fixed_wording, render_docx
from docgen.adapters.pdf import render_pdf
from docgen.adapters.templating import fixed_wording, render_html
from docgen.config import Settings
from docgen.documents import Job, build_context, plan_jobs
from docgen.errors import DocgenError, RenderError
from docgen.files import sha256, write_atomically
from docgen.leakcheck import normalise
from docgen.redaction import redact, strings_in
from docgen.verification import verify_output
from docgen.views import build_case_view

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


@dataclass(frozen=True)
class RenderedCopy:
    job: Job
    format: str
    data: bytes
    pages: int | None
    title: str


def render_copy(job: Job, view: dict[str, Any], settings: Settings, *, generated_on: date, fmt: str,
                recipient_line: str = "") -> RenderedCopy:
    """Redact, render and verify one copy; raises if the copy may not be used.

    ``recipient_line`` ("Copy for: NAME, ORGANISATION, DATE") makes a copy traceable to the one
    recipient it was sent to."""
    redacted = redact(view, job.audience)
    context = build_context(job, redacted.view, settings, generated_on=generated_on, recipient_line=recipient_line)
    title = context["document"]["title"]
    if fmt == "pdf":
        data, pages = render_pdf(render_html(job.kind.html_template, context), source=job.kind.html_template)
    elif fmt == "docx":
        created = datetime.combine(generated_on, datetime.min.time())
        data, pages = render_docx(job.kind.docx_template, context, title=title, created=created), None
    else:
        raise RenderError(f"unknown format {fmt!r}; use pdf or docx")
    fixed = "\n".join([fixed_wording(job.kind.html_template),
                       docx_fixed_wording(job.kind.docx_template) if fmt == "docx" else "",
                       title, recipient_line, *_settings_text(settings)])
    view_strings = strings_in(redacted.view)
    allowed = "\n".join([*view_strings, fixed])
    withheld = _evidence(redacted.withheld, view_strings, fixed)
    verify_output(data, fmt, job=job, withheld=withheld, allowed_text=allowed,
                  marking=context["copy"], expected_pages=pages)
    return RenderedCopy(job=job, format=fmt, data=data, pages=pages, title=title)


_GENERIC_MAX_WORDS = 3


def _evidence(withheld: dict[str, str], view_strings: list[str], fixed: str) -> dict[str, str]:
    """The withheld items whose presence in a copy would show a leak.

    An item made only of words every reader sees anyway gives nothing away and is not looked
    for: the template's or the authority's own wording (a town in the council's address); a
    value the copy's data holds in its own right as well (the name of a professional who wrote a
    withheld report and also attended, an id, a date); or a short plain phrase the copy's data
    also uses (a section titled "Legal advice" when the plan says legal advice will be sought).
    Anything else stays in, and the leak check refuses the copy if it is in the allowed text
    too, because then the redaction itself has gone wrong.
    """
    fixed_normalised = normalise(fixed)
    view_text = "\n".join(view_strings)
    view_normalised = normalise(view_text)
    shown_values = {normalise(value) for value in view_strings}
    kept = {}
    for label, text in withheld.items():
        flat = normalise(text)
        if flat in fixed_normalised or flat in shown_values:
            continue
        words = text.split()
        plain_phrase = len(words) <= _GENERIC_MAX_WORDS and all(w[:1].islower() or not w[:1].isalpha() for w in words[1:]) \
            and not any(ch.isdigit() for ch in text)
        if plain_phrase and flat in view_normalised:
            continue
        kept[label] = text
    return kept


def _settings_text(settings: Settings) -> Iterable[str]:
    return strings_in(asdict(settings))


def build_pack(case: dict[str, Any], settings: Settings, out_dir: Path, *, generated_on: date,
               formats: Iterable[str] = FORMATS, approved_reports: frozenset[str] = frozenset()) -> list[Artifact]:
    """Render every copy of the conference's pack into ``out_dir`` and write its manifest."""
    view = build_case_view(case)
    jobs = plan_jobs(case, approved_reports)
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DocgenError(f"{out_dir}: the folder is not empty; choose a new folder for the pack")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        artifacts = []
        for job in jobs:
            for fmt in formats:
                copy = render_copy(job, view, settings, generated_on=generated_on, fmt=fmt)
                relative = f"{job.kind.family}/{job.stem}.{fmt}"
                write_atomically(staging / relative, copy.data)
                artifacts.append(Artifact(
                    kind=job.kind.key, audience=job.audience.slug, recipient=job.recipient, format=fmt, path=relative,
                    sha256=sha256(copy.data), pages=copy.pages, title=copy.title, family_copy=job.audience.is_family_copy))
        write_manifest(staging, case, artifacts, generated_on=generated_on)
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return artifacts


def write_manifest(folder: Path, case: dict[str, Any], artifacts: list[Artifact], *, generated_on: date) -> None:
    manifest = {
        "format": "docgen.manifest/1",
        "conference": case["reference"],
        "generated_on": generated_on.isoformat(),
        "artifacts": [asdict(a) for a in artifacts],
    }
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
