"""How the API gives a case-file problem: its field path, and the message without the value found there."""

from __future__ import annotations

import pytest

from docgen.entrypoints.web.api.routes import problem_entry

CASES = [
    pytest.param("family[1].email: 'k.haddad at example' is not a valid email",
                 {"path": "family[1].email", "message": "the value is not a valid email"}, id="format"),
    pytest.param("invitations[0].attendance: 'perhaps' is not one of 'invited', 'attended'",
                 {"path": "invitations[0].attendance", "message": "the value is not one of 'invited', 'attended'"},
                 id="enum keeps the allowed values"),
    pytest.param("professionals[1].name: is 900 characters long; the limit is 200. The value starts 'Dr Anna K'...",
                 {"path": "professionals[1].name", "message": "is 900 characters long; the limit is 200"},
                 id="too long"),
    pytest.param("family[0].name: contains U+202E right-to-left override, which may not appear in a case file "
                 "(it can disguise text); remove it. The value starts 'Zofia\\u202e'",
                 {"path": "family[0].name", "message": "contains U+202E right-to-left override, which may not appear "
                  "in a case file (it can disguise text); remove it"}, id="hidden character"),
    pytest.param("conference.chair: 'david-pryce' is not the id of any professional in this file",
                 {"path": "conference.chair", "message": "the value is not the id of any professional in this file"},
                 id="unknown id"),
    pytest.param("children[1].id: the id 'amira-haddad' is used twice",
                 {"path": "children[1].id", "message": "an id is used twice"}, id="id used twice"),
    pytest.param("(top level): the id 'sam' names more than one person; ids must be unique across children, family "
                 "and professionals",
                 {"path": "(top level)", "message": "an id names more than one person; ids must be unique across "
                  "children, family and professionals"}, id="id shared"),
    pytest.param("conference.ends_at: must be after conference.starts_at",
                 {"path": "conference.ends_at", "message": "must be after conference.starts_at"}, id="no value"),
    pytest.param("something without a path", {"path": "(top level)", "message": "something without a path"},
                 id="no path"),
]


@pytest.mark.parametrize(("problem", "entry"), CASES)
def test_a_problem_is_given_by_its_path_without_the_value(problem: str, entry: dict[str, str]) -> None:
    assert problem_entry(problem) == entry
