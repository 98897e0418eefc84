"""The disclosure-risk check on a family copy of the record: find the flags of a reader's copy on
the current content, keep them, and let the chair resolve each (withhold the item, or share it
with a reason). Approval is refused while one is open (:mod:`docgen.services.approval`).

The CLI and the chair's browser workspace call these same functions.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from docgen.adapters.casefile.validation import validate_case
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import DisclosureFlag, append_event, lock_audit_trail
from docgen.domain.calendar import LONDON
from docgen.domain.documents import report_shareable
from docgen.domain.redaction import redact, strings_in
from docgen.domain.risk import FlagKind, find_flags
from docgen.domain.views import build_case_view
from docgen.errors import ApprovalError, CaseFileError, NotFoundError
from docgen.services.approval import Content, current_content, reader, shared_reports
from docgen.services.importing import save_conference
from docgen.services.runtime import Runtime

Resolution = Literal["withhold", "share"]
# The marking's reason code when the chair withholds a flagged item (the chair's own words are kept
# with the flag): what each kind of flag is about.
MARKING_REASONS: dict[FlagKind, str] = {
    "contact_details": "third_party",
    "unknown_name": "third_party",
    "repeats_withheld": "third_party",
    "locates_person": "victim_whereabouts",
}
_MARKING_KEYS = frozenset({"confidentiality", "withheld_from", "reason"})
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class FlagView:
    """A flag as the chair sees it."""

    key: str
    kind: str
    path: str
    description: str
    status: str
    reason: str | None


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _withheld_text(session: Session, content: Content, person: str, now: datetime, actor: str) -> list[str]:
    """What is withheld from ``person``: the marked items, and every report not shared with them."""
    audience = reader(content.case, person)
    redacted = redact(build_case_view(content.case), audience)
    shared = shared_reports(session, content, now, actor=actor)
    reports = [text for report in content.case["reports"] if not report_shareable(report, shared)
               for text in strings_in(report.get("sections", ()), skip=_MARKING_KEYS)]
    return [*redacted.withheld.values(), *reports]


def refresh_flags(session: Session, content: Content, person: str, now: datetime, *, actor: str) -> list[DisclosureFlag]:
    """The flags of ``person``'s copy on the current content, found and stored if not already.
    A flag the chair shared on an earlier version stays shared while its key is the same. The audit
    trail is held first, so the chair's page and a worker making the review at the same moment store
    each flag once (the second reads what the first stored)."""
    lock_audit_trail(session)
    audience = reader(content.case, person)
    view = redact(build_case_view(content.case), audience).view
    found = find_flags(content.case, audience, view, _withheld_text(session, content, person, now, actor))
    rows = _rows(session, content.reference, person)
    current = {row.flag_key: row for row in rows if row.content_version == content.version}
    earlier = {row.flag_key: row for row in rows if row.status == "shared"}
    result = []
    for flag in found:
        row = current.get(flag.key)
        if row is None:
            shared = earlier.get(flag.key)
            row = DisclosureFlag(conference_reference=content.reference, reader=person, content_version=content.version,
                                 flag_key=flag.key, kind=flag.kind, path=flag.path, description=flag.description,
                                 status="shared" if shared else "open", reason=shared.reason if shared else None,
                                 chair=shared.chair if shared else None, resolved_at=shared.resolved_at if shared else None)
            session.add(row)
            session.flush()
            append_event(session, at=now, actor=actor, action="flag_raised", reference=content.reference,
                         subject=person, details={"flag": flag.key, "kind": flag.kind, "path": flag.path,
                                                  "content_version": content.version, "status": row.status})
        result.append(row)
    return result


def _rows(session: Session, reference: str, person: str) -> list[DisclosureFlag]:
    return list(session.scalars(select(DisclosureFlag).where(DisclosureFlag.conference_reference == reference,
                                                             DisclosureFlag.reader == person)
                                .order_by(DisclosureFlag.id)))


def flag_view(row: DisclosureFlag) -> FlagView:
    return FlagView(row.flag_key, row.kind, row.path, row.description, row.status, row.reason)


def flags(runtime: Runtime, reference: str, person: str, *, actor: str) -> list[FlagView]:
    """The flags of ``person``'s family copy of the record as the content stands now."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        return [flag_view(row) for row in refresh_flags(session, content, person, runtime.clock(), actor=actor)]


def open_flags(session: Session, content: Content, person: str, now: datetime, *, actor: str) -> list[DisclosureFlag]:
    return [row for row in refresh_flags(session, content, person, now, actor=actor) if row.status == "open"]


def resolve_flag(runtime: Runtime, reference: str, person: str, key: str, *, resolution: Resolution, reason: str,
                 chair: str) -> FlagView:
    """The chair resolves one open flag: ``share`` records the reason; ``withhold`` marks the item
    (or its nearest part that can be marked) withheld from ``person`` and saves a new version."""
    if not reason.strip():
        raise ApprovalError("a resolved flag needs the chair's reason; give --reason")
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        if chair != content.chair:
            raise ApprovalError(f"{chair!r} is not the chair of conference {reference}; only its chair "
                                f"({content.chair}) may resolve its disclosure flags")
        rows = {row.flag_key: row for row in refresh_flags(session, content, person, now, actor=chair)}
        row = rows.get(key)
        if row is None or row.status != "open":
            listed = ", ".join(k for k, r in rows.items() if r.status == "open") or "none"
            raise NotFoundError(f"{person}'s copy of conference {reference} has no open flag {key!r} on content "
                                f"version {content.version}; its open flags are: {listed}")
        if resolution == "withhold":
            marked = _withheld_case(content, person, row)
        else:
            return _resolve(session, row, "shared", reason, chair, now)
    # The new version is saved before the flag is marked withheld, so a failed save leaves it open.
    save_conference(runtime, marked, based_on=content.version, saved_by=chair,
                    source=f"{reference}, flag {key} withheld from {person}")
    with unit_of_work(runtime.sessions) as session:
        row = session.get_one(DisclosureFlag, row.id)
        return _resolve(session, row, "withheld", reason, chair, now)


def _resolve(session: Session, row: DisclosureFlag, status: str, reason: str, chair: str, now: datetime) -> FlagView:
    row.status, row.reason, row.chair, row.resolved_at = status, reason.strip(), chair, _local(now)
    append_event(session, at=now, actor=chair, action=f"flag_{status}", reference=row.conference_reference,
                 subject=row.reader, details={"flag": row.flag_key, "kind": row.kind, "path": row.path,
                                              "content_version": row.content_version})
    return flag_view(row)


def _withheld_case(content: Content, person: str, row: DisclosureFlag) -> dict[str, Any]:
    """The case with the flagged node, or its nearest ancestor validation accepts a marking on,
    withheld from ``person``. CaseFileError if no part of the path can be marked."""
    reason = MARKING_REASONS.get(row.kind, "third_party")  # type: ignore[call-overload]
    for steps in _candidates(content.case, row.path):
        case = copy.deepcopy(content.case)
        node: Any = case
        for step in steps:
            node = node[step]
        node["withheld_from"] = sorted({*node.get("withheld_from", ()), person})
        node["reason"] = node.get("reason") or reason
        try:
            validate_case(case, source=f"{content.reference} (marking {row.path})")
        except CaseFileError:
            continue
        return case
    raise ApprovalError(f"no part of {row.path} can be marked withheld in conference {content.reference}; edit "
                        "the case file by hand, or share the flag with a reason")


def _candidates(case: dict[str, Any], path: str) -> list[list[str | int]]:
    """The steps to each mapping on ``path`` in the case, deepest first. The view's subject and
    other children lists are the case's children in another order, so they are mapped back."""
    steps: list[str | int] = [int(index) if index else name for name, index in _STEP.findall(path)]
    if steps and steps[0] in ("subject_children", "other_children") and len(steps) > 1:
        subject = steps[0] == "subject_children"
        ids = [c["id"] for c in case["children"] if bool(c["subject"]) == subject]
        position = next(i for i, c in enumerate(case["children"]) if c["id"] == ids[int(steps[1])])
        steps = ["children", position, *steps[2:]]
    found: list[list[str | int]] = []
    node: Any = case
    for depth, step in enumerate(steps):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict):
            found.append(list(steps[:depth + 1]))
    return list(reversed(found))
