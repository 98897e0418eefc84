"""The view keeps derived text inside the node it comes from: a node that repeats a marked
node's text carries that node's marking, so redaction withholds both."""

from __future__ import annotations

from docgen.domain.redaction import Audience, redact, strings_in
from docgen.domain.views import inherit_marking, marking_of

FATHER = Audience("family", "karim", "Karim Haddad")
MOTHER = Audience("family", "zofia", "Zofia Wiśniewska")


def test_inherit_marking_takes_the_union_and_the_stricter_marking() -> None:
    target = {"name": "x", "withheld_from": ["lena"]}
    inherit_marking(target, {"withheld_from": ["karim"], "reason": "victim_whereabouts"}, {"name": "open"})
    assert target == {"name": "x", "withheld_from": ["karim", "lena"], "reason": "victim_whereabouts"}
    inherit_marking(target, {"confidentiality": "confidential", "reason": "third_party"})
    assert target["confidentiality"] == "confidential"


def test_an_unmarked_source_adds_nothing() -> None:
    target = {"name": "x"}
    inherit_marking(target, {"name": "y", "confidentiality": "open", "reason": "other"})
    assert target == {"name": "x"}
    assert marking_of({"name": "y"}) == {}


def test_an_invitation_naming_a_withheld_professional_is_withheld_with_them() -> None:
    professional = {"id": "wren", "name": "Wren Ashby", "withheld_from": ["karim"], "reason": "victim_whereabouts"}
    invitation = {"invitee": "wren", "name": "Wren Ashby", "role": "Lead, Larkspur Academy", "attendance_text": "Attended"}
    inherit_marking(invitation, professional)
    view = {"invitations": [invitation]}
    fathers = redact(view, FATHER)
    assert "Wren Ashby" not in strings_in(fathers.view)
    assert "Lead, Larkspur Academy" in fathers.withheld.values()
    assert "Wren Ashby" in strings_in(redact(view, MOTHER).view)
