"""Family copies the chair returned with comments, and business support's answers to them.

The return itself is the chair's decision (``approval.return_copy``, audited there with the
chair). Business support sees the chair's comment on the conference and answers it; the answer is
kept here and audited with who gave it, and only then does the copy come back to the chair's queue.
Comments and answers are kept in the database, not in the audit trail, which can never be erased:
the trail holds their SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import Approval, append_event
from docgen.adapters.orm_returns import ReturnAnswer
from docgen.domain.documents import plan_copies
from docgen.errors import ApprovalError, DocgenError
from docgen.services import approval
from docgen.services.runtime import Runtime

MAX_TEXT = 2000


@dataclass(frozen=True)
class ReturnedCopy:
    """A family member's copy whose latest decision by the chair is a return."""

    person: str
    name: str
    decision: int  # the chair's decision's id
    returned_at: datetime
    returned_by: str
    content_version: int
    comment: str
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.answer is not None


def _text(text: str, what: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise ApprovalError(f"give the {what}: it is kept with the returned copy")
    if len(cleaned) > MAX_TEXT:
        raise DocgenError(f"the {what} is {len(cleaned)} characters long; keep it to {MAX_TEXT}")
    return cleaned


def return_copy(runtime: Runtime, reference: str, person: str, *, chair: str, comment: str) -> Approval:
    """The chair returns ``person``'s copy with a comment for business support (``approval.return_copy``)."""
    return approval.return_copy(runtime, reference, person, chair=chair, comment=_text(comment, "comment"))


def _latest(session: Session, reference: str) -> dict[str, Approval]:
    rows = session.scalars(select(Approval).where(Approval.conference_reference == reference).order_by(Approval.id))
    return {row.person: row for row in rows}


def returned_copies(runtime: Runtime, reference: str) -> list[ReturnedCopy]:
    """The conference's copies the chair has returned and not decided on since, with any answer."""
    with unit_of_work(runtime.sessions) as session:
        content = approval.current_content(session, reference)
        returns = [row for row in _latest(session, reference).values() if row.decision == "returned"]
        answers = {row.approval: row for row in session.scalars(
            select(ReturnAnswer).where(ReturnAnswer.conference_reference == reference))}
    names = {spec.audience.person: spec.audience.name for spec in plan_copies(content.case)
             if spec.audience.person is not None}
    result = []
    for row in returns:
        answer = answers.get(row.id)
        result.append(ReturnedCopy(row.person, names.get(row.person, row.person), row.id, row.decided_at, row.chair,
                                   row.content_version, row.comment or "", answer.answer if answer else None,
                                   answer.answered_by if answer else None, answer.answered_at if answer else None))
    return result


def answer_return(runtime: Runtime, reference: str, person: str, *, answer: str, actor: str) -> ReturnAnswer:
    """Business support answers the chair's comment on ``person``'s returned copy; audited with ``actor``."""
    text = _text(answer, "answer")
    now = runtime.clock()
    with unit_of_work(runtime.sessions) as session:
        approval.current_content(session, reference)
        row = _latest(session, reference).get(person)
        if row is None or row.decision != "returned":
            raise ApprovalError(f"{person}'s copy of conference {reference} is not returned by the chair, so there "
                                "is nothing to answer")
        if session.scalar(select(ReturnAnswer).where(ReturnAnswer.approval == row.id)) is not None:
            raise ApprovalError(f"the chair's return of {person}'s copy of conference {reference} is already "
                                "answered; it is back with the chair")
        saved = ReturnAnswer(approval=row.id, conference_reference=reference, person=person, answer=text,
                             answered_by=actor, answered_at=now)
        session.add(saved)
        session.flush()
        append_event(session, at=now, actor=actor, action="return_answered", reference=reference, subject=person,
                     details={"decision": row.id, "answer_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
        return saved
