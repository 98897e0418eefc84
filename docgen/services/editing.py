"""Editing a stored conference one change at a time: apply an edit to a case's data, save it as the
version after the one the edit was made to, and, when someone else saved first, say what they changed.

An edit names what it changes by path (``("family", 1)``, ``("record", "sections", 2, "items")``), the
same paths a case file's problems use (``family[1].email``), so a form can show each problem beside
the field it concerns. :func:`describe_changes` compares two versions' data and says, in the words of
the procedures, what differs ("Family member Karim Haddad: email changed").
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from docgen.adapters.case_store import VersionSummary
from docgen.adapters.casefile.validation import format_path
from docgen.errors import ConflictError, NotFoundError
from docgen.services.audit_trail import record_event
from docgen.services.importing import save_conference, stored_version
from docgen.services.runtime import Runtime

Path = tuple[str | int, ...]

#: Where a case file's marking lives on a node it marks.
MARKING_KEYS = ("confidentiality", "withheld_from", "reason")


@dataclass(frozen=True)
class SetFields:
    """Set fields of the entry at ``at``; a value of None removes the field."""

    at: Path
    values: Mapping[str, object]


@dataclass(frozen=True)
class AddEntry:
    """Add ``entry`` to the list at ``at`` (made if absent), at ``position`` or at the end."""

    at: Path
    entry: Mapping[str, object]
    position: int | None = None


@dataclass(frozen=True)
class RemoveEntry:
    """Remove the entry at ``at`` (its last part is its index in a list)."""

    at: Path


@dataclass(frozen=True)
class MoveEntry:
    """Move the entry at ``at`` ``by`` places in its list (-1 up, 1 down)."""

    at: Path
    by: int


Edit = SetFields | AddEntry | RemoveEntry | MoveEntry


@dataclass(frozen=True)
class Change:
    """One difference between two versions: where (a case-file path) and what, in words."""

    path: str
    text: str


class EditConflict(ConflictError):
    """The edit was made to an older version: someone else saved first, nothing was saved, and
    ``changes`` says what they changed between the two."""

    def __init__(self, message: str, *, based_on: int, newest: VersionSummary, changes: list[Change]) -> None:
        super().__init__(message)
        self.based_on = based_on
        self.newest = newest
        self.changes = changes


def _walk(data: Any, path: Path, *, make: bool = False) -> Any:
    node = data
    for depth, part in enumerate(path):
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                raise NotFoundError(f"{format_path(path[:depth + 1])}: there is no such entry")
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise NotFoundError(f"{format_path(path[:depth + 1])}: there is no such entry")
        if part not in node:
            if not make:
                raise NotFoundError(f"{format_path(path[:depth + 1])}: there is no such entry")
            next_is_index = depth + 1 < len(path) and isinstance(path[depth + 1], int)
            node[part] = [] if next_is_index or depth + 1 == len(path) else {}
        node = node[part]
    return node


def apply_edit(data: Mapping[str, Any], edit: Edit) -> dict[str, Any]:
    """A copy of ``data`` with ``edit`` made; ``data`` is left as it was. NotFoundError when the
    edit names an entry that is not there."""
    changed: dict[str, Any] = copy.deepcopy(dict(data))
    if isinstance(edit, SetFields):
        node = _walk(changed, edit.at)
        if not isinstance(node, dict):
            raise NotFoundError(f"{format_path(edit.at)}: is not an entry with fields")
        for key, value in edit.values.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = copy.deepcopy(value)
    elif isinstance(edit, AddEntry):
        entries = _walk(changed, edit.at, make=True)
        if not isinstance(entries, list):
            raise NotFoundError(f"{format_path(edit.at)}: is not a list")
        position = len(entries) if edit.position is None else max(0, min(edit.position, len(entries)))
        entries.insert(position, copy.deepcopy(dict(edit.entry)))
    else:
        *parent, index = edit.at
        entries = _walk(changed, tuple(parent))
        if not isinstance(index, int) or not isinstance(entries, list) or not 0 <= index < len(entries):
            raise NotFoundError(f"{format_path(edit.at)}: there is no such entry")
        if isinstance(edit, RemoveEntry):
            del entries[index]
        else:
            target = max(0, min(index + edit.by, len(entries) - 1))
            entries.insert(target, entries.pop(index))
    return changed


def added_path(data: Mapping[str, Any], edit: AddEntry) -> Path:
    """Where the entry ``edit`` adds will be once it is added to ``data``."""
    try:
        entries = _walk(data, edit.at)
    except NotFoundError:
        entries = []
    count = len(entries) if isinstance(entries, list) else 0
    position = count if edit.position is None else max(0, min(edit.position, count))
    return (*edit.at, position)


# --- differences between versions -------------------------------------------------------------

_PEOPLE = {"children": "Child", "family": "Family member", "agencies": "Agency", "professionals": "Professional"}
_PLURALS = {"Child": "Children", "Family member": "Family members", "Agency": "Agencies",
            "Professional": "Professionals", "Invitation of": "Invitations"}
_TOP = {"reports": "Reports", "decisions": "Decisions", "plan": "The plan", "discharge": "Discharge",
        "reference": "Reference", "format": "Format"}


def _words(key: str) -> str:
    return "confidentiality marking" if key in MARKING_KEYS else key.replace("_", " ")


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = list(old) + [key for key in new if key not in old]
    found: list[str] = []
    for key in keys:
        if old.get(key) != new.get(key):
            word = _words(key)
            if word not in found:
                found.append(word)
    return found


def _field_changes(path: str, label: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for word in _changed_keys(old, new):
        yield Change(path, f"{label}: {word} changed")


def _names(case: Mapping[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for part in _PEOPLE:
        for entry in case.get(part) or ():
            if isinstance(entry, dict) and "id" in entry:
                names.setdefault(str(entry["id"]), str(entry.get("name") or entry["id"]))
    return names


def _by_key(old: list[Any], new: list[Any], part: str, key: str, label: str,
            names: dict[str, str]) -> Iterator[Change]:
    """Entries matched by their id (people) or invitee (invitations), so an addition does not make
    every later entry look changed."""
    before = {entry.get(key): (index, entry) for index, entry in enumerate(old) if isinstance(entry, dict)}
    after = {entry.get(key): (index, entry) for index, entry in enumerate(new) if isinstance(entry, dict)}
    for ident, (index, entry) in after.items():
        name = names.get(str(ident), str(ident))
        where = f"{part}[{index}]"
        if ident not in before:
            yield Change(where, f"{label} {name} added")
        else:
            yield from _field_changes(where, f"{label} {name}", before[ident][1], entry)
    for ident, (index, _entry) in before.items():
        if ident not in after:
            yield Change(f"{part}[{index}]", f"{label} {names.get(str(ident), str(ident))} removed")
    if [e.get(key) for e in old if isinstance(e, dict) and e.get(key) in after] != \
            [e.get(key) for e in new if isinstance(e, dict) and e.get(key) in before]:
        yield Change(part, f"{_PLURALS.get(label, label)} put in a different order")


def _item_kind(item: Mapping[str, Any]) -> str:
    if "opinion" in item:
        return "opinion"
    if "table" in item:
        return "table"
    return "paragraph"


def _sequence(old: list[Any], new: list[Any], path: str, label: str,
              name: Any, inner: Any) -> Iterator[Change]:
    """Changes between two ordered lists (sections, items, table rows), matched by content: added,
    removed, moved, or changed in place (then ``inner`` says how)."""
    def key(entry: Any) -> str:
        return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)

    old_keys, new_keys = [key(e) for e in old], [key(e) for e in new]
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    removed = [i for tag, i1, i2, _j1, _j2 in matcher.get_opcodes() if tag in ("delete", "replace") for i in range(i1, i2)]
    inserted = [j for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace") for j in range(j1, j2)]
    moved_out: set[int] = set()
    moved_in: set[int] = set()
    for i in removed:
        for j in inserted:
            if j not in moved_in and old_keys[i] == new_keys[j]:
                moved_out.add(i)
                moved_in.add(j)
                yield Change(f"{path}[{j}]", f"{label}{name(old[i], i)} moved to place {j + 1}")
                break
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds = [i for i in range(i1, i2) if i not in moved_out]
        news = [j for j in range(j1, j2) if j not in moved_in]
        while olds and news:  # the same place, changed
            i, j = olds.pop(0), news.pop(0)
            yield from inner(old[i], new[j], f"{path}[{j}]", f"{label}{name(new[j], j)}")
        for j in news:
            yield Change(f"{path}[{j}]", f"{label}{name(new[j], j)} added")
        for i in olds:
            yield Change(f"{path}[{i}]", f"{label}{name(old[i], i)} removed")


def _fields_inner(old: Any, new: Any, path: str, label: str) -> Iterator[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        yield from _field_changes(path, label, old, new)
    else:
        yield Change(path, f"{label} changed")


def _item_inner(old: Any, new: Any, path: str, label: str) -> Iterator[Change]:
    if isinstance(old, dict) and isinstance(new, dict) and "table" in old and "table" in new:
        old_table, new_table = old["table"], new["table"]
        if old_table.get("columns") != new_table.get("columns"):
            yield Change(f"{path}.table.columns", f"{label}: columns changed")
        yield from _sequence(old_table.get("rows") or [], new_table.get("rows") or [], f"{path}.table.rows",
                             f"{label}, ", lambda _row, j: f"row {j + 1}", _fields_inner)
        others = {k: v for k, v in old.items() if k != "table"}, {k: v for k, v in new.items() if k != "table"}
        yield from _field_changes(path, label, *others)
    elif isinstance(old, dict) and isinstance(new, dict) and _item_kind(old) == _item_kind(new):
        flat_old = {**old, **(old.get("opinion") or {})}
        flat_new = {**new, **(new.get("opinion") or {})}
        flat_old.pop("opinion", None)
        flat_new.pop("opinion", None)
        yield from _field_changes(path, label, flat_old, flat_new)
    else:
        yield Change(path, f"{label} replaced")


def _section_inner(old: Any, new: Any, path: str, label: str) -> Iterator[Change]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        yield Change(path, f"{label} changed")
        return
    yield from _field_changes(path, label, {k: v for k, v in old.items() if k != "items"},
                              {k: v for k, v in new.items() if k != "items"})
    yield from _sequence(old.get("items") or [], new.get("items") or [], f"{path}.items", f"{label}, ",
                         lambda item, j: f"{_item_kind(item)} {j + 1}", _item_inner)


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What differs between two versions' data, in the order of the case file, each with its path."""
    changes: list[Change] = []
    names = {**_names(old), **_names(new)}
    old_conference, new_conference = old.get("conference") or {}, new.get("conference") or {}
    changes += _field_changes("conference", "Conference details", old_conference, new_conference)
    for part, label in _PEOPLE.items():
        changes += _by_key(list(old.get(part) or []), list(new.get(part) or []), part, "id", label, names)
    changes += _by_key(list(old.get("invitations") or []), list(new.get("invitations") or []), "invitations",
                       "invitee", "Invitation of", names)
    old_record, new_record = old.get("record") or {}, new.get("record") or {}
    changes += _sequence(list(old_record.get("sections") or []), list(new_record.get("sections") or []),
                         "record.sections", "Record, ", lambda _s, j: f"section {j + 1}", _section_inner)
    for key in list(old) + [k for k in new if k not in old]:
        if key in ("conference", "record", "invitations", *_PEOPLE):
            continue
        if old.get(key) != new.get(key):
            changes.append(Change(key, f"{_TOP.get(key, key.replace('_', ' ').capitalize())} changed"))
    return changes


# --- saving -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Saved:
    """An edit saved: the new version, and what it changed."""

    version: VersionSummary
    changes: list[Change] = field(default_factory=list)


def save_edit(runtime: Runtime, reference: str, edit: Edit, *, based_on: int, actor: str) -> Saved:
    """Make ``edit`` to version ``based_on`` of the conference and save it as the next version,
    saved by ``actor``, with an audit entry naming the paths changed (never the content).

    CaseFileError lists every problem with its path and nothing is saved. EditConflict when someone
    saved after ``based_on``: nothing is saved, and it says what they changed."""
    base = stored_version(runtime, reference, based_on)
    data = apply_edit(base.case, edit)
    try:
        saved = save_conference(runtime, data, based_on=based_on, saved_by=actor, source="The change")
    except ConflictError as error:
        newest = stored_version(runtime, reference)
        raise EditConflict(str(error), based_on=based_on, newest=newest,
                           changes=describe_changes(base.case, newest.case)) from None
    changes = describe_changes(base.case, stored_version(runtime, reference, saved.version).case)
    record_event(runtime, "conference_edited", actor=actor, reference=reference,
                 details={"version": saved.version, "based_on": based_on,
                          "paths": sorted({change.path for change in changes})})
    return Saved(saved, changes)
