"""Which family copies wait for the chair: for each family member or child the pack makes family
copies for, whether the chair's latest decision approves the conference's current content. Read
only: nothing is recorded (the release check in ``approval`` records lapsed approvals itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_governance import Approval
from docgen.domain.documents import plan_copies
from docgen.services.approval import current_content
from docgen.services.runtime import Runtime

#: What a person's family copies wait for, in words a page shows beside them.
STATES = {
    "approved": "Approved by the chair",
    "waiting": "Waiting for the chair",
    "returned": "Returned by the chair for changes",
    "out_of_date": "Approved an earlier version: waiting for the chair again",
}


@dataclass(frozen=True)
class ChairDecision:
    """Where one family member's or child's family copies stand with the chair."""

    person: str
    name: str
    audience: str  # family member, child, or legal representative's copy
    state: str  # a key of STATES
    decided_at: datetime | None
    decided_version: int | None

    @property
    def waiting(self) -> bool:
        return self.state != "approved"

    @property
    def words(self) -> str:
        return STATES[self.state]


def chair_decisions(runtime: Runtime, reference: str) -> tuple[int, list[ChairDecision]]:
    """The conference's current content version, and for each person with family copies in its pack
    the chair's latest decision on them as it bears on that version."""
    with unit_of_work(runtime.sessions) as session:
        content = current_content(session, reference)
        rows = session.scalars(select(Approval).where(Approval.conference_reference == reference).order_by(Approval.id))
        latest = {row.person: row for row in rows}
    people: dict[str, tuple[str, str]] = {}
    for copy_spec in plan_copies(content.case):
        audience = copy_spec.audience
        if audience.is_family_copy and audience.person is not None and audience.person not in people:
            people[audience.person] = (audience.name, audience.kind.replace("_", " "))
    decisions = []
    for person, (name, kind) in people.items():
        row = latest.get(person)
        if row is None:
            state = "waiting"
        elif row.decision == "returned":
            state = "returned"
        elif (row.content_version, row.content_sha256) == (content.version, content.sha256):
            state = "approved"
        else:
            state = "out_of_date"
        decisions.append(ChairDecision(person, name, kind, state, row.decided_at if row else None,
                                       row.content_version if row else None))
    return content.version, decisions
