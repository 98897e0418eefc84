"""Redaction on the data: what each audience's view holds, and what was taken out."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docgen.domain.redaction import PROFESSIONALS, Audience, redact, strings_in
from docgen.domain.views import build_case_view

KARIM = Audience("family", "karim", "Karim Haddad")
ZOFIA = Audience("family", "zofia", "Zofia Wiśniewska")
LENA = Audience("child", "lena", "Lena Haddad-Wiśniewska")


def _all_text(view: Any) -> str:
    return "\n".join(strings_in(view))


@pytest.mark.parametrize(("audience", "present", "absent"), [
    pytest.param(PROFESSIONALS, ["Linden Court", "Oliver Brennan", "hid under the table", "Sam Ortiz", "14 Orchard Row"], [],
                 id="professionals-see-everything"),
    pytest.param(KARIM, ["14 Orchard Row"], ["Linden Court", "NM4 6QT", "Oliver Brennan", "hid under the table", "Sam Ortiz",
                                              "pre-proceedings", "victim_whereabouts"],
                 id="father-loses-victim-address-disclosure-and-confidential"),
    pytest.param(ZOFIA, ["Linden Court", "hid under the table"], ["Oliver Brennan", "Sam Ortiz", "14 Orchard Row", "pre-proceedings"],
                 id="mother-keeps-her-address-loses-confidential-and-father-address"),
    pytest.param(LENA, ["Linden Court"], ["Oliver Brennan", "14 Orchard Row"], id="child-copy"),
])
def test_each_audience_sees_only_what_it_may(example_case: dict[str, Any], audience: Audience, present: list[str], absent: list[str]) -> None:
    result = redact(build_case_view(example_case), audience)
    text = _all_text(result.view)
    for phrase in present:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase
    withheld = "\n".join(result.withheld.values())
    for phrase in absent:
        if phrase != "victim_whereabouts":
            assert phrase in withheld, phrase


def test_withheld_section_leaves_no_title_and_consecutive_items_collapse() -> None:
    view = {"sections": [
        {"title": "Open", "items": [{"text": "a"}]},
        {"title": "Secret title", "confidentiality": "confidential", "items": [{"text": "b"}, {"text": "c"}]},
        {"title": "Also secret", "confidentiality": "confidential", "items": [{"text": "d"}]},
        {"title": "Open again", "items": [{"text": "e"}, {"text": "f", "withheld_from": ["karim"]}, {"text": "g", "withheld_from": ["karim"]}]},
    ]}
    result = redact(view, KARIM)
    sections = result.view["sections"]
    assert [s.get("title") for s in sections] == ["Open", None, "Open again"]
    assert sections[1] == {"withheld": True}
    assert sections[2]["items"] == [{"text": "e", "withheld": False}, {"withheld": True}]
    assert sorted(result.withheld.values()) == ["Also secret", "Secret title", "b", "c", "d", "f", "g"]


def test_marking_fields_never_reach_a_family_copy() -> None:
    view = {"items": [{"text": "x", "withheld_from": ["zofia"], "reason": "victim_whereabouts"}]}
    result = redact(view, KARIM)
    assert result.view == {"items": [{"text": "x", "withheld": False}], "withheld": False}
    assert redact(view, PROFESSIONALS).view["items"][0]["withheld_from"] == ["zofia"]


def test_redaction_leaves_its_input_unchanged(example_case: dict[str, Any]) -> None:
    view = build_case_view(example_case)
    before = repr(view)
    redact(view, KARIM)
    assert repr(view) == before


texts = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())


@given(secret=texts, public=texts)
def test_a_withheld_text_is_never_in_the_view(secret: str, public: str) -> None:
    view = {"a": [{"text": public}, {"text": secret, "confidentiality": "confidential"}],
            "b": {"nested": {"deep": secret}, "withheld_from": ["karim"]}}
    result = redact(view, KARIM)
    assert secret not in strings_in(result.view) or secret == public
    assert secret in result.withheld.values()
