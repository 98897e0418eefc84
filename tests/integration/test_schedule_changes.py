"""Scheduling again never moves a stored window silently: the service refuses with the list of
changes, a dry run returns the same list, and `docgen schedule` needs --accept-changes."""

from __future__ import annotations

import copy
import json

import pytest

from docgen.adapters.database import unit_of_work
from docgen.adapters.outbox_store.sqlalchemy import SQLAlchemyOutboxStore
from docgen.configuration.circulation import load_rules
from docgen.configuration.folder import DEFAULT_CONFIG_DIR
from docgen.entrypoints.cli import main
from docgen.services.importing import import_case_file, save_conference, stored_case
from docgen.services.runtime import Runtime
from docgen.services.scheduling import conference_items, schedule_changes, schedule_conference
from docgen.services.window_changes import WindowChangesNeedConfirmation
from tests.conftest import EXAMPLE

RULES = load_rules(DEFAULT_CONFIG_DIR / "circulation.toml")


def _windows(runtime: Runtime, reference: str) -> dict[int, tuple[object, object]]:
    return {i.id: (i.not_before, i.deadline) for i in conference_items(SQLAlchemyOutboxStore(runtime.sessions), reference)}


def _schedule(runtime: Runtime, reference: str, **options: object):  # type: ignore[no-untyped-def]
    with unit_of_work(runtime.sessions) as session:
        return schedule_conference(session, stored_case(runtime, reference), RULES, now=runtime.clock(),
                                   envelope_from=runtime.settings.authority.email, **options)  # type: ignore[arg-type]


def _bring_forward(runtime: Runtime, reference: str) -> None:
    """The conference moves a day earlier: every deadline tied to its start moves with it."""
    moved = copy.deepcopy(stored_case(runtime, reference))
    moved["conference"].update(starts_at="2026-11-18T10:00:00", ends_at="2026-11-18T12:30:00")
    save_conference(runtime, moved, based_on=1, saved_by="tests", source="tests")


@pytest.fixture
def scheduled(runtime: Runtime) -> str:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="tests")
    _schedule(runtime, reference)
    return reference


def test_the_same_plan_again_moves_nothing_and_asks_nothing(runtime: Runtime, scheduled: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        assert schedule_changes(session, stored_case(runtime, scheduled), RULES, now=runtime.clock(),
                                envelope_from=runtime.settings.authority.email) == ()
    assert _schedule(runtime, scheduled).moved == ()


def test_a_moved_window_is_refused_listed_and_moved_only_when_accepted(runtime: Runtime, scheduled: str) -> None:
    before = _windows(runtime, scheduled)
    _bring_forward(runtime, scheduled)
    with unit_of_work(runtime.sessions) as session:
        dry = schedule_changes(session, stored_case(runtime, scheduled), RULES, now=runtime.clock(),
                               envelope_from=runtime.settings.authority.email)
    assert dry and _windows(runtime, scheduled) == before  # a dry run writes nothing
    with pytest.raises(WindowChangesNeedConfirmation) as refused:
        _schedule(runtime, scheduled)
    assert refused.value.changes == dry
    assert _windows(runtime, scheduled) == before  # refused: nothing written
    invitation = next(c for c in dry if c.copy.startswith("professional_invitation"))
    assert (invitation.old_deadline, invitation.new_deadline) == (before[invitation.item_id][1], invitation.new_deadline)
    assert invitation.new_deadline is not None and invitation.old_deadline is not None
    assert invitation.new_deadline < invitation.old_deadline
    text = str(refused.value)
    assert f"item {invitation.item_id} (" in text and "Thu 19 Nov 2026 10:00 -> Wed 18 Nov 2026 10:00" in text
    assert "--accept-changes" in text and "Nothing was changed" in text

    with pytest.raises(WindowChangesNeedConfirmation, match="no longer the ones confirmed"):
        _schedule(runtime, scheduled, confirmed="0" * 32)  # a confirmation of another list
    result = _schedule(runtime, scheduled, confirmed=refused.value.digest)
    assert result.moved == dry
    after = _windows(runtime, scheduled)
    assert {c.item_id for c in dry} == {item for item in before if before[item] != after[item]}
    assert after[invitation.item_id][1] == invitation.new_deadline


def _cli(database_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(["--database", database_url, *argv])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_docgen_schedule_lists_what_would_move_and_needs_accept_changes(
        runtime: Runtime, database_url: str, scheduled: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _windows(runtime, scheduled)
    _bring_forward(runtime, scheduled)
    code, _, err = _cli(database_url, "schedule", scheduled, capsys=capsys)
    assert code == 3 and "would move" in err and "deadline Thu 19 Nov 2026 10:00 -> Wed 18 Nov 2026 10:00" in err
    assert "Traceback" not in err and _windows(runtime, scheduled) == before
    code, out, _ = _cli(database_url, "schedule", scheduled, "--json", capsys=capsys)
    listed = json.loads(out)
    assert code == 3 and listed["changes"] and all(set(c) == {"item", "rule", "copy", "recipient", "old", "new"}
                                                   for c in listed["changes"])
    assert _windows(runtime, scheduled) == before
    code, out, err = _cli(database_url, "schedule", scheduled, "--accept-changes", capsys=capsys)
    assert code == 0, err
    assert out.count("moved (accepted): item ") == len(listed["changes"])
    assert _windows(runtime, scheduled) != before
    code, out, err = _cli(database_url, "schedule", scheduled, capsys=capsys)  # nothing more to move
    assert code == 0 and "moved" not in out, err
