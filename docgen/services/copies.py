"""Copies made once and kept: each audience's copy is looked up in the copy store by everything it
is made from before it is rendered, and a recipient's copy is that copy with the recipient's line
stamped on it.

**What a copy is addressed by.** A *recipe* (:func:`recipe`) names everything about a copy that
is not case content: the document kind, format, audience and recipient, the SHA-256 of every
template file it is made from, every setting, the generation date and the code and renderer
versions. The case content is in the template's context, and a render notes which parts of the
context it read (:mod:`docgen.adapters.tracking`); the copy is kept under the recipe and the
fingerprint of those parts. A copy is looked up by evaluating, on the new context, the reads
each earlier render of the recipe made: editing a paragraph changes the fingerprint of exactly
the copies whose render read it.

**The gate stays as strict.** A kept copy passed the leak gate when it was made. It is used again
without a new check only when the gate's inputs are identical too: its own bytes, the audience's
withheld texts and every text of its redacted view (:attr:`AudienceView.digest`), under the same
recipe. When any of those differ, it is checked again on what was read back from its bytes.
A recipient's stamped copy is always checked on its own bytes, as today, with the recipient's
line required on every page, and its update checked to be the stamp alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, replace
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from docgen.adapters import template_files
from docgen.adapters.copy_store import CopyStore
from docgen.adapters.pdf import render_pdf
from docgen.adapters.readback import ReadBack
from docgen.adapters.stamping import check_docx_stamp, single_revision, stamp
from docgen.adapters.tracking import fingerprint
from docgen.domain.authority import Settings
from docgen.domain.disclosure import words
from docgen.domain.documents import CopySpec, build_context
from docgen.domain.views import build_case_view
from docgen.errors import RedactionError
from docgen.services.leak_gate import AudienceView, ReaderView, RenderedCopy, read_back_copy
from docgen.services.rendering import MadeCopy, gate, make_copy
from docgen.services.runtime import Runtime
from docgen.services.templates_check import templates_sha256

READS, COPIES, PASSED, LAID_OUT = "reads", "copies", "passed", "laid-out"
_FORMAT = "docgen.copy-store/1"
_TREES_KEPT = 4  # a recipe's reads differ only when the content takes another branch of a template


@cache
def _code_version() -> str:
    """SHA-256 of docgen's own code and the versions of the libraries that render, so that a copy
    made by other code is never taken for this code's."""
    digest = hashlib.sha256(_FORMAT.encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for name in ("weasyprint", "pydyf", "docxtpl", "python-docx", "jinja2", "pikepdf", "pypdfium2", "fonttools"):
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _settings_digest(settings: Settings) -> str:
    return hashlib.sha256(json.dumps(asdict(settings), sort_keys=True, default=str).encode()).hexdigest()


def recipe(copy_spec: CopySpec, fmt: str, settings: Settings, generated_on: date) -> str:
    """The key of everything a copy is made from except the case content (see the module's description)."""
    # A Word copy is checked at the gate with the fixed wording of the HTML template too, so a
    # change to either file is a different recipe.
    templates = templates_sha256([copy_spec.kind], ["pdf", "docx"] if fmt == "docx" else [fmt], settings.templates.folder)
    audience = copy_spec.audience
    parts = [_code_version(), copy_spec.kind.key, fmt, audience.kind, audience.person, audience.name,
             copy_spec.recipient, copy_spec.report, templates, _settings_digest(settings), generated_on.isoformat()]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Found:
    """A kept copy, and whether it passed the gate for exactly today's inputs."""

    copy: RenderedCopy
    read_back_address: str | None
    gated: bool


def find(store: CopyStore, copy_spec: CopySpec, fmt: str, prepared: AudienceView, settings: Settings,
         generated_on: date) -> Found | None:
    """The copy kept for these inputs, if there is one."""
    key = recipe(copy_spec, fmt, settings, generated_on)
    trees = store.record(READS, key) or []
    if not trees:
        return None
    context = build_context(copy_spec, prepared.view, settings, generated_on=generated_on)
    for tree in trees:
        record = store.record(COPIES, _key(key, fingerprint(tree, context)))
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), str) \
                or not isinstance(record.get("pages"), (int, type(None))) or not isinstance(record.get("title"), str):
            continue  # missing or malformed: a copy to make again
        data = store.blob(record["sha256"])
        if data is None:
            continue
        copy = RenderedCopy(copy_spec, fmt, data, record["pages"], record["title"])
        passed = _key(key, record["sha256"], record["title"], prepared.digest)
        # A family copy is read back from the bytes it serves and gated every time it is used.
        gated = not copy_spec.audience.is_family_copy and store.marked(PASSED, passed)
        return Found(copy, record.get("read_back"), gated)
    return None


def check_again(store: CopyStore, found: Found, prepared: AudienceView, settings: Settings, generated_on: date) -> None:
    """Check a kept copy at the gate for today's inputs; remembered once passed (for a professional
    copy). A family copy's own bytes are read back again, never text kept beside them. Raises
    RedactionError if it may not be used."""
    if found.gated:
        return
    copy = found.copy
    read_back = None
    if found.read_back_address is not None and not copy.copy_spec.audience.is_family_copy:
        kept = store.blob(found.read_back_address)
        read_back = ReadBack(**json.loads(kept)) if kept is not None else None
    gate(copy, ReaderView.for_copy(prepared, copy, settings), settings, read_back)
    key = recipe(copy.copy_spec, copy.format, settings, generated_on)
    store.mark(PASSED, _key(key, _sha256(copy.data), copy.title, prepared.digest))


def keep(store: CopyStore, made: MadeCopy, prepared: AudienceView, settings: Settings, generated_on: date) -> None:
    """Keep a copy just made (and passed) under its recipe and the fingerprint of what it read."""
    copy = made.copy
    key = recipe(copy.copy_spec, copy.format, settings, generated_on)
    context = build_context(copy.copy_spec, prepared.view, settings, generated_on=generated_on)
    address = store.put_blob(copy.data)
    read_back = store.put_blob(json.dumps(asdict(made.read_back), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    store.put_record(COPIES, _key(key, fingerprint(made.reads, context)),
                     {"sha256": address, "pages": copy.pages, "title": copy.title, "read_back": read_back})
    trees = [tree for tree in (store.record(READS, key) or []) if tree != made.reads]
    store.put_record(READS, key, [made.reads, *trees][:_TREES_KEPT])
    store.mark(PASSED, _key(key, address, copy.title, prepared.digest))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def audience_copy(store: CopyStore | None, copy_spec: CopySpec, view: dict[str, Any], settings: Settings, *,
                  generated_on: date, fmt: str) -> RenderedCopy:
    """The copy for ``copy_spec``'s audience, without a recipient's line: the kept one when the
    store has it for these inputs (checked again at the gate if the gate's inputs changed), else
    rendered, checked and kept."""
    prepared = AudienceView.prepare(view, copy_spec.audience)
    if store is not None:
        found = find(store, copy_spec, fmt, prepared, settings, generated_on)
        if found is not None:
            check_again(store, found, prepared, settings, generated_on)
            return found.copy
    made = make_copy(copy_spec, view, settings, generated_on=generated_on, fmt=fmt)
    if store is not None:
        keep(store, made, prepared, settings, generated_on)
    return made.copy


def stamped_copy(base: RenderedCopy, view: dict[str, Any], settings: Settings, *, recipient_line: str,
                 one_revision: bool = False) -> RenderedCopy:
    """``base`` with ``recipient_line`` on every page, checked at the gate on its own bytes (a
    PDF's update checked to be the stamp alone, a Word copy's parts to differ by the line alone),
    with the line required on every page. ``one_revision``: a PDF written out again as one
    revision (for a pack's file), then checked like any rendered copy."""
    data = stamp(base.data, base.format, recipient_line)
    if base.format == "docx":
        check_docx_stamp(base.data, data, recipient_line)
    elif one_revision:
        data = single_revision(data)
    copy = replace(base, data=data, stamped_from=base.data if base.format == "pdf" and not one_revision else None)
    prepared = AudienceView.prepare(view, base.copy_spec.audience)
    read_back = read_back_copy(copy)
    gate(copy, ReaderView.for_copy(prepared, copy, settings, recipient_line=recipient_line), settings, read_back)
    _require_line(copy, read_back, recipient_line)
    return copy


def _require_line(copy: RenderedCopy, read_back: ReadBack, line: str) -> None:
    """Refuse a stamped copy unless every page (every header of a Word copy) reads back with
    every word of the recipient's line. Words, not the phrase: a name in a right-to-left script
    reads back in the order it is shown, so the phrase's order is not kept."""
    places = read_back.pages if copy.format == "pdf" else read_back.headers
    needed = set(words(line))  # every line of it
    missing = [number for number, text in enumerate(places, 1) if not needed <= set(words(text))]
    if not places or missing:
        where = "page" if copy.format == "pdf" else "header"
        raise RedactionError(f"{copy.name} was refused: the recipient's line is missing from {where} "
                             f"{', '.join(map(str, missing or [1]))}")


# Documents addressed to a recipient whose PDF is laid out once for every recipient and stamped with
# whom it is for, rather than laid out for each: the agency report form (the same form for every
# agency, with the agency, the person and the date due at the top of every page).
ONCE_FOR_ALL_RECIPIENTS = frozenset({"agency_report_form"})


def laid_out_once(copy_spec: CopySpec, fmt: str) -> bool:
    """Whether this copy is a stamp of the copy of :func:`for_all_recipients`."""
    return fmt == "pdf" and copy_spec.recipient is not None and copy_spec.kind.key in ONCE_FOR_ALL_RECIPIENTS


def for_all_recipients(copy_spec: CopySpec) -> CopySpec:
    """The copy laid out once that ``copy_spec``'s copy is stamped from."""
    return replace(copy_spec, recipient=None)


def addressed_line(copy_spec: CopySpec, view: dict[str, Any]) -> str:
    """The line that makes the form laid out once ``copy_spec``'s own: whose it is and when it is due."""
    person = next(p for p in view["professionals"] if p.get("id") == copy_spec.recipient)
    invitation = next((i for i in view["invitations"] if i.get("invitee") == copy_spec.recipient), None) or {}
    due = invitation.get("report_due_text") or "as soon as possible before the conference"
    return f"For {person['name']}, {person['role']}, {person['agency_name']}. Report due: {due}"


def recipient_copy(runtime: Runtime, copy_spec: CopySpec, case: dict[str, Any], *, generated_on: date,
                   recipient_line: str, fmt: str = "pdf") -> RenderedCopy:
    """The copy one recipient is sent: the audience's copy (from the store, or rendered, checked
    and kept once) with ``recipient_line`` stamped on it, the stamped bytes checked at the gate.
    A form laid out once for all recipients is stamped with whose it is too."""
    view = build_case_view(case)
    if laid_out_once(copy_spec, fmt):
        base = audience_copy(runtime.copies, for_all_recipients(copy_spec), view, runtime.settings,
                             generated_on=generated_on, fmt=fmt)
        lines = f"{addressed_line(copy_spec, view)}\n{recipient_line}"
        return stamped_copy(replace(base, copy_spec=copy_spec), view, runtime.settings, recipient_line=lines)
    base = audience_copy(runtime.copies, copy_spec, view, runtime.settings, generated_on=generated_on, fmt=fmt)
    return stamped_copy(base, view, runtime.settings, recipient_line=recipient_line)


def pdf_of_html(store: CopyStore | None, html: str, settings: Settings, *, source: str) -> tuple[bytes, int]:
    """``html`` rendered to a PDF with the shipped assets, and its page count; or the PDF the store
    keeps for exactly this HTML and these assets (the chair's review, which is sent to no one)."""
    if store is None:
        return render_pdf(html, source=source)
    assets = template_files.files_sha256(sorted(template_files.asset_files()))
    key = _key(_code_version(), _settings_digest(settings), json.dumps(assets, sort_keys=True, default=str),
               _sha256(html.encode("utf-8", "surrogatepass")))
    record = store.record(LAID_OUT, key)
    if isinstance(record, dict) and (data := store.blob(record["sha256"])) is not None:
        return data, int(record["pages"])
    data, pages = render_pdf(html, source=source)
    store.put_record(LAID_OUT, key, {"sha256": store.put_blob(data), "pages": pages})
    return data, pages
