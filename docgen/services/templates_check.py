"""Checks the templates in use (shipped and the authority's) before they make a copy.

Two levels, with the same messages ("FILE, PLACE: what is wrong"):

- :func:`require_usable`, run for every copy before it is rendered (so by the pack, the chair's
  preview and the scheduler): the files a copy is made from may not hold macros, comments,
  tracked changes, external images or links, fields that fetch content or embedded objects.
- :func:`check_templates`, run by ``docgen templates check``: the same, and for every template
  in use and every audience that receives it, rendered against conferences, every name the
  template uses that the document's context does not offer, every place a family copy would lack
  its marking, and anything else the output gate refuses.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2

from docgen.adapters import template_files
from docgen.adapters.docx import render_docx
from docgen.adapters.pdf import render_pdf
from docgen.adapters.readback import read_back_docx
from docgen.adapters.templating import recording_environment
from docgen.configuration.folder import find_template, template_folders
from docgen.domain.authority import Settings
from docgen.domain.disclosure import find_missing_marking
from docgen.domain.documents import KINDS, CopySpec, DocumentKind, build_context, plan_copies
from docgen.domain.redaction import Audience
from docgen.domain.views import build_case_view
from docgen.errors import DocgenError, TemplateError
from docgen.services.leak_gate import AudienceView, ReaderView, RenderedCopy, check_copy


class TemplateCheckError(TemplateError):
    """A template in use fails the checks; the message lists every problem, each with its place."""

    @classmethod
    def listing(cls, problems: list[str]) -> TemplateCheckError:
        return cls(refusal(problems))


def refusal(problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (f"{len(problems)} template problem{'s' if len(problems) != 1 else ''} found; no copy is made from a template "
            f"that fails its checks (run `docgen templates check`):\n{lines}")


# -- before every copy ---------------------------------------------------------------------------

def format_files(kind: DocumentKind, fmt: str, override: str = "") -> list[Path]:
    """The files a copy of ``kind`` in ``fmt`` is made from."""
    if fmt == "docx":
        path = find_template(kind.docx_template, override)
        return [path] if path.is_file() else []
    return [*template_files.html_files(kind.html_template, override), *template_files.asset_files(override)]


def file_problems(paths: Iterable[Path], override: str = "") -> list[str]:
    """What each file holds that no template may hold."""
    problems = []
    for path in paths:
        name = template_files.display_name(path, override)
        if path.suffix == ".docx":
            problems.extend(_docx_problems(path, name, *_stamp(path)))
        elif path.suffix in (".html", ".css", ".txt"):
            problems.extend(_html_problems(path, name, *_stamp(path)))
    return problems


def require_usable(kind: DocumentKind, fmt: str, override: str = "") -> None:
    """Raise :class:`TemplateCheckError` if a file a copy of ``kind`` in ``fmt`` is made from
    holds what no template may hold. Each file is inspected once until it changes."""
    problems = file_problems(format_files(kind, fmt, override), override)
    if problems:
        raise TemplateCheckError.listing(problems)


def templates_sha256(kinds: Iterable[DocumentKind], formats: Iterable[str], override: str = "") -> dict[str, str]:
    """SHA-256 of every file copies of ``kinds`` in ``formats`` are made from, by the file's name
    as messages give it (the authority's files marked as such)."""
    paths = {path for kind in kinds for fmt in formats for path in format_files(kind, fmt, override)}
    return {template_files.display_name(Path(path), override): digest
            for path, digest in sorted(template_files.files_sha256(sorted(paths)).items())}


def reader_templates_sha256(case: dict[str, Any], audience: Audience, override: str = "") -> str:
    """One SHA-256 of every template file the copies for ``audience`` are made from: what the
    chair's approval of that reader's copies binds besides the content, so that a template
    changed after approval holds the copies it affects."""
    kinds = {copy_spec.kind.key: copy_spec.kind for copy_spec in plan_copies(case) if copy_spec.audience == audience}
    files = templates_sha256([kinds[key] for key in sorted(kinds)], ("pdf", "docx"), override)
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()


_lock = threading.Lock()
_inspected: dict[tuple[str, Path, int, int], list[str]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def _docx_problems(path: Path, name: str, modified: int, size: int) -> list[str]:
    return _remembered(("docx", path, modified, size), lambda: template_files.docx_problems(path, name))


def _html_problems(path: Path, name: str, modified: int, size: int) -> list[str]:
    return _remembered(("html", path, modified, size), lambda: template_files.html_problems(path, name))


def _remembered(key: tuple[str, Path, int, int], inspect: Any) -> list[str]:
    with _lock:
        found = _inspected.get(key)
    if found is None:
        found = inspect()
        with _lock:
            _inspected[key] = found
    return list(found)


# -- the full check ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckReport:
    """What ``docgen templates check`` found: each template checked, and every problem."""

    checked: tuple[str, ...]
    renders: int
    problems: tuple[str, ...]


def check_templates(conferences: Iterable[tuple[str, dict[str, Any]]], settings: Settings, *, generated_on: date,
                    kinds: Iterable[str] | None = None) -> CheckReport:
    """Check every template in use (or of ``kinds``) against each conference (name, validated
    case): its files, and one copy for each kind of audience that receives it, in PDF and Word."""
    override = settings.templates.folder
    wanted = set(kinds) if kinds is not None else set(KINDS)
    unknown = wanted - set(KINDS)
    if unknown:
        raise DocgenError(f"no such document: {', '.join(sorted(unknown))}; the documents are: {', '.join(KINDS)}")
    problems: list[str] = []
    checked: list[str] = []
    for key in sorted(wanted):
        kind = KINDS[key]
        for fmt in ("pdf", "docx"):
            paths = format_files(kind, fmt, override)
            checked.extend(template_files.display_name(p, override) for p in paths)
            problems.extend(file_problems(paths, override))
    renders = 0
    for name, case in conferences:
        view = build_case_view(case)
        seen: set[tuple[str, str]] = set()
        for copy_spec in plan_copies(case):
            audience_kind = (copy_spec.kind.key, copy_spec.audience.kind)
            if copy_spec.kind.key not in wanted or audience_kind in seen:
                continue
            seen.add(audience_kind)
            for fmt in ("pdf", "docx"):
                renders += 1
                problems.extend(_rendered_problems(copy_spec, fmt, view, settings, generated_on, name))
    return CheckReport(tuple(dict.fromkeys(checked)), renders, tuple(dict.fromkeys(problems)))


def _rendered_problems(copy_spec: CopySpec, fmt: str, view: dict[str, Any], settings: Settings, generated_on: date,
                       conference: str) -> list[str]:
    """Render one copy with every unknown name noted, then put it through the output gate."""
    override = settings.templates.folder
    prepared = AudienceView.prepare(view, copy_spec.audience)
    context = build_context(copy_spec, prepared.view, settings, generated_on=generated_on)
    title = context["document"]["title"]
    what = f"{copy_spec.kind.key} for {copy_spec.audience.kind} readers ({conference})"
    try:
        data, pages, problems = _render_noting_names(copy_spec, fmt, context, override, generated_on)
    except (jinja2.TemplateError, DocgenError) as exc:
        return [f"{copy_spec.kind.html_template if fmt == 'pdf' else copy_spec.kind.docx_template}: cannot be "
                f"rendered for {what}: {exc}"]
    copy = RenderedCopy(copy_spec=copy_spec, format=fmt, data=data, pages=pages, title=title)
    verdict = check_copy(copy, ReaderView.for_copy(prepared, copy, settings))
    template = template_name(copy_spec, fmt, override)
    for unmarked in verdict.unmarked:
        place, _, phrase = unmarked.partition(" lacks ")
        problems.append(f"{template}, {place}: a {copy_spec.audience.kind} copy would lack its marking {phrase} ({what})")
    if verdict.refusal and not verdict.unmarked:
        problems.append(f"{template}: the output gate refused the {copy_spec.audience.kind} copy ({what}): {verdict.refusal}")
    if fmt == "docx":
        footers = read_back_docx(data).footers
        marking = settings.marking.protective_marking
        missing = find_missing_marking([(f"footer {n}", text) for n, text in enumerate(footers, 1)], (marking,))
        problems.extend(f"{template}, {place}: a copy would lack its protective marking" for place in missing)
    return problems


def template_name(copy_spec: CopySpec, fmt: str, override: str = "") -> str:
    """The template file a copy in ``fmt`` is made from, as messages name it."""
    name = copy_spec.kind.html_template if fmt == "pdf" else copy_spec.kind.docx_template
    return template_files.display_name(find_template(name, override), override)


def _render_noting_names(copy_spec: CopySpec, fmt: str, context: dict[str, Any], override: str,
                         generated_on: date) -> tuple[bytes, int | None, list[str]]:
    """Render a copy with every unknown name noted instead of stopping the render: the bytes, the
    pages (PDF) and a problem for each unknown name."""
    used: list[tuple[str, str]] = []
    environment = recording_environment(template_folders(override), used)
    pages: int | None = None
    if fmt == "pdf":
        html = environment.get_template(copy_spec.kind.html_template).render(context)
        data, pages = render_pdf(html, source=copy_spec.kind.html_template, override=override)
    else:
        created = datetime.combine(generated_on, datetime.min.time())
        data = render_docx(copy_spec.kind.docx_template, context, title=context["document"]["title"], created=created,
                           override=override, environment=environment)
    return data, pages, list(dict.fromkeys(_unknown_name(place, message, copy_spec, fmt, override)
                                           for place, message in used))


def unknown_names(copy_spec: CopySpec, fmt: str, context: dict[str, Any], settings: Settings,
                  generated_on: date) -> list[str]:
    """Every name the copy's template uses that its context does not offer, as the check words
    it; for the pack to say why a render stopped. Empty if the render fails for another reason."""
    try:
        return _render_noting_names(copy_spec, fmt, context, settings.templates.folder, generated_on)[2]
    except (jinja2.TemplateError, DocgenError):
        return []


def _unknown_name(place: str, message: str, copy_spec: CopySpec, fmt: str, override: str) -> str:
    """An unknown name, where it is: file and line for HTML; part and paragraph for Word."""
    if fmt == "docx":
        path = find_template(copy_spec.kind.docx_template, override)
        name = message.split("'")[-2] if message.count("'") >= 2 else message
        places = template_files.docx_paragraphs_using(path, name) or ["document"]
        place = f"{template_files.display_name(path, override)}, {'; '.join(places)}"
    elif place:
        path = Path(place.rsplit(", line ", 1)[0])
        place = f"{template_files.display_name(path, override)}, line {place.rsplit(', line ', 1)[1]}"
    return f"{place or copy_spec.kind.html_template}: {message}, a name the {copy_spec.kind.key} context does not offer"
