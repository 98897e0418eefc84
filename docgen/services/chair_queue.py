"""The chair's workspace: the queue of family copies waiting for this chair across the conferences
they chair, ordered by the circulation deadline each holds up; the approval of a copy, which also
releases its held outbox items; and the reports whose sharing with parents the chair decides.

Every decision is the ``approval`` service's (the same the CLI calls); this module gathers what
the chair's pages show and releases what an approval frees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm import Conference, Professional
from docgen.adapters.orm_governance import Approval, ReportSharingDecision
from docgen.domain.outbox import OutboxItem
from docgen.services import approval
from docgen.services.approval_status import chair_decisions
from docgen.services.board import WindowState, window_state
from docgen.services.dispatch import release_item
from docgen.services.returns import returned_copies
from docgen.services.review_jobs import ensure_review
from docgen.services.runtime import Runtime
from docgen.services.scheduling import conference_items

#: Why a copy is in the queue, in words.
REASONS = {
    "waiting": "Not yet approved",
    "out_of_date": "Changed since you approved it",
    "answered": "Returned by you; business support has answered",
}
_DONE = ("sent", "cancelled")


@dataclass(frozen=True)
class QueueEntry:
    """One family member's copies of one conference, waiting for the chair."""

    reference: str
    starts_at: datetime
    person: str
    name: str
    audience: str
    reason: str  # a key of REASONS
    deadline: datetime | None  # the earliest circulation deadline among their copies not yet sent
    deadline_state: WindowState
    held: int  # their outbox items held for the chair

    @property
    def reason_words(self) -> str:
        return REASONS[self.reason]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _waiting_items(items: list[OutboxItem], person: str) -> list[OutboxItem]:
    return [i for i in items if i.family_copy and i.audience_person == person and i.state not in _DONE]


def review_queue(runtime: Runtime, chair: str, *, reviews_in: Path | None = None, actor: str = "docgen"
                 ) -> list[QueueEntry]:
    """The family copies awaiting ``chair``'s approval across the conferences they chair, the soonest
    deadline first (copies not yet in the outbox last, by the conference's date). With ``reviews_in``
    (the data folder), the review of each that is not made is asked for, so it is ready when opened."""
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        chaired = session.execute(select(Conference.reference, Conference.starts_at)
                                  .join(Professional, Conference.chair_id == Professional.id)
                                  .where(Professional.key == chair)).all()
        outbox = {reference: conference_items(session, reference) for reference, _ in chaired}
    entries = []
    for reference, starts_at in chaired:
        _, decisions = chair_decisions(runtime, reference)
        answered = {r.person for r in returned_copies(runtime, reference) if r.answered}
        for decision in decisions:
            reason = "answered" if decision.state == "returned" and decision.person in answered else decision.state
            if reason not in REASONS:
                continue
            items = _waiting_items(outbox[reference], decision.person)
            deadline = min((d for d in (_utc(i.deadline) for i in items) if d is not None), default=None)
            state = window_state(deadline, len(items), 0, now) if items else WindowState.NOT_SCHEDULED
            entries.append(QueueEntry(reference, starts_at, decision.person, decision.name, decision.audience, reason,
                                      deadline, state, sum(1 for i in items if i.state == "waiting_for_approval")))
    far = datetime.max.replace(tzinfo=UTC)
    entries.sort(key=lambda e: (e.deadline or far, e.starts_at, e.reference, e.name))
    if reviews_in is not None:
        for entry in entries:
            ensure_review(runtime, reviews_in, entry.reference, entry.person, actor=actor)
    return entries


def approve_copy(runtime: Runtime, reference: str, person: str, *, chair: str, comment: str | None = None
                 ) -> tuple[Approval, int]:
    """The chair approves ``person``'s copies (``approval.approve``: refused while a flag is open, before
    the review was opened, or when this chair made the last edit); their outbox items held for the chair
    are released to go in their window (the approval is checked again as each is sent). Returns the
    approval and how many items were released."""
    row = approval.approve(runtime, reference, person, chair=chair, comment=comment or None)
    released = 0
    with unit_of_work(runtime.sessions) as session:
        for item in conference_items(session, reference):
            if item.family_copy and item.audience_person == person and item.state == "waiting_for_approval":
                release_item(session, item.id, now=runtime.clock())
                released += 1
    return row, released


# -- reports the chair decides on -------------------------------------------------------------------

@dataclass(frozen=True)
class ReportChoice:
    """A report whose sharing with parents is the chair's decision, with the decision standing on it."""

    report: str
    title: str
    confidential: bool
    shared: bool | None  # None: no decision on the report as it is now
    decided_at: datetime | None


def reports_to_decide(runtime: Runtime, reference: str) -> list[ReportChoice]:
    """The conference's reports marked ``chair_decides``, each with the chair's latest decision if it
    was made on the report as it is now (a report changed since has no decision)."""
    with unit_of_work(runtime.sessions) as session:
        content = approval.current_content(session, reference)
        rows = session.scalars(select(ReportSharingDecision).where(
            ReportSharingDecision.conference_reference == reference).order_by(ReportSharingDecision.id)).all()
        latest = {row.report: (row.shared, row.decided_at, row.report_sha256) for row in rows}
    choices = []
    for report in content.case["reports"]:
        if report.get("shared_with_parents") != "chair_decides":
            continue
        shared, decided_at, sha = latest.get(report["id"], (None, None, None))
        current = sha == approval.content_hash(report)
        choices.append(ReportChoice(report["id"], str(report.get("title") or report["id"]),
                                    report.get("confidentiality") == "confidential",
                                    shared if current else None, decided_at if current else None))
    return choices
