"""One copy made from its audience's view: redacted, rendered, and checked at the leak gate.

Each step is one function: the view is redacted for the copy's audience, the template's context
built, the copy rendered (with what the template read from its context noted, so that the copy
store can tell when the same copy would come out again), and its bytes read back and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docgen.adapters.docx import render_docx
from docgen.adapters.pdf import fewer_collections, render_pdf
from docgen.adapters.readback import ReadBack
from docgen.adapters.templating import render_html
from docgen.adapters.tracking import Reads, tracked
from docgen.domain.authority import Settings
from docgen.domain.documents import CopySpec, build_context
from docgen.errors import RedactionError, RenderError, TemplateError
from docgen.services.leak_gate import AudienceView, ReaderView, RenderedCopy, check_copy, read_back_copy
from docgen.services.templates_check import TemplateCheckError, require_usable, template_name, unknown_names


@dataclass(frozen=True)
class MadeCopy:
    """A copy that passed the leak gate, what its template read (:meth:`Reads.tree`), and what
    the gate read back from its bytes."""

    copy: RenderedCopy
    reads: list[Any]
    read_back: ReadBack


def render_copy(copy_spec: CopySpec, view: dict[str, Any], settings: Settings, *, generated_on: date, fmt: str,
                recipient_line: str = "") -> RenderedCopy:
    """Redact, render and check one copy at the leak gate; raises if the copy may not be used.

    ``recipient_line`` ("Copy for: NAME, ORGANISATION, DATE") makes a copy traceable to the one
    recipient it was sent to; delivery adds it to a copy already made instead
    (:func:`docgen.services.copies.recipient_copy`). A template that fails its checks makes no
    copy (:func:`~docgen.services.templates_check.require_usable`)."""
    return make_copy(copy_spec, view, settings, generated_on=generated_on, fmt=fmt, recipient_line=recipient_line).copy


def make_copy(copy_spec: CopySpec, view: dict[str, Any], settings: Settings, *, generated_on: date, fmt: str,
              recipient_line: str = "") -> MadeCopy:
    """:func:`render_copy`, with what the template read and what the gate read back."""
    require_usable(copy_spec.kind, fmt, settings.templates.folder)
    with fewer_collections():
        prepared = AudienceView.prepare(view, copy_spec.audience)
        context = build_context(copy_spec, prepared.view, settings, generated_on=generated_on, recipient_line=recipient_line)
        title = context["document"]["title"]
        reads = Reads()
        try:
            data, pages = _render(copy_spec, tracked(context, reads), fmt, title=title, generated_on=generated_on,
                                  override=settings.templates.folder)
        except TemplateError as exc:
            # The message `docgen templates check` gives, naming every unknown name and its place.
            problems = unknown_names(copy_spec, fmt, context, settings, generated_on)
            if problems:
                raise TemplateCheckError.listing(problems) from exc
            raise
        copy = RenderedCopy(copy_spec=copy_spec, format=fmt, data=data, pages=pages, title=title)
        read_back = read_back_copy(copy)
        gate(copy, ReaderView.for_copy(prepared, copy, settings, recipient_line=recipient_line), settings, read_back)
    return MadeCopy(copy, reads.tree(), read_back)


def gate(copy: RenderedCopy, reader: ReaderView, settings: Settings, read_back: ReadBack | None = None) -> None:
    """Check ``copy`` at the leak gate for ``reader``; raises RedactionError if it may not be used."""
    verdict = check_copy(copy, reader, read_back=read_back)
    if verdict.unmarked:  # name the template, which is where the marking is missing
        raise RedactionError(f"{verdict.refusal}; made from {template_name(copy.copy_spec, copy.format, settings.templates.folder)}")
    verdict.enforce()


def _render(copy_spec: CopySpec, context: dict[str, Any], fmt: str, *, title: str, generated_on: date,
            override: str = "") -> tuple[bytes, int | None]:
    if fmt == "pdf":
        html = render_html(copy_spec.kind.html_template, context, override=override)
        return render_pdf(html, source=copy_spec.kind.html_template, override=override)
    if fmt == "docx":
        created = datetime.combine(generated_on, datetime.min.time())
        return render_docx(copy_spec.kind.docx_template, context, title=title, created=created, override=override), None
    raise RenderError(f"unknown format {fmt!r}; use pdf or docx")
