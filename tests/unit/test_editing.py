"""Editing a case's data by path, and describing the differences between two versions in words."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docgen.entrypoints.web.conferences import edit_forms as forms
from docgen.errors import NotFoundError
from docgen.services.editing import (
    AddEntry,
    Edit,
    MoveEntry,
    RemoveEntry,
    SetFields,
    added_path,
    apply_edit,
    describe_changes,
)


def _case() -> dict[str, Any]:
    return {
        "reference": "NM-1",
        "conference": {"kind": "initial", "venue": "Room 2"},
        "children": [{"id": "lena", "name": "Lena"}],
        "family": [{"id": "zofia", "name": "Zofia Wiśniewska", "email": "z@example.org"},
                   {"id": "karim", "name": "Karim Haddad", "email": "k@example.net"}],
        "agencies": [{"id": "social-care", "name": "Social care"}],
        "professionals": [{"id": "hannah", "name": "Hannah Okafor", "agency": "social-care"}],
        "invitations": [{"invitee": "karim", "attendance": "invited"}, {"invitee": "hannah"}],
        "record": {"sections": [
            {"title": "Progress", "items": [{"text": "One."}, {"text": "Two."}]},
            {"title": "Views", "items": [{"table": {"columns": ["Who", "View"],
                                                     "rows": [{"cells": ["A", "yes"]}, {"cells": ["B", "no"]}]}}]},
            {"title": "Next", "items": []},
        ]},
    }


EDITS: list[tuple[str, Edit, str, Any]] = [
    ("set a field", SetFields(("family", 1), {"email": "new@example.net"}), "family[1].email", "new@example.net"),
    ("remove a field with None", SetFields(("family", 1), {"email": None}), "family[1]",
     {"id": "karim", "name": "Karim Haddad"}),
    ("set a marking", SetFields(("record", "sections", 0, "items", 1),
                                {"withheld_from": ["karim"], "reason": "risk_to_child"}),
     "record.sections[0].items[1]", {"text": "Two.", "withheld_from": ["karim"], "reason": "risk_to_child"}),
    ("add at the end", AddEntry(("record", "sections", 0, "items"), {"text": "Three."}),
     "record.sections[0].items", [{"text": "One."}, {"text": "Two."}, {"text": "Three."}]),
    ("add at a position", AddEntry(("record", "sections", 0, "items"), {"text": "Zero."}, position=0),
     "record.sections[0].items", [{"text": "Zero."}, {"text": "One."}, {"text": "Two."}]),
    ("add to a list not there yet", AddEntry(("reports",), {"id": "r"}), "reports", [{"id": "r"}]),
    ("add a table row", AddEntry(("record", "sections", 1, "items", 0, "table", "rows"), {"cells": ["C", "?"]}),
     "record.sections[1].items[0].table.rows[2]", {"cells": ["C", "?"]}),
    ("remove", RemoveEntry(("family", 0)), "family", [{"id": "karim", "name": "Karim Haddad", "email": "k@example.net"}]),
    ("move up", MoveEntry(("record", "sections", 2), -1), "record.sections", ["Progress", "Next", "Views"]),
    ("move down", MoveEntry(("record", "sections", 0), 1), "record.sections", ["Views", "Progress", "Next"]),
    ("move up from the top stays", MoveEntry(("record", "sections", 0), -1), "record.sections",
     ["Progress", "Views", "Next"]),
    ("move down from the bottom stays", MoveEntry(("record", "sections", 2), 1), "record.sections",
     ["Progress", "Views", "Next"]),
]


def _at(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.replace("[", ".[").split("."):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


@pytest.mark.parametrize(("edit", "where", "expected"), [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_an_edit_changes_what_it_names_and_leaves_the_original_alone(edit: Edit, where: str, expected: Any) -> None:
    original = _case()
    kept = copy.deepcopy(original)
    changed = apply_edit(original, edit)
    found = _at(changed, where)
    if where == "record.sections":
        found = [section["title"] for section in found]
    assert found == expected
    assert original == kept


MISSING: list[tuple[str, Edit]] = [
    ("set on an entry past the end", SetFields(("family", 5), {"email": "x"})),
    ("remove past the end", RemoveEntry(("record", "sections", 3))),
    ("move an entry not there", MoveEntry(("record", "sections", 0, "items", 9), 1)),
    ("set under a missing part", SetFields(("plan", "actions", 0), {"what": "x"})),
    ("add into a text", AddEntry(("reference",), {"x": 1})),
]


@pytest.mark.parametrize("edit", [c[1] for c in MISSING], ids=[c[0] for c in MISSING])
def test_an_edit_of_something_not_there_is_refused_with_its_path(edit: Edit) -> None:
    with pytest.raises(NotFoundError, match=r"\w"):
        apply_edit(_case(), edit)


def test_the_path_of_an_added_entry_is_where_it_lands() -> None:
    assert added_path(_case(), AddEntry(("family",), {"id": "x"})) == ("family", 2)
    assert added_path(_case(), AddEntry(("record", "sections", 0, "items"), {"text": "x"}, position=1)) == \
        ("record", "sections", 0, "items", 1)
    assert added_path(_case(), AddEntry(("reports",), {"id": "r"})) == ("reports", 0)


DIFFERENCES: list[tuple[str, Edit, list[tuple[str, str]]]] = [
    ("an email corrected", SetFields(("family", 1), {"email": "new@example.net"}),
     [("family[1]", "Family member Karim Haddad: email changed")]),
    ("a venue changed", SetFields(("conference",), {"venue": "Room 3"}),
     [("conference", "Conference details: venue changed")]),
    ("attendance recorded", SetFields(("invitations", 0), {"attendance": "apologies"}),
     [("invitations[0]", "Invitation of Karim Haddad: attendance changed")]),
    ("a person added", AddEntry(("children",), {"id": "adam", "name": "Adam Haddad"}),
     [("children[1]", "Child Adam Haddad added")]),
    ("a person removed", RemoveEntry(("family", 0)), [("family[0]", "Family member Zofia Wiśniewska removed")]),
    ("an agency marked", SetFields(("agencies", 0), {"confidentiality": "confidential", "reason": "third_party"}),
     [("agencies[0]", "Agency Social care: confidentiality marking changed")]),
    ("a paragraph added", AddEntry(("record", "sections", 2, "items"), {"text": "New."}),
     [("record.sections[2].items[0]", "Record, section 3, paragraph 1 added")]),
    ("a paragraph added between two", AddEntry(("record", "sections", 0, "items"), {"text": "New."}, position=1),
     [("record.sections[0].items[1]", "Record, section 1, paragraph 2 added")]),
    ("a paragraph's text changed", SetFields(("record", "sections", 0, "items", 1), {"text": "Deux."}),
     [("record.sections[0].items[1]", "Record, section 1, paragraph 2: text changed")]),
    ("a paragraph withheld", SetFields(("record", "sections", 0, "items", 0), {"withheld_from": ["karim"]}),
     [("record.sections[0].items[0]", "Record, section 1, paragraph 1: confidentiality marking changed")]),
    ("a paragraph removed", RemoveEntry(("record", "sections", 0, "items", 0)),
     [("record.sections[0].items[0]", "Record, section 1, paragraph 1 removed")]),
    ("a section retitled", SetFields(("record", "sections", 1), {"title": "Views of the family"}),
     [("record.sections[1]", "Record, section 2: title changed")]),
    ("a section moved", MoveEntry(("record", "sections", 2), -1),
     [("record.sections[1]", "Record, section 3 moved to place 2")]),
    ("a table row added", AddEntry(("record", "sections", 1, "items", 0, "table", "rows"), {"cells": ["C", "?"]}),
     [("record.sections[1].items[0].table.rows[2]", "Record, section 2, table 1, row 3 added")]),
    ("a table row marked", SetFields(("record", "sections", 1, "items", 0, "table", "rows", 0),
                                     {"confidentiality": "confidential"}),
     [("record.sections[1].items[0].table.rows[0]", "Record, section 2, table 1, row 1: confidentiality marking changed")]),
    ("a new section", AddEntry(("record", "sections"), {"title": "Decisions", "items": []}),
     [("record.sections[3]", "Record, section 4 added")]),
    ("people reordered", MoveEntry(("family", 1), -1), [("family", "Family members put in a different order")]),
    ("a report added", AddEntry(("reports",), {"id": "r"}), [("reports", "Reports changed")]),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in DIFFERENCES], ids=[c[0] for c in DIFFERENCES])
def test_the_difference_between_two_versions_is_said_in_words_by_path(edit: Edit, expected: list[tuple[str, str]]) -> None:
    old = _case()
    changes = describe_changes(old, apply_edit(old, edit))
    assert [(change.path, change.text) for change in changes] == expected


def test_the_same_data_has_no_differences() -> None:
    assert describe_changes(_case(), _case()) == []


def test_several_changes_are_all_listed() -> None:
    old = _case()
    new = apply_edit(apply_edit(old, SetFields(("family", 1), {"email": "x@example.net", "phone": "01632"})),
                     AddEntry(("record", "sections", 2, "items"), {"text": "Added."}))
    assert [change.text for change in describe_changes(old, new)] == [
        "Family member Karim Haddad: email changed", "Family member Karim Haddad: phone changed",
        "Record, section 3, paragraph 1 added"]


FIELDS_FOR: list[tuple[str, str, str, tuple[Any, ...], str | None]] = [
    ("a field of the entry", "family[1].email", "family[1]", forms.PARTS["family"][1], "email"),
    ("inside the address", "family[1].address.lines[0]", "family[1]", forms.PARTS["family"][1], "address_lines"),
    ("the postcode, the longer path", "family[1].address.postcode", "family[1]", forms.PARTS["family"][1],
     "address_postcode"),
    ("another entry's field", "family[0].email", "family[1]", forms.PARTS["family"][1], None),
    ("a marking", "agencies[2].withheld_from[0]", "agencies[2]", forms.PARTS["agencies"][1], "withheld_from"),
    ("the confidentiality", "agencies[2].confidentiality", "agencies[2]", forms.PARTS["agencies"][1], "marking"),
    ("the start of the conference", "conference.starts_at", "conference", forms.CONFERENCE, "starts_on"),
    ("an opinion's text", "record.sections[0].items[1].opinion.text", "record.sections[0].items[1]", forms.OPINION,
     "text"),
    ("a table row's cell", "record.sections[0].items[1].table.rows[0].cells[1]", "record.sections[0].items[1].table.rows[0]",
     forms.row_fields(["Who", "View"]), "cell_1"),
    ("another row's cell", "record.sections[0].items[1].table.rows[1].cells[1]",
     "record.sections[0].items[1].table.rows[0]", forms.row_fields(["Who", "View"]), None),
    ("a prefix that is not the field", "family[1].emails", "family[1]", forms.PARTS["family"][1], None),
]


@pytest.mark.parametrize(("problem", "entry", "fields", "expected"), [c[1:] for c in FIELDS_FOR],
                         ids=[c[0] for c in FIELDS_FOR])
def test_a_problem_goes_beside_the_field_it_concerns(problem: str, entry: str, fields: Any, expected: str | None) -> None:
    assert forms.field_for(problem, entry, fields) == expected


MARKINGS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, object], set[str]]] = [
    ("open", {"marking": "open"}, {}, {"confidentiality": None, "withheld_from": None, "reason": None}, set()),
    ("open kept as written", {"marking": "open"}, {"confidentiality": "open"},
     {"confidentiality": "open", "withheld_from": None, "reason": None}, set()),
    ("confidential with a reason", {"marking": "confidential", "reason": "legal_advice", "withheld_from": ["karim"]}, {},
     {"confidentiality": "confidential", "withheld_from": None, "reason": "legal_advice"}, set()),
    ("withheld from the father", {"marking": "withheld", "withheld_from": ["karim"], "reason": "risk_to_child"}, {},
     {"confidentiality": None, "withheld_from": ["karim"], "reason": "risk_to_child"}, set()),
    ("withheld from nobody", {"marking": "withheld", "reason": "other"}, {},
     {"confidentiality": None, "withheld_from": None, "reason": "other"}, {"withheld_from"}),
    ("withheld without a reason", {"marking": "withheld", "withheld_from": ["karim"]}, {},
     {"confidentiality": None, "withheld_from": ["karim"], "reason": None}, {"reason"}),
    ("an answer the form does not offer", {"marking": "hidden", "reason": "other"}, {},
     {"confidentiality": None, "withheld_from": None, "reason": "other"}, {"marking"}),
]


@pytest.mark.parametrize(("typed", "entry", "expected", "problems"), [c[1:] for c in MARKINGS],
                         ids=[c[0] for c in MARKINGS])
def test_a_marking_from_the_form(typed: dict[str, Any], entry: dict[str, Any], expected: dict[str, object],
                                 problems: set[str]) -> None:
    parsed = forms.parse(forms.SECTION, {"title": "Facts", **typed}, entry)
    assert {key: parsed.values[key] for key in expected} == expected
    assert set(parsed.problems) == problems


def test_an_address_keeps_its_marking_and_an_empty_answer_removes_a_field() -> None:
    entry = {"id": "zofia", "name": "Zofia", "email": "z@example.org",
             "address": {"lines": ["Flat 3"], "postcode": "NM4 6QT", "withheld_from": ["karim"], "reason": "victim_whereabouts"}}
    typed = {**forms.form_values(forms.PARTS["family"][1], entry), "email": "  ", "address_lines": "Flat 4\r\n\r\nLinden Court"}
    parsed = forms.parse(forms.PARTS["family"][1], typed, entry)
    assert parsed.values["email"] is None and "id" not in parsed.values
    assert parsed.values["address"] == {"lines": ["Flat 4", "Linden Court"], "postcode": "NM4 6QT",
                                        "withheld_from": ["karim"], "reason": "victim_whereabouts"}
