"""The documents of a conference pack: what kinds there are, and who gets which copy.

Pure: from a validated case it plans every copy to make (document kind, audience, recipient),
and builds the context a template is rendered from. Rendering happens elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docgen.domain.authority import Settings
from docgen.domain.redaction import PROFESSIONALS, Audience, withholds
from docgen.errors import NotFoundError


@dataclass(frozen=True)
class DocumentKind:
    key: str
    family: str  # the templates folder: invites, records or plans
    title: str

    @property
    def html_template(self) -> str:
        return f"{self.family}/{self.key}.html"

    @property
    def docx_template(self) -> str:
        return f"{self.family}/{self.key}.docx"


KINDS: dict[str, DocumentKind] = {kind.key: kind for kind in [
    DocumentKind("parent_invitation", "invites", "Invitation to a child protection conference"),
    DocumentKind("professional_invitation", "invites", "Invitation to a child protection conference"),
    DocumentKind("professional_guidance", "invites", "Guidance for professionals invited to a child protection conference"),
    DocumentKind("child_invitation", "invites", "You are invited to a meeting about you"),
    DocumentKind("exclusion_letter", "invites", "Your child protection conference: why you cannot attend"),
    DocumentKind("social_worker_report", "records", "Social worker's report to the child protection conference"),
    DocumentKind("agency_report_form", "records", "Agency report to a child protection conference"),
    DocumentKind("agency_report", "records", "Agency report to the child protection conference"),
    DocumentKind("conference_record", "records", "Child protection conference record"),
    DocumentKind("decisions_notice", "records", "Decisions of the child protection conference"),
    DocumentKind("outline_plan", "plans", "Outline child protection plan"),
    DocumentKind("discharge_notification", "plans", "Child protection plan ended"),
]}


@dataclass(frozen=True)
class CopySpec:
    """One copy of one document: its kind, its audience, and the person it is addressed to."""

    kind: DocumentKind
    audience: Audience
    recipient: str | None = None  # id of the person a letter is addressed to
    report: str | None = None  # id of the report, for report kinds

    @property
    def stem(self) -> str:
        parts = [self.kind.key]
        if self.report:
            parts.append(self.report)
        if self.recipient and self.audience.person != self.recipient:
            parts.append(self.recipient)
        parts.append(self.audience.slug)
        return "--".join(parts)


def documents_date(saved_at: datetime) -> date:
    """The date of the documents made from a stored version of a conference's content: the day it
    was saved (local time). Every copy of the same content carries the same date, whether made by
    the pack, for the chair's review or when it is sent on a later day, like a letter dated the day
    it was written; so the copy is made once and every later use takes it from the copy store. The
    day a recipient's copy was sent is in its "Copy for" line."""
    return saved_at.date()


def family_audience(case: dict[str, Any], person: str) -> Audience:
    """The audience of a copy for a family member or a child; NotFoundError names who can be chosen."""
    for child in case["children"]:
        if child["id"] == person:
            return Audience("child", person, child["name"])
    member = next((m for m in case["family"] if m["id"] == person), None)
    if member is None:
        raise NotFoundError(f"conference {case['reference']} has no family member or child {person[:60]!r}; "
                            f"copies can be made for: {', '.join(nameable_readers(case)) or 'nobody'}")
    return Audience("family", person, member["name"])


def nameable_readers(case: dict[str, Any]) -> list[str]:
    """Who a family copy can be made for, each as "id (role)": the children, then the family members."""
    return [*(f"{c['id']} (child)" for c in case["children"]),
            *(f"{m['id']} ({m.get('relationship') or 'family member'})" for m in case["family"])]


def report_shareable(report: dict[str, Any], approved_reports: frozenset[str] = frozenset()) -> bool:
    """Whether a report may go to the family: yes, or the chair has approved it."""
    return report.get("confidentiality", "open") != "confidential" and (
        report["shared_with_parents"] == "yes"
        or (report["shared_with_parents"] == "chair_decides" and report["id"] in approved_reports))


def plan_copies(case: dict[str, Any], approved_reports: frozenset[str] = frozenset()) -> list[CopySpec]:
    """Every copy the pack for this conference holds, in a stable order."""
    copy_specs: list[CopySpec] = []
    invited = case["invitations"]
    family_ids = {m["id"] for m in case["family"]}
    child_ids = {c["id"] for c in case["children"]}
    family_invitees = [i["invitee"] for i in invited if i["invitee"] in family_ids]
    child_invitees = [i["invitee"] for i in invited if i["invitee"] in child_ids]
    family_readers = [family_audience(case, p) for p in [*family_invitees, *child_invitees]]

    for invitation in invited:
        person = invitation["invitee"]
        if person in family_ids:
            kind = "exclusion_letter" if invitation["attendance"] == "excluded" else "parent_invitation"
            copy_specs.append(CopySpec(KINDS[kind], family_audience(case, person), recipient=person))
        elif person in child_ids:
            copy_specs.append(CopySpec(KINDS["child_invitation"], family_audience(case, person), recipient=person))
        else:
            copy_specs.append(CopySpec(KINDS["professional_invitation"], PROFESSIONALS, recipient=person))
    if any(copy_spec.kind.key == "professional_invitation" for copy_spec in copy_specs):
        # The same for every professional invited, so made once and sent with each invitation.
        copy_specs.append(CopySpec(KINDS["professional_guidance"], PROFESSIONALS))
    for invitation in invited:
        if invitation.get("report_due_on"):
            copy_specs.append(CopySpec(KINDS["agency_report_form"], PROFESSIONALS, recipient=invitation["invitee"]))
    for report in case["reports"]:
        report_kind = KINDS["social_worker_report" if report["kind"] == "social_worker" else "agency_report"]
        copy_specs.append(CopySpec(report_kind, PROFESSIONALS, report=report["id"]))
        if report_shareable(report, approved_reports):
            # A report withheld as a whole from a reader is not in that reader's copies at all.
            copy_specs.extend(CopySpec(report_kind, reader, report=report["id"]) for reader in family_readers
                              if reader.kind == "family" and not withholds(report, reader))
    for key in ("conference_record", "decisions_notice", *(("outline_plan",) if "plan" in case else ())):
        copy_specs.append(CopySpec(KINDS[key], PROFESSIONALS))
        copy_specs.extend(CopySpec(KINDS[key], reader) for reader in family_readers)
    if case["discharge"]:
        copy_specs.append(CopySpec(KINDS["discharge_notification"], PROFESSIONALS))
        copy_specs.extend(CopySpec(KINDS["discharge_notification"], reader) for reader in family_readers if reader.kind == "family")
    return copy_specs


def copy_marking(audience: Audience, settings: Settings) -> dict[str, Any]:
    """The marking every page of a copy carries."""
    marking = settings.marking
    label = {"professional": "", "family": marking.family_copy_label, "child": marking.child_copy_label,
             "legal": marking.legal_copy_label}[audience.kind]
    return {"is_family_copy": audience.is_family_copy, "label": label, "copy_for": audience.name,
            "notice": marking.confidentiality_notice,
            "line": f"{label}. Copy for: {audience.name}" if audience.is_family_copy else ""}


def build_context(copy_spec: CopySpec, view: dict[str, Any], settings: Settings, *, generated_on: date,
                  recipient_line: str = "") -> dict[str, Any]:
    """The context a template is rendered from; ``view`` is already redacted for the copy's audience."""
    recipient = None
    if copy_spec.recipient is not None:
        people = [*view["children"], *view["family"], *view["professionals"]]
        recipient = dict(next(p for p in people if p.get("id") == copy_spec.recipient))
        invitation = next((i for i in view["invitations"] if i.get("invitee") == copy_spec.recipient), None)
        recipient["invitation"] = invitation
    report = next((r for r in view["reports"] if r.get("id") == copy_spec.report), None) if copy_spec.report else None
    title = report["title"] if report is not None and not report.get("withheld") else copy_spec.kind.title
    return {
        "authority": settings.authority,
        "contacts": settings.contacts,
        "document": {"kind": copy_spec.kind.key, "title": title, "reference": view["reference"],
                     "protective_marking": settings.marking.protective_marking,
                     "generated_on_text": f"{generated_on.day} {generated_on:%B %Y}", "language": "en-GB"},
        "copy": {**copy_marking(copy_spec.audience, settings), "recipient_line": recipient_line},
        "placeholder": settings.marking.withheld_placeholder if settings.marking.show_placeholder else "",
        "case": view,
        "recipient": recipient,
        "report": report,
    }
