"""The conference list business support works from: every conference with its circulation windows,
each window's state in words (on track, due soon, overdue, done), filtered by state, date and chair.

Two queries whatever the number of conferences: the conferences with their chairs, and the outbox
grouped by conference and circulation rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from docgen.adapters.database import unit_of_work
from docgen.adapters.orm import Conference, Professional
from docgen.adapters.orm_outbox import OutboxItemRow
from docgen.domain.outbox import NOTICE_RULE
from docgen.services.runtime import Runtime

#: A window whose deadline is this close, with something still to send, is due soon.
DUE_SOON = timedelta(days=2)


class WindowState(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due soon"
    ON_TRACK = "on track"
    DONE = "done"
    NOT_SCHEDULED = "not scheduled"

    @property
    def rank(self) -> int:
        """Worst first: what a list sorted by state shows at the top."""
        return list(WindowState).index(self)


@dataclass(frozen=True)
class Window:
    """One circulation rule's items for one conference."""

    rule: str
    deadline: datetime | None  # the earliest deadline among the items not yet sent
    items: int
    sent: int
    held: int  # waiting for approval, or failed: cannot go out by themselves
    state: WindowState


@dataclass(frozen=True)
class ConferenceSummary:
    reference: str
    kind: str
    starts_at: datetime
    chair: str
    chair_name: str
    content_version: int
    windows: tuple[Window, ...] = field(default_factory=tuple)

    @property
    def state(self) -> WindowState:
        if not self.windows:
            return WindowState.NOT_SCHEDULED
        return min((w.state for w in self.windows), key=lambda s: s.rank)


@dataclass(frozen=True)
class BoardFilter:
    state: WindowState | None = None
    starts_from: date | None = None
    starts_to: date | None = None
    chair: str | None = None


def window_state(deadline: datetime | None, items: int, sent: int, now: datetime) -> WindowState:
    if items == 0 or sent >= items:
        return WindowState.DONE
    if deadline is None:
        return WindowState.ON_TRACK
    if now > deadline:
        return WindowState.OVERDUE
    if deadline - now <= DUE_SOON:
        return WindowState.DUE_SOON
    return WindowState.ON_TRACK


@dataclass(frozen=True)
class BoardPage:
    """One page of the list, and how many conferences match in all."""

    conferences: list[ConferenceSummary]
    total: int
    page: int
    pages: int


PER_PAGE = 50


def conference_board(runtime: Runtime, *, only_chair: str | None = None, wanted: BoardFilter = BoardFilter(),
                     page: int = 1, per_page: int = PER_PAGE) -> BoardPage:
    """Conferences, soonest first, with their windows, a page at a time; ``only_chair`` limits them to
    one chair's. The windows are read for the page's conferences only, unless the list is filtered by
    state, which needs every conference's windows to know which match."""
    now = runtime.clock()
    query = (select(Conference.reference, Conference.kind, Conference.starts_at, Conference.content_version,
                    Professional.key, Professional.name)
             .join(Professional, Conference.chair_id == Professional.id).order_by(Conference.starts_at, Conference.id))
    chair = only_chair or wanted.chair
    if chair:
        query = query.where(Professional.key == chair)
    if wanted.starts_from:
        query = query.where(Conference.starts_at >= datetime.combine(wanted.starts_from, datetime.min.time()))
    if wanted.starts_to:
        query = query.where(Conference.starts_at < datetime.combine(wanted.starts_to + timedelta(days=1),
                                                                     datetime.min.time()))
    with unit_of_work(runtime.sessions) as session:
        rows = session.execute(query).all()
        if wanted.state is None:
            total = len(rows)
            page = max(1, min(page, -(-total // per_page) or 1))
            rows = rows[(page - 1) * per_page: page * per_page]
            summaries = _summaries(session, rows, now)
        else:
            states = _conference_states(session, now)
            rows = [row for row in rows if states.get(row[0], WindowState.NOT_SCHEDULED) is wanted.state]
            total = len(rows)
            page = max(1, min(page, -(-total // per_page) or 1))
            summaries = _summaries(session, rows[(page - 1) * per_page: page * per_page], now)
    return BoardPage(summaries, total, page, max(1, -(-total // per_page)))


def conference_summary(runtime: Runtime, reference: str) -> ConferenceSummary | None:
    """One conference's line of the list, or None if there is no such conference."""
    query = (select(Conference.reference, Conference.kind, Conference.starts_at, Conference.content_version,
                    Professional.key, Professional.name)
             .join(Professional, Conference.chair_id == Professional.id).where(Conference.reference == reference))
    with unit_of_work(runtime.sessions) as session:
        summaries = _summaries(session, session.execute(query).all(), runtime.clock())
    return summaries[0] if summaries else None


def _conference_states(session: Session, now: datetime) -> dict[str, WindowState]:
    """Every conference's state in one grouped query: the worst of its windows is decided by its
    earliest deadline among the items not yet sent, and whether everything was sent."""
    not_sent = OutboxItemRow.state != "sent"
    rows = session.execute(
        select(OutboxItemRow.conference_reference, func.min(case((not_sent, OutboxItemRow.deadline))), func.count(),
               func.sum(case((OutboxItemRow.state == "sent", 1), else_=0)))
        .where(OutboxItemRow.state != "cancelled", OutboxItemRow.rule != NOTICE_RULE)
        .group_by(OutboxItemRow.conference_reference)).all()
    return {reference: window_state(_utc(deadline), items, sent or 0, now) for reference, deadline, items, sent in rows}


def _utc(deadline: Any) -> datetime | None:
    if isinstance(deadline, str):  # an aggregate over a UTC column comes back as text on SQLite
        deadline = datetime.fromisoformat(deadline)
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)  # naive UTC, as the outbox stores it
    return deadline  # type: ignore[no-any-return]


def _summaries(session: Session, rows: Sequence[Any], now: datetime) -> list[ConferenceSummary]:
    if not rows:
        return []
    references = [row[0] for row in rows]
    not_sent = OutboxItemRow.state != "sent"
    window_rows: list[Any] = []
    for start in range(0, len(references), 500):  # bound the IN list
        window_rows += session.execute(
            select(OutboxItemRow.conference_reference, OutboxItemRow.rule,
                   func.min(case((not_sent, OutboxItemRow.deadline))),
                   func.count(), func.sum(case((OutboxItemRow.state == "sent", 1), else_=0)),
                   func.sum(case((OutboxItemRow.state.in_(("waiting_for_approval", "failed")), 1), else_=0)))
            .where(OutboxItemRow.state != "cancelled", OutboxItemRow.rule != NOTICE_RULE,
                   OutboxItemRow.conference_reference.in_(references[start:start + 500]))
            .group_by(OutboxItemRow.conference_reference, OutboxItemRow.rule)).all()
    windows: dict[str, list[Window]] = defaultdict(list)
    for reference, rule, deadline, items, sent, held in window_rows:
        deadline = _utc(deadline)
        windows[reference].append(Window(rule, deadline, items, sent or 0, held or 0,
                                         window_state(deadline, items, sent or 0, now)))
    return [ConferenceSummary(reference, kind, starts_at, chair_key, chair_name, version,
                              tuple(sorted(windows.get(reference, ()), key=lambda w: (w.deadline is None, w.deadline or now))))
            for reference, kind, starts_at, version, chair_key, chair_name in rows]
