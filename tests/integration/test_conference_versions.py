"""How a conference is stored: validated once where it enters, kept as versions with who saved each
and when, given back exactly as validated, and never overwritten by a save made to an older
version; on every backend (SQLite always, PostgreSQL when a URL is given)."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from bench.synthetic import conference
from docgen.adapters import case_store
from docgen.adapters.case_rows import read_rows, write_rows
from docgen.adapters.case_store import content_hash, load_case, load_version, save_case
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.database import MIGRATIONS, is_current, make_engine, migrate, unit_of_work
from docgen.adapters.orm import ConferenceVersion, ContentItem, Professional
from docgen.errors import ApprovalError, CaseFileError, ConflictError, NotFoundError, StoredContentError
from docgen.services import approval
from docgen.services.importing import (
    conference_history,
    content_version,
    import_case_file,
    save_conference,
    stored_case,
    stored_version,
)
from docgen.services.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE = ROOT / "examples" / "haddad-wisniewska.yaml"
REFERENCE = "NM-ICPC-2026-0147"
SAVED_AT = datetime(2026, 11, 20, 9, 0)  # the runtime fixture's clock, as local time


def _ordered(case: Any) -> str:
    """The case as JSON with its keys in the order they are in, so that order counts too."""
    return json.dumps(case, ensure_ascii=False)


def _edited(case: dict[str, Any], words: str) -> dict[str, Any]:
    edited = copy.deepcopy(case)
    edited["record"]["sections"][0]["items"][0]["text"] += f" {words}"
    return edited


# -- what comes back is exactly what was validated -------------------------------------------------

def test_every_case_comes_back_exactly_as_validated(runtime: Runtime) -> None:
    """Both example case files and the synthetic S, M and L conferences, stored in one database (so
    that they share professionals and agencies): each comes back equal to what validate_case returned,
    keys in the same order, with every agency and professional of its file, not only those it mentions."""
    validated = {}
    for path in EXAMPLES:
        validated[import_case_file(runtime, path, actor="business-support")[0]] = \
            validate_case(load_case_file(path), source=str(path))
    for size in ("S", "M", "L"):
        case = conference(size, seed=0)
        with unit_of_work(runtime.sessions) as session:
            save_case(session, case, saved_by="business-support", now=SAVED_AT)
        validated[case["reference"]] = case
    assert len(validated) == 5
    for reference, case in validated.items():
        back = stored_case(runtime, reference)
        assert back == case, reference
        assert _ordered(back) == _ordered(case), reference


def test_what_is_stored_is_not_validated_again(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")

    def validated_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored conference was validated again")

    monkeypatch.setattr(jsonschema.Draft202012Validator, "iter_errors", validated_again)
    assert stored_case(runtime, reference)["reference"] == reference
    with unit_of_work(runtime.sessions) as session:
        assert approval.current_content(session, reference).version == 1
    assert approval.approved_reports(runtime, reference) == frozenset()
    with pytest.raises(ApprovalError, match="the chair has not approved it"):
        approval.check_approval(runtime, reference, "zofia", "0" * 64, 1)


def test_a_case_changed_by_its_reader_does_not_change_what_is_stored(runtime: Runtime) -> None:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    with unit_of_work(runtime.sessions) as session:
        load_case(session, reference)["children"].clear()
        assert load_case(session, reference)["children"]


def test_the_rows_follow_the_newest_version_but_documents_are_made_from_the_version(runtime: Runtime) -> None:
    reference, _ = import_case_file(runtime, EXAMPLE, actor="business-support")
    save_conference(runtime, _edited(stored_case(runtime, reference), "Added later."), based_on=1,
                    saved_by="minute-taker", source="edit")
    with unit_of_work(runtime.sessions) as session:
        assert case_store.find_conference(session, reference).content_version == 2
        assert read_rows(session, reference)["record"] == load_case(session, reference)["record"]
        item = session.scalars(select(ContentItem).where(ContentItem.body.like("%Added later.%"))).one()
        item.body = "Changed in the rows only."
    assert stored_case(runtime, reference)["record"]["sections"][0]["items"][0]["text"].endswith("Added later.")


# -- versions: who saved each, and when ------------------------------------------------------------

def test_each_save_is_a_new_version_with_who_and_when(runtime: Runtime, example_case: dict[str, Any],
                                                      tmp_path: Path) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    changed = tmp_path / "changed.yaml"
    changed.write_text(EXAMPLE.read_text(encoding="utf-8").replace("help with housing", "help with schooling"),
                       encoding="utf-8")
    assert import_case_file(runtime, changed, actor="bs-officer-2", replace=True) == (REFERENCE, 2)
    saved = save_conference(runtime, _edited(stored_case(runtime, REFERENCE), "Corrected."), based_on=2,
                            saved_by="minute-taker", source="edit of the record")
    assert (saved.version, saved.saved_by, saved.source_sha256) == (3, "minute-taker", None)

    history = conference_history(runtime, REFERENCE)
    assert [(v.version, v.saved_by, v.saved_at) for v in history] == [
        (1, "business-support", SAVED_AT), (2, "bs-officer-2", SAVED_AT), (3, "minute-taker", SAVED_AT)]
    assert history[0].source_sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert history[1].source_sha256 == hashlib.sha256(changed.read_bytes()).hexdigest()
    assert content_version(runtime, REFERENCE) == 3
    # Every version is kept whole: the first is still the example as validated.
    first = stored_version(runtime, REFERENCE, 1)
    assert first.case == example_case and first.sha256 == content_hash(example_case)
    assert "help with schooling" in _ordered(stored_version(runtime, REFERENCE, 2).case)
    assert stored_version(runtime, REFERENCE).version == 3
    with pytest.raises(NotFoundError, match="has no version 4"):
        stored_version(runtime, REFERENCE, 4)
    with pytest.raises(NotFoundError, match="no conference with the reference 'NM-NONE'"):
        conference_history(runtime, "NM-NONE")


def test_an_edit_is_validated_where_it_enters_and_a_bad_one_saves_nothing(runtime: Runtime) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    bad = stored_case(runtime, REFERENCE)
    bad["children"][1]["date_of_birth"] = "2023-02-30"
    with pytest.raises(CaseFileError, match=r"(?s)web form: 1 problem found.*children\[1\]\.date_of_birth"):
        save_conference(runtime, bad, based_on=1, saved_by="minute-taker", source="web form")
    assert [v.version for v in conference_history(runtime, REFERENCE)] == [1]


# -- two people editing at once --------------------------------------------------------------------

def test_a_save_made_to_an_older_version_is_refused_and_overwrites_nothing(runtime: Runtime) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    base = stored_version(runtime, REFERENCE)
    save_conference(runtime, _edited(base.case, "First editor's words."), based_on=base.version,
                    saved_by="minute-taker", source="edit")
    with pytest.raises(ConflictError, match=f"conference {REFERENCE} is at version 2, saved by minute-taker after "
                                            "version 1, which this change was made to; nothing was saved"):
        save_conference(runtime, _edited(base.case, "Second editor's words."), based_on=base.version,
                        saved_by="chair", source="edit")
    assert [v.saved_by for v in conference_history(runtime, REFERENCE)] == ["business-support", "minute-taker"]
    assert "First editor's words." in _ordered(stored_case(runtime, REFERENCE))
    # Made again to the newest version, it is saved.
    newest = stored_version(runtime, REFERENCE)
    assert save_conference(runtime, _edited(newest.case, "Second editor's words."), based_on=newest.version,
                           saved_by="chair", source="edit").version == 3


def test_a_new_conference_is_not_saved_over_one_already_stored(runtime: Runtime, example_case: dict[str, Any]) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    with pytest.raises(CaseFileError, match="already imported"):
        save_conference(runtime, example_case, based_on=None, saved_by="minute-taker", source="web form")
    with pytest.raises(NotFoundError, match="no conference with the reference 'NM-ICPC-2026-9999'"):
        save_conference(runtime, {**example_case, "reference": "NM-ICPC-2026-9999"}, based_on=1,
                        saved_by="minute-taker", source="web form")


def test_two_saves_made_at_the_same_moment_to_the_same_version_keep_one(runtime: Runtime,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Both saves read version 1 as the newest before either writes: the database's unique
    (reference, version) refuses the second, which is told so and saves nothing at all."""
    import_case_file(runtime, EXAMPLE, actor="business-support")
    base = stored_case(runtime, REFERENCE)
    both_have_read = threading.Barrier(2, timeout=60)
    newest_version = case_store.newest_version

    def read_then_wait(session: Any, reference: str) -> int | None:
        found = newest_version(session, reference)
        both_have_read.wait()
        return found

    monkeypatch.setattr(case_store, "newest_version", read_then_wait)
    outcomes: dict[str, object] = {}

    def save(editor: str) -> None:
        try:
            outcomes[editor] = save_conference(runtime, _edited(base, f"Words of {editor}."), based_on=1,
                                               saved_by=editor, source="edit")
        except Exception as exc:  # noqa: BLE001 - the test looks at what each save ended with
            outcomes[editor] = exc

    threads = [threading.Thread(target=save, args=(editor,)) for editor in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    refused = {editor: outcome for editor, outcome in outcomes.items() if isinstance(outcome, ConflictError)}
    saved = {editor: outcome for editor, outcome in outcomes.items() if editor not in refused}
    assert len(refused) == 1 and len(saved) == 1, outcomes
    assert "nothing was saved" in str(next(iter(refused.values())))
    (winner, summary), = saved.items()
    assert getattr(summary, "version", None) == 2
    monkeypatch.undo()
    assert [(v.version, v.saved_by) for v in conference_history(runtime, REFERENCE)] == [(1, "business-support"),
                                                                                       (2, winner)]
    assert stored_case(runtime, REFERENCE) == _edited(base, f"Words of {winner}.")
    with unit_of_work(runtime.sessions) as session:
        assert case_store.find_conference(session, REFERENCE).content_version == 2


# -- approvals bind the version and its content --------------------------------------------------------

@pytest.mark.parametrize("change", [
    pytest.param(lambda c: c["record"]["sections"][0]["items"][0].__setitem__("text", "Rewritten."), id="record"),
    pytest.param(lambda c: c["professionals"][0].__setitem__("phone", "01632 960999"), id="elsewhere"),
])
def test_an_approval_lapses_with_a_new_version(runtime: Runtime, change: Any) -> None:
    """As with import --replace: any new version needs the chair's approval again; the approval is
    written as the approval service would, without rendering the copy."""
    import_case_file(runtime, EXAMPLE, actor="business-support")
    content = _approve_without_rendering(runtime, "zofia", copy_sha256="ab" * 32)
    approval.check_approval(runtime, REFERENCE, "zofia", "ab" * 32, content.version)
    edited = copy.deepcopy(content.case)
    change(edited)
    save_conference(runtime, edited, based_on=content.version, saved_by="minute-taker", source="edit")
    with pytest.raises(ApprovalError, match="made from content version 1, but the conference is now at version 2"):
        approval.check_approval(runtime, REFERENCE, "zofia", "ab" * 32, 1)
    with pytest.raises(ApprovalError, match=r"approved content version 1, now 2"):
        approval.check_approval(runtime, REFERENCE, "zofia", "ab" * 32, 2)


def _approve_without_rendering(runtime: Runtime, person: str, *, copy_sha256: str) -> approval.Content:
    from docgen.adapters.orm_governance import Approval, append_event

    with unit_of_work(runtime.sessions) as session:
        content = approval.current_content(session, REFERENCE)
        row = Approval(conference_reference=REFERENCE, person=person, document=approval.RECORD, decision="approved",
                       chair=content.chair, decided_at=SAVED_AT, content_version=content.version,
                       content_sha256=content.sha256,
                       view_sha256=approval.view_hash(content.case, approval.reader(content.case, person)),
                       copy_sha256=copy_sha256, copy_format="pdf", generated_on=SAVED_AT.date())
        session.add(row)
        session.flush()
        append_event(session, at=runtime.clock(), actor=content.chair, action="approved", reference=REFERENCE,
                     subject=person, details=approval._approval_details(row))
    return content


# -- the versions cannot be rewritten ----------------------------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE conference_versions SET saved_by = 'someone-else'",
                                       "DELETE FROM conference_versions"], ids=["update", "delete"])
def test_the_database_refuses_to_change_or_delete_a_version(runtime: Runtime, statement: str) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
        connection.exec_driver_sql(statement)
    if runtime.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE conference_versions")
    assert [v.saved_by for v in conference_history(runtime, REFERENCE)] == ["business-support"]


def test_content_changed_outside_docgen_is_refused_when_read(runtime: Runtime) -> None:
    import_case_file(runtime, EXAMPLE, actor="business-support")
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER conference_versions_no_update")
        else:
            connection.exec_driver_sql("ALTER TABLE conference_versions DISABLE TRIGGER USER")
    with unit_of_work(runtime.sessions) as session:
        stored = session.scalars(select(ConferenceVersion)).one()
        stored.content = _edited(stored.content, "Slipped in.")
    with pytest.raises(StoredContentError, match=f"version 1 of conference {REFERENCE} in the database is not what "
                                                 "was saved"):
        stored_case(runtime, REFERENCE)
    with pytest.raises(StoredContentError):
        approval.check_approval(runtime, REFERENCE, "zofia", "0" * 64, 1)


# -- the migration carries existing conferences over -------------------------------------------------

def _upgrade(engine: Any, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_the_migration_carries_each_conference_over_as_its_current_version(database_url: str,
                                                                          example_case: dict[str, Any]) -> None:
    """A database as it was before versions (0002, 0003 and 0004 applied, the conference in its rows
    only, at content version 3 after two imports with --replace): 0005 makes that its version 3,
    with the same content and SHA-256 docgen read before, so approvals given on it still apply."""
    engine = make_engine(database_url)
    try:
        for revision in ("0002", "0003", "0004"):
            _upgrade(engine, revision)
        assert not is_current(engine)
        with engine.connect() as connection:
            assert "conference_versions" not in {row[0] for row in connection.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                if connection.dialect.name == "postgresql" else "SELECT name FROM sqlite_master WHERE type = 'table'"))}
        sessions = sessionmaker(engine)
        with unit_of_work(sessions) as session:
            write_rows(session, example_case, version=3, source_sha256="f" * 64, now=datetime(2026, 11, 2, 14, 30))
        with unit_of_work(sessions) as session:
            read_before = validate_case(read_rows(session, REFERENCE), source="before")
        migrate(engine)
        assert is_current(engine)
        with unit_of_work(sessions) as session:
            carried = load_version(session, REFERENCE)
            assert (carried.version, carried.saved_at, carried.source_sha256) == (3, datetime(2026, 11, 2, 14, 30), "f" * 64)
            assert carried.saved_by.startswith("docgen 0005")
            assert carried.case == read_before and carried.sha256 == content_hash(read_before)
            # The next save follows it.
            assert save_case(session, example_case, saved_by="business-support", now=SAVED_AT, replace=True).version == 4
            assert session.scalar(select(Professional.name).where(Professional.key == "david-pryce"))
    finally:
        engine.dispose()
