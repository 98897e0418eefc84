"""Chair approval of family copies, the chair's report sharing decisions, and the approval check
the distribution layer runs before any family copy leaves. (What the chair reviews before
deciding is in ``review``.)

An approval is for one family member or child and binds the content it was given on: the
conference's content version, the SHA-256 of the whole stored case, the SHA-256 of the redacted
view every copy for that person is rendered from, and the SHA-256 of the exact PDF of the record
the chair approved; the view's hash is bound together with the SHA-256 of every template file
that reader's copies are made from (``bound_view_hash``), so a template changed after approval
holds the copies it affects until the chair approves again. Every save of the conference
(``import --replace``, later an edit) is a new content version, so the approval no longer
matches and release is refused until the chair approves again. The content is read as stored: it was validated once, when it was saved.

Why the view and not only the bytes: WeasyPrint does not make the same bytes twice. The font
subsets it embeds carry a ``head.modified`` time stamp of the moment of rendering (to the second,
from fontTools), and the PDF's /ID is a digest of the content, so it changes with them. Copies
are also personalised at delivery ("Copy for: NAME, ORGANISATION, DATE"). So a copy is released
if its SHA-256 is the approved one, or if it was rendered from exactly the approved redacted view
of exactly the approved content; the copy's own SHA-256 is recorded in the audit trail either way.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docgen.adapters.case_store import content_hash, load_version
from docgen.adapters.clock import london_now
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import DECISIONS, Approval, AuditEvent, ReportSharingDecision, append_event
from docgen.domain.calendar import LONDON
from docgen.domain.documents import CopySpec, documents_date, family_audience, plan_copies, report_shareable
from docgen.domain.redaction import Audience, redact
from docgen.domain.views import build_case_view
from docgen.errors import ApprovalError, AuditError, NotFoundError
from docgen.services.audit_trail import audit_seal, checkpoint_quietly, record_event, trusted_decision
from docgen.services.copies import audience_copy
from docgen.services.runtime import Runtime
from docgen.services.templates_check import reader_templates_sha256

# content_hash is the store's: the hash each saved version carries is the one approvals bind.
__all__ = [
    "RECORD",
    "Content",
    "FamilyCopy",
    "approve",
    "approve_report_sharing",
    "approved_reports",
    "bound_view_hash",
    "check_approval",
    "check_approval_of",
    "content_hash",
    "current_content",
    "note_lapsed_approvals",
    "only_withheld_more",
    "reader",
    "record_copy_spec",
    "record_event",
    "render_family_copy",
    "render_record_copy",
    "return_copy",
    "shared_reports",
    "view_hash",
]

RECORD = "conference_record"

log = logging.getLogger("docgen.approval")


def view_hash(case: dict[str, Any], audience: Audience) -> str:
    """SHA-256 of the redacted view a copy for ``audience`` is rendered from."""
    return content_hash(redact(build_case_view(case), audience).view)


def bound_view_hash(view_sha256: str, case: dict[str, Any], audience: Audience, templates_folder: str | None) -> str:
    """The view hash an approval binds: the view's with the SHA-256 of every template file the
    reader's copies are made from (``templates_folder``: the authority's, "" for none), so that a
    template changed after approval holds the copies it affects. ``None``: templates unknown."""
    if templates_folder is None:
        return view_sha256
    templates = reader_templates_sha256(case, audience, templates_folder)
    return hashlib.sha256(f"{view_sha256}\n{templates}".encode()).hexdigest()


# -- reading the current content ----------------------------------------------------------------

@dataclass(frozen=True)
class Content:
    """A conference's content as it is now, with the hashes approvals are bound to."""

    reference: str
    version: int
    chair: str
    chair_name: str
    case: dict[str, Any]
    sha256: str
    saved_on: date  # the date of every copy made from this content (:func:`documents_date`)
    saved_by: str = ""  # who saved this version: the chair may not approve their own edits


def current_content(session: Session, reference: str) -> Content:
    """The conference's newest version as stored: trusted as validated when it was saved."""
    stored = load_version(session, reference)
    chair = stored.case["conference"]["chair"]
    chair_name = next(p["name"] for p in stored.case["professionals"] if p["id"] == chair)
    return Content(reference, stored.version, chair, chair_name, stored.case, stored.sha256,
                   documents_date(stored.saved_at), stored.saved_by)


def reader(case: dict[str, Any], person: str) -> Audience:
    """The audience of ``person``'s copies, or NotFoundError naming who there is."""
    known = [c["id"] for c in case["children"]] + [m["id"] for m in case["family"]]
    if person not in known:
        raise NotFoundError(f"conference {case['reference']} has no family member or child {person!r}; "
                            f"its family members and children are: {', '.join(known)}")
    return family_audience(case, person)


def record_copy_spec(case: dict[str, Any], person: str) -> CopySpec:
    """The family copy of the record for ``person``, which is what the chair reviews."""
    audience = reader(case, person)
    copy_spec = next((j for j in plan_copies(case) if j.kind.key == RECORD and j.audience == audience), None)
    if copy_spec is None:
        raise ApprovalError(f"{person!r} is not invited to conference {case['reference']}, so no family copies "
                            "are made for them and there is nothing to approve; check the invitations in the case file")
    return copy_spec


def _require_chair(content: Content, chair: str, what: str) -> None:
    if chair != content.chair:
        raise ApprovalError(f"{chair!r} is not the chair of conference {content.reference}; only its chair "
                            f"({content.chair}, {content.chair_name}) may {what}")


def _require_second_pair_of_eyes(content: Content, chair: str, runtime: Runtime) -> None:
    """Refuse an approval by the person who last edited the content being approved, unless the
    authority allows it (``[approval] chair_may_approve_own_edits``). A version in which the chair
    only withheld more (resolving a disclosure flag) is not an edit of the content."""
    if runtime.settings.approval.chair_may_approve_own_edits or content.saved_by != chair:
        return
    with unit_of_work(runtime.sessions) as session:
        newer = load_version(session, content.reference, content.version)
        while newer.saved_by == chair and newer.version > 1:
            older = load_version(session, content.reference, newer.version - 1)
            if not only_withheld_more(newer.case, older.case):
                break
            newer = older
    if newer.saved_by == chair:
        raise ApprovalError(f"{chair!r} saved content version {newer.version} of conference {content.reference} "
                            "and so may not approve it: a second pair of eyes is required. Ask someone else to "
                            "check and save the content, or the authority may set "
                            "[approval] chair_may_approve_own_edits = true in authority.toml")


def only_withheld_more(new: object, old: object) -> bool:
    """Whether ``new`` is ``old`` with nothing changed but more withheld (markings added)."""
    if isinstance(new, dict) and isinstance(old, dict):
        plain = set(new) - {"withheld_from", "reason"}
        if plain != set(old) - {"withheld_from", "reason"} or ("reason" in old and new.get("reason") != old["reason"]):
            return False
        if not set(old.get("withheld_from") or ()) <= set(new.get("withheld_from") or ()):
            return False
        return all(only_withheld_more(new[key], old[key]) for key in plain)
    if isinstance(new, list) and isinstance(old, list):
        return len(new) == len(old) and all(only_withheld_more(a, b) for a, b in zip(new, old, strict=True))
    return new == old


def _require_review_opened(runtime: Runtime, content: Content, person: str, chair: str) -> None:
    """Refuse unless this chair opened the review (``preview``) of ``person``'s copy of exactly
    this content: the audit entry of the preview names the chair, the version and its hash."""
    with unit_of_work(runtime.sessions) as session:
        opened = any(e.subject == person and e.details.get("chair") == chair
                     and e.details.get("content_version") == content.version
                     and e.details.get("content_sha256") == content.sha256
                     for e in _events(session, content.reference, "previewed"))
    if not opened:
        raise ApprovalError(f"the chair has not opened the review of {person}'s copy of conference "
                            f"{content.reference} at content version {content.version}; run `docgen preview "
                            f"{content.reference} --for {person} --chair {chair} --out FOLDER` and read it first")


def _require_no_open_flags(runtime: Runtime, reference: str, person: str, chair: str) -> None:
    """Refuse while the disclosure-risk check has an open flag on ``person``'s copy of the current content."""
    # Imported here: the risk service reads the content through this module.
    from docgen.services import risk

    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        count = len(risk.open_flags(session, content, person, runtime.clock(), actor=chair))
    if count:
        raise ApprovalError(f"{person}'s copy of conference {reference} has {count} open disclosure "
                            f"flag{'s' if count != 1 else ''}; see them with `docgen flags {reference} --for {person}` "
                            "and resolve each with `docgen resolve-flag` before approving")


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON).replace(tzinfo=None) if moment.tzinfo is not None else moment


# -- rendering ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FamilyCopy:
    """A rendered and verified family copy of the record, with what it was made from."""

    copy_spec: CopySpec
    data: bytes
    pages: int | None
    sha256: str
    content_version: int
    content_sha256: str
    view_sha256: str
    generated_on: date


def render_family_copy(runtime: Runtime, reference: str, person: str) -> FamilyCopy:
    """Render ``person``'s family copy of the record from the stored content (PDF, leak-checked)."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
    return render_record_copy(content, person, runtime)


def render_record_copy(content: Content, person: str, runtime: Runtime) -> FamilyCopy:
    """Render ``person``'s family copy of the record from ``content`` (PDF, leak-checked), or take
    it from the copy store when it was made for exactly these inputs."""
    copy_spec = record_copy_spec(content.case, person)
    copy = audience_copy(runtime.copies, copy_spec, build_case_view(content.case), runtime.settings,
                         generated_on=content.saved_on, fmt="pdf")
    return FamilyCopy(copy_spec, copy.data, copy.pages, hashlib.sha256(copy.data).hexdigest(), content.version,
                      content.sha256, view_hash(content.case, copy_spec.audience), content.saved_on)


# -- the chair's decisions ------------------------------------------------------------------------

def approve(runtime: Runtime, reference: str, person: str, *, chair: str, comment: str | None = None) -> Approval:
    """The chair approves what ``person`` may be sent, as the content stands now."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
    _require_chair(content, chair, "approve its family copies")
    _require_second_pair_of_eyes(content, chair, runtime)
    _require_review_opened(runtime, content, person, chair)
    _require_no_open_flags(runtime, reference, person, chair)
    copy = render_record_copy(content, person, runtime)
    return _decide(runtime, reference, person, chair=chair, decision="approved", comment=comment, copy=copy)


def return_copy(runtime: Runtime, reference: str, person: str, *, chair: str, comment: str) -> Approval:
    """The chair returns ``person``'s copy with comments; nothing goes to them until a new approval."""
    if not (comment or "").strip():
        raise ApprovalError("a returned copy needs a comment saying what must change; give --comment")
    return _decide(runtime, reference, person, chair=chair, decision="returned", comment=comment.strip(), copy=None)


def _decide(runtime: Runtime, reference: str, person: str, *, chair: str, decision: str, comment: str | None,
            copy: FamilyCopy | None) -> Approval:
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        _require_chair(content, chair, f"{'approve' if decision == 'approved' else 'return'} its family copies")
        copy_spec = record_copy_spec(content.case, person)
        if copy is not None and (copy.content_version, copy.content_sha256) != (content.version, content.sha256):
            raise ApprovalError(f"the content of conference {reference} changed while {person}'s copy was being "
                                "rendered; nothing was approved; preview the new content and approve again")
        note_lapsed_approvals(session, content, now, actor=chair)
        row = Approval(conference_reference=reference, person=person, document=RECORD, decision=decision, chair=chair,
                       decided_at=_local(now), comment=comment, content_version=content.version,
                       content_sha256=content.sha256,
                       view_sha256=bound_view_hash(view_hash(content.case, copy_spec.audience), content.case,
                                                   copy_spec.audience, runtime.settings.templates.folder),
                       copy_sha256=copy.sha256 if copy else None, copy_format="pdf" if copy else None,
                       generated_on=copy.generated_on if copy else None)
        session.add(row)
        session.flush()
        sequence = append_event(session, at=now, actor=chair, action=decision, reference=reference, subject=person,
                                details=_approval_details(row)).sequence
    checkpoint_quietly(runtime, vouch_for=[sequence], actor=chair)
    return row


def _approval_details(row: Approval) -> dict[str, Any]:
    """What the audit entry of a decision binds: the row's id and everything release depends on.
    Comments are kept in the decision, not in the audit trail, which can never be erased."""
    return {"approval": row.id, "decision": row.decision, "content_version": row.content_version,
            "content_sha256": row.content_sha256, "view_sha256": row.view_sha256, "copy_sha256": row.copy_sha256,
            "comment_sha256": hashlib.sha256(row.comment.encode("utf-8")).hexdigest() if row.comment else None}


def approve_report_sharing(runtime: Runtime, reference: str, report_id: str, *, chair: str, decision: bool,
                           comment: str | None = None) -> ReportSharingDecision:
    """The chair decides whether a report marked ``chair_decides`` may be shared with parents."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        _require_chair(content, chair, "decide whether its reports are shared with parents")
        report = _report(content, report_id)
        if report["shared_with_parents"] != "chair_decides":
            raise ApprovalError(f"report {report_id!r} of conference {reference} is marked shared_with_parents: "
                                f"{report['shared_with_parents']}, so there is no decision for the chair to make; "
                                "change the marking in the case file and import it again")
        if decision and report.get("confidentiality") == "confidential":
            raise ApprovalError(f"report {report_id!r} is marked confidential as a whole and cannot be shared "
                                "with parents; change its marking in the case file first")
        row = ReportSharingDecision(conference_reference=reference, report=report_id, shared=decision, chair=chair,
                                    decided_at=_local(now), comment=comment, content_version=content.version,
                                    report_sha256=content_hash(report))
        session.add(row)
        session.flush()
        sequence = append_event(session, at=now, actor=chair, action="report_sharing_decided", reference=reference,
                                subject=report_id, details=_sharing_details(row)).sequence
    checkpoint_quietly(runtime, vouch_for=[sequence], actor=chair)
    return row


def _report(content: Content, report_id: str) -> dict[str, Any]:
    report: dict[str, Any] | None = next((r for r in content.case["reports"] if r["id"] == report_id), None)
    if report is None:
        known = ", ".join(r["id"] for r in content.case["reports"]) or "none"
        raise NotFoundError(f"conference {content.reference} has no report {report_id!r}; its reports are: {known}")
    return report


def approved_reports(runtime: Runtime, reference: str) -> frozenset[str]:
    """Reports the chair has decided may be shared, on their content as it is now (for plan_copies)."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        return shared_reports(session, content, runtime.clock(), actor="docgen")


def shared_reports(session: Session, content: Content, now: datetime, *, actor: str) -> frozenset[str]:
    """Reports whose latest decision in the audit trail (checked against the signed checkpoints)
    shares them, on their content as it is now. A decision the trail cannot vouch for, or that the
    decisions table does not match, shares nothing."""
    noted = {e.details.get("decision") for e in _events(session, content.reference, "report_sharing_invalidated")}
    current = {r["id"]: content_hash(r) for r in content.case["reports"]}
    seal = audit_seal(session)
    shared = set()
    for report in current:
        try:
            entry = trusted_decision(session, seal, reference=content.reference, subject=report,
                                     actions=frozenset({"report_sharing_decided"}))
        except AuditError as exc:
            log.error("report %s of %s is not shared: its decision cannot be verified (%s)", report,
                      content.reference, str(exc)[:200])
            continue
        row = session.get(ReportSharingDecision, entry.details.get("decision")) if entry is not None else None
        if entry is None or row is None or _sharing_details(row) != entry.details or not row.shared:
            continue
        if current.get(report) == row.report_sha256:
            shared.add(report)
        elif row.id not in noted:
            append_event(session, at=now, actor=actor, action="report_sharing_invalidated",
                         reference=content.reference, subject=report,
                         details={"decision": row.id, "reason": "the report changed after the decision"})
    return frozenset(shared)


def _sharing_details(row: ReportSharingDecision) -> dict[str, Any]:
    return {"decision": row.id, "shared": row.shared, "report_sha256": row.report_sha256,
            "content_version": row.content_version}


def _events(session: Session, reference: str, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.reference == reference,
                                                         AuditEvent.action == action)))


def _latest_decisions(session: Session, reference: str) -> dict[str, Approval]:
    rows = session.scalars(select(Approval).where(Approval.conference_reference == reference).order_by(Approval.id))
    return {row.person: row for row in rows}


def note_lapsed_approvals(session: Session, content: Content, now: datetime, *, actor: str) -> None:
    """Record once, for each approval that no longer matches the content, that it lapsed."""
    noted = {e.details.get("approval") for e in _events(session, content.reference, "approval_invalidated")}
    for person, row in _latest_decisions(session, content.reference).items():
        stale = (row.content_version, row.content_sha256) != (content.version, content.sha256)
        if row.decision == "approved" and stale and row.id not in noted:
            append_event(session, at=now, actor=actor, action="approval_invalidated", reference=content.reference,
                         subject=person, details={"approval": row.id, "approved_version": row.content_version,
                                                  "current_version": content.version,
                                                  "reason": "the conference's content changed after approval"})


# -- the release check ----------------------------------------------------------------------------

def check_approval(target: Session | Runtime, reference: str, person: str, copy_sha256: str, content_version: int, *,
                  view_sha256: str | None = None, content_sha256: str | None = None, report: str | None = None,
                  actor: str = "distribution", clock: Callable[[], datetime] | None = None) -> None:
    """Raise ApprovalError unless ``person``'s copy may be released: the chair's latest decision
    for them is an approval, of the content as it is now, recorded in the audit trail, and the
    copy is the approved one (``copy_sha256``) or was rendered from the approved view
    (``view_sha256``) of the approved content (``content_version``, and ``content_sha256`` when
    given). For a report's copy (``report``), the report must also be shareable now.

    Every outcome is recorded in the audit trail. Given a Runtime, the check runs in its own
    transaction, which is committed before ApprovalError is raised. Given a Session, the entry is
    added to that session: catch ApprovalError and commit, or the record of the refusal is lost.
    """
    if isinstance(target, Session):
        _check(target, reference, person, copy_sha256, content_version, view_sha256=view_sha256,
               content_sha256=content_sha256, report=report, actor=actor, now=(clock or london_now)(),
               templates_folder=None)
        return
    refusal: ApprovalError | None = None
    with unit_of_work(target.sessions) as session:
        try:
            _check(session, reference, person, copy_sha256, content_version, view_sha256=view_sha256,
                   content_sha256=content_sha256, report=report, actor=actor, now=(clock or target.clock)(),
                   templates_folder=target.settings.templates.folder)
        except ApprovalError as exc:
            refusal = exc
    if refusal is not None:
        raise refusal


def check_approval_of(runtime: Runtime, reference: str, copy_spec: CopySpec, data: bytes, *, case: dict[str, Any] | None = None,
                     actor: str = "distribution") -> None:
    """The release check for a copy the distribution layer has just rendered (``data``) for ``copy_spec``.

    Pass the ``case`` the copy was rendered from: the check then refuses a copy made from content
    other than the approved content even if the stored content has since been approved again.
    Without it, the stored content is taken as the copy's source. Professional copies pass.
    """
    if not copy_spec.audience.is_family_copy or copy_spec.audience.person is None:
        return
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
    source = case if case is not None else content.case
    check_approval(runtime, reference, copy_spec.audience.person, hashlib.sha256(data).hexdigest(), content.version,
                  view_sha256=view_hash(source, copy_spec.audience), content_sha256=content_hash(source),
                  report=copy_spec.report, actor=actor)


def _check(session: Session, reference: str, person: str, copy_sha256: str, content_version: int, *,
           view_sha256: str | None, content_sha256: str | None, report: str | None, actor: str, now: datetime,
           templates_folder: str | None) -> None:
    content = current_content(session, reference)
    details: dict[str, Any] = {"copy_sha256": copy_sha256, "content_version": content_version, "report": report}

    def refuse(reason: str, message: str) -> ApprovalError:
        append_event(session, at=now, actor=actor, action="sending_refused", reference=reference, subject=person,
                     details={**details, "reason": reason})
        session.flush()
        return ApprovalError(f"{person}'s copy of conference {reference} was not released: {message}")

    try:
        audience = reader(content.case, person)
    except NotFoundError as exc:
        raise refuse("unknown_reader", str(exc)) from None
    if content_version != content.version or (content_sha256 is not None and content_sha256 != content.sha256):
        raise refuse("copy_out_of_date", f"it was made from content version {content_version}, but the conference "
                     f"is now at version {content.version} or its content has changed; render the copy again")
    note_lapsed_approvals(session, content, now, actor=actor)
    try:
        decided = trusted_decision(session, audit_seal(session), reference=reference, subject=person,
                                   actions=frozenset(DECISIONS))
    except AuditError as exc:
        raise refuse("approval_not_verified", f"its approval cannot be verified: {exc}") from None
    if decided is None:
        raise refuse("not_approved", f"the chair has not approved it; run `docgen preview` and have the chair "
                     f"({content.chair}) run `docgen approve`")
    row = session.get(Approval, decided.details.get("approval"))
    details["approval"] = decided.details.get("approval")
    if row is None or row.decision != decided.action or _approval_details(row) != decided.details:
        raise refuse("approval_not_in_audit_trail", f"the approvals table does not match the chair's decision in "
                     f"the audit trail (entry {decided.sequence}, {decided.action}), so it cannot be trusted; run "
                     "`docgen audit verify`, and have the chair decide again")
    if row.decision == "returned":
        # The chair's comment is not repeated here: messages end up in logs, and comments may quote the case.
        raise refuse("returned", f"the chair returned it on {row.decided_at:%d/%m/%Y %H:%M} (decision {row.id}); "
                     "correct the record as the chair's comment asks, then preview and approve it again")
    if (row.content_version, row.content_sha256) != (content.version, content.sha256):
        raise refuse("content_changed", f"the record changed after the chair approved it (approved content version "
                     f"{row.content_version}, now {content.version}); the approval no longer applies; preview and "
                     "have the chair approve the new content")
    # Given no runtime, the templates in use are unknown: only the approved copy itself passes.
    same_view = (view_sha256 is not None and templates_folder is not None
                 and bound_view_hash(view_sha256, content.case, audience, templates_folder) == row.view_sha256
                 == bound_view_hash(view_hash(content.case, audience), content.case, audience, templates_folder))
    if copy_sha256 != row.copy_sha256 and not same_view:
        raise refuse("copy_not_approved", "it is neither the copy the chair approved nor made from the approved "
                     "content and templates for this reader; render it from the stored content and check again, "
                     "and if a template was changed since the approval, have the chair preview and approve again")
    if report is not None:
        entry = _report(content, report)
        if not report_shareable(entry, shared_reports(session, content, now, actor=actor)):
            raise refuse("report_not_shareable", f"report {report!r} may not be shared with parents: it is marked "
                         f"{entry['shared_with_parents']!r} and has no current decision by the chair to share it")
    append_event(session, at=now, actor=actor, action="sending_cleared", reference=reference, subject=person,
                 details=details)

