"""The conference list: each window's state in words, the conference's state the worst of its windows,
the state filter agreeing with what each line shows, and pages of 50."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from docgen.adapters.case_store import save_case
from docgen.adapters.casefile import ValidatedCase
from docgen.adapters.database import unit_of_work
from docgen.adapters.orm_outbox import OutboxItemRow, item_values
from docgen.services.board import BoardFilter, WindowState, conference_board, window_state

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

STATES = [
    ("nothing left to send", NOW - timedelta(days=1), 3, 3, WindowState.DONE),
    ("a deadline passed with items unsent", NOW - timedelta(minutes=1), 3, 1, WindowState.OVERDUE),
    ("a deadline within two days", NOW + timedelta(days=1, hours=23), 2, 0, WindowState.DUE_SOON),
    ("a deadline further off", NOW + timedelta(days=2, minutes=1), 2, 0, WindowState.ON_TRACK),
    ("no deadline (the record, before the conference)", None, 1, 0, WindowState.ON_TRACK),
    ("no items", None, 0, 0, WindowState.DONE),
]


@pytest.mark.parametrize(("deadline", "items", "sent", "expected"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
def test_window_state(deadline: datetime | None, items: int, sent: int, expected: WindowState) -> None:
    assert window_state(deadline, items, sent, NOW) is expected


def _conference(runtime, example_case, reference: str, windows: list[tuple[str, timedelta, int, int]]) -> None:
    case = copy.deepcopy(dict(example_case))
    case["reference"] = reference
    rows = []
    for rule, offset, items, sent in windows:
        for n in range(items):
            values = item_values(conference=reference, rule=rule, document="conference_record", copy=f"c{n}",
                                 recipient=f"r{n}", recipient_name="R", recipient_address="r@example.org",
                                 envelope_from="cp@example.org", now=NOW - timedelta(days=9), deadline=NOW + offset)
            values["sent_at"] = NOW - timedelta(days=1) if n < sent else None
            if n < sent:
                values.update(state="sent", due_at=None)
            rows.append(values)
    with unit_of_work(runtime.sessions) as session:
        save_case(session, ValidatedCase(case), saved_by="tests", now=NOW.replace(tzinfo=None))
    if rows:
        with runtime.engine.begin() as connection:
            connection.execute(insert(OutboxItemRow), rows)


def test_the_state_filter_agrees_with_each_conference_s_windows(runtime, example_case) -> None:
    runtime = dataclasses.replace(runtime, clock=lambda: NOW)
    _conference(runtime, example_case, "A-OVERDUE", [("r1", timedelta(days=5), 2, 0), ("r2", timedelta(hours=-1), 2, 1)])
    _conference(runtime, example_case, "B-SOON", [("r1", timedelta(days=1), 2, 1), ("r2", timedelta(days=9), 1, 0)])
    _conference(runtime, example_case, "C-TRACK", [("r1", timedelta(days=9), 2, 0)])
    _conference(runtime, example_case, "D-DONE", [("r1", timedelta(days=-9), 2, 2)])
    _conference(runtime, example_case, "E-NONE", [])
    every = conference_board(runtime).conferences
    assert {c.reference: c.state for c in every} == {
        "A-OVERDUE": WindowState.OVERDUE, "B-SOON": WindowState.DUE_SOON, "C-TRACK": WindowState.ON_TRACK,
        "D-DONE": WindowState.DONE, "E-NONE": WindowState.NOT_SCHEDULED}
    overdue = next(c for c in every if c.reference == "A-OVERDUE")
    assert [(w.rule, w.state, w.sent, w.items) for w in overdue.windows] == [
        ("r2", WindowState.OVERDUE, 1, 2), ("r1", WindowState.ON_TRACK, 0, 2)]
    for state in WindowState:
        shown = conference_board(runtime, wanted=BoardFilter(state=state)).conferences
        assert [c.reference for c in shown] == [c.reference for c in every if c.state is state], state


def test_the_list_comes_in_pages(runtime, example_case) -> None:
    for n in range(7):
        _conference(runtime, example_case, f"REF-{n}", [])
    first = conference_board(runtime, per_page=3)
    assert (first.total, first.pages, len(first.conferences)) == (7, 3, 3)
    last = conference_board(runtime, per_page=3, page=99)
    assert (last.page, [c.reference for c in last.conferences]) == (3, ["REF-6"])
