"""What the chair looks at before deciding: the family copy of the record, and the chair's review
beside it (the full record with everything withheld from that reader highlighted, with the reason).

The decisions themselves, and the approval check before sending, are in ``approval``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.adapters.database import unit_of_work
from docgen.adapters.files import write_atomically
from docgen.adapters.orm_governance import append_event
from docgen.adapters.templating import render_html
from docgen.domain.documents import KINDS, copy_marking, report_shareable
from docgen.domain.redaction import PROFESSIONALS, Audience, withholds
from docgen.domain.views import build_case_view
from docgen.services.approval import (
    RECORD,
    Content,
    FamilyCopy,
    current_content,
    note_lapsed_approvals,
    render_record_copy,
    shared_reports,
)
from docgen.services.copies import pdf_of_html
from docgen.services.risk import FlagView, flag_view, refresh_flags
from docgen.services.runtime import Runtime

REVIEW_TEMPLATE = "records/chair_review.html"
REASONS = {
    "third_party": "information about someone else (third party)",
    "police_investigation": "could prejudice a police investigation",
    "legal_advice": "legal advice",
    "risk_to_child": "sharing it could put a child at risk",
    "victim_whereabouts": "would reveal where a victim lives",
    "child_disclosure": "a child's disclosure, shared in confidence",
    "other": "other reason",
}


# -- the review, pure ------------------------------------------------------------------------

@dataclass(frozen=True)
class WithheldItem:
    """Something the chair's review shows as withheld from the reader: where (for people and as
    a path in the view), why, and how it starts."""

    where: str
    path: str
    reason: str
    excerpt: str


_PLACES = {"children": "Children", "family": "Family", "reports": "Reports", "record": "Record", "plan": "Plan",
           "actions": "actions", "decisions": "Decisions", "invitations": "Invitations", "address": "address",
           "dissent": "dissent"}
_NOUNS = {"rows": "row", "items": "item", "actions": "action", "sections": "section", "dissent": "view"}


def reason_text(node: Mapping[str, Any], audience: Audience) -> str:
    why = REASONS.get(str(node.get("reason") or ""), "no reason recorded")
    if node.get("confidentiality") == "confidential":
        return f"Confidential to professionals: {why}"
    return f"Withheld from {audience.name or audience.person}: {why}"


def chair_review_view(view: object, audience: Audience) -> tuple[Any, list[WithheldItem]]:
    """The professional view with every node withheld from ``audience`` flagged
    (``withheld_for_reader``, ``withheld_reason_text``), and the list of those nodes, outermost
    only and each once (the view lists some nodes twice, e.g. subject children)."""
    items: list[WithheldItem] = []
    seen: set[int] = set()

    def walk(node: object, path: str, where: tuple[str, ...], inside: bool) -> object:
        if isinstance(node, Mapping):
            flagged = withholds(node, audience)
            out: dict[str, Any] = {}
            for key, value in node.items():
                place = (*where, _PLACES[key]) if key in _PLACES else where
                out[key] = walk(value, f"{path}.{key}" if path else key, place, inside or flagged)
            if flagged:
                out["withheld_for_reader"] = True
                out["withheld_reason_text"] = reason_text(node, audience)
                if not inside and id(node) not in seen:
                    seen.add(id(node))
                    text = _text_of(node)
                    items.append(WithheldItem(" › ".join(where) or "(whole view)", path or "(view)",
                                              out["withheld_reason_text"],
                                              text if len(text) <= 120 else text[:117] + "..."))
            return out
        if isinstance(node, (list, tuple)):
            key = path.rsplit(".", 1)[-1]
            return [walk(value, f"{path}[{index}]", (*where, _step(key, index, value)), inside)
                    for index, value in enumerate(node)]
        return node

    return walk(view, "", (), False), items


_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def place_of(view: object, path: str) -> str:
    """Where ``path`` (as a disclosure flag names it in the case view) is, in the words the review's
    list of withheld items uses: "Invitations › Ewa Nowak", "Record › 'Police' › item 2"."""
    where: list[str] = []
    node: object = view
    key = ""
    for name, index in _PATH_STEP.findall(path):
        if name:
            if name in _PLACES:
                where.append(_PLACES[name])
            key, node = name, node.get(name) if isinstance(node, Mapping) else None
        else:
            position = int(index)
            node = node[position] if isinstance(node, (list, tuple)) and position < len(node) else None
            where.append(_step(key, position, node))
    return " › ".join(where) or path


def _step(key: str, index: int, value: object) -> str:
    if isinstance(value, Mapping):
        if value.get("title"):
            return f"'{value['title']}'"
        if value.get("name"):
            return str(value["name"])
    return f"{_NOUNS.get(key, 'entry')} {index + 1}"


def _text_of(node: object) -> str:
    """A node's text in reading order, its marking left out; a node's own ``text`` if it has one."""
    if isinstance(node, str):
        return node
    if isinstance(node, Mapping):
        own = node.get("text")
        if isinstance(own, str):
            return own
        node = [value for key, value in node.items() if key not in ("confidentiality", "withheld_from", "reason")]
    if isinstance(node, (list, tuple)):
        return " ".join(part for part in (_text_of(value) for value in node) if part)
    return ""


def review_html(content: Content, copy: FamilyCopy, shared: frozenset[str], runtime: Runtime
                ) -> tuple[str, list[WithheldItem]]:
    """The chair's review of ``copy`` as HTML (the PDF is rendered from it; the chair's workspace in the
    browser shows it beside the copy), and the items withheld from the copy's reader."""
    flagged, withheld = chair_review_view(build_case_view(content.case), copy.copy_spec.audience)
    settings = runtime.settings
    on = copy.generated_on
    context = {
        "authority": settings.authority, "contacts": settings.contacts,
        "document": {"kind": "chair_review", "title": f"Chair's review: {KINDS[RECORD].title}",
                     "reference": content.reference, "protective_marking": settings.marking.protective_marking,
                     "generated_on_text": f"{on.day} {on:%B %Y}", "language": "en-GB"},
        "copy": {**copy_marking(PROFESSIONALS, settings), "recipient_line": ""},
        "placeholder": settings.marking.withheld_placeholder, "case": flagged, "recipient": None, "report": None,
        "review": {"reader_name": copy.copy_spec.audience.name, "reader_kind": copy.copy_spec.audience.kind,
                   "withheld": [vars(item) for item in withheld], "copy_file": f"{copy.copy_spec.stem}.pdf",
                   "copy_sha256": copy.sha256, "copy_pages": copy.pages, "content_version": copy.content_version,
                   "shared_reports": [r["title"] for r in content.case["reports"] if report_shareable(r, shared)]},
    }
    return render_html(REVIEW_TEMPLATE, context), withheld


# -- the preview ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    """What a preview wrote: the family copy and the chair's review beside it."""

    family_copy: Path
    chair_review: Path
    copy: FamilyCopy
    withheld: tuple[WithheldItem, ...]
    flags: tuple[FlagView, ...] = ()


def preview(runtime: Runtime, reference: str, person: str, *, actor: str, out_dir: Path,
            chair: str | None = None) -> Preview:
    """Write ``person``'s family copy of the record and the chair's review beside it: the full
    record with everything withheld from that person highlighted, with the reason; and run the
    disclosure-risk check on the copy. ``chair`` is the chair's id when the chair opens the
    review (recorded with the content version and hash it was of)."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        shared = shared_reports(session, content, runtime.clock(), actor=actor)
    copy = render_record_copy(content, person, runtime)
    html, withheld = review_html(content, copy, shared, runtime)
    review, _ = pdf_of_html(runtime.copies, html, runtime.settings, source=REVIEW_TEMPLATE)
    out_dir = out_dir.resolve()
    family_path, review_path = out_dir / f"{copy.copy_spec.stem}.pdf", out_dir / f"{copy.copy_spec.stem}--chair-review.pdf"
    write_atomically(family_path, copy.data)
    write_atomically(review_path, review)
    with unit_of_work(runtime.sessions) as session:
        current = current_content(session, reference)
        note_lapsed_approvals(session, current, runtime.clock(), actor=actor)
        flags = refresh_flags(session, current, person, runtime.clock(), actor=chair or actor)
        append_event(session, at=runtime.clock(), actor=actor, action="previewed", reference=reference, subject=person,
                     details={"copy_sha256": copy.sha256, "view_sha256": copy.view_sha256,
                              "content_version": copy.content_version, "withheld_items": len(withheld),
                              "review_sha256": hashlib.sha256(review).hexdigest(), "chair": chair,
                              "content_sha256": copy.content_sha256,
                              "open_flags": sum(1 for f in flags if f.status == "open")})
        shown = tuple(flag_view(row) for row in flags)
    return Preview(family_path, review_path, copy, tuple(withheld), shown)
