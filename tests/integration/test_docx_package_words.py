"""A family copy in Word is not refused because withheld text shares words with the Word package's
own structure (content types, relationship types, style names), which every copy holds whatever
the case says; and withheld text that really is in the copy is still found."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from docgen.adapters.casefile import validate_case
from docgen.domain.documents import plan_copies
from docgen.domain.views import build_case_view
from docgen.errors import RedactionError
from docgen.services.pack import render_copy

# Words of at least eight letters (so each is checked on its own) that a DOCX package holds in its
# content types, relationship types and settings: "application/vnd.openxmlformats-...".
PACKAGE_WORDS = "The application and relationships with the officedocument settings were discussed."


def _police_item_says(example_data: dict[str, Any], text: str) -> dict[str, Any]:
    data = copy.deepcopy(example_data)
    section = next(s for s in data["record"]["sections"] if s["title"] == "Information from the police")
    section["items"][0]["text"] = text
    return validate_case(data, source="test")


def _mothers_record(case: dict[str, Any]):
    return next(j for j in plan_copies(case) if j.kind.key == "conference_record" and j.audience.person == "zofia")


def test_withheld_words_found_in_every_word_package_do_not_refuse_the_copy(example_data, settings) -> None:
    case = _police_item_says(example_data, PACKAGE_WORDS)
    copy_ = render_copy(_mothers_record(case), build_case_view(case), settings, generated_on=date(2026, 11, 20),
                        fmt="docx")
    assert copy_.data.startswith(b"PK")


def test_withheld_text_in_the_copy_is_still_refused(example_data, settings, monkeypatch) -> None:
    """The package's words are allowed, not the withheld sentence: a template that prints it is caught."""
    secret = "Oliver Brennan was assaulted near Harrowgate Close."
    case = _police_item_says(example_data, PACKAGE_WORDS + " " + secret)
    from docgen.services import rendering as pack
    real = pack.build_context

    def leaking_context(*args, **kwargs):  # a template that prints withheld text in the letterhead
        context = real(*args, **kwargs)
        context["authority"] = {**vars(context["authority"]), "service": secret}
        return context

    monkeypatch.setattr(pack, "build_context", leaking_context)
    with pytest.raises(RedactionError, match=r"withheld item 'record\.sections\[1\]#1' found in docx word/document\.xml"):
        render_copy(_mothers_record(case), build_case_view(case), settings, generated_on=date(2026, 11, 21),
                    fmt="docx")


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_a_withheld_name_inside_a_longer_template_word_is_still_looked_for(example_data, settings, monkeypatch,
                                                                           fmt: str) -> None:
    """"Dan" is part of the template's "guidance" and of the Word package's names, but not a word
    of either: printed into a copy, the withheld name is found."""
    from docgen.adapters.docx import docx_fixed_wording, docx_package_text
    from docgen.domain.disclosure import normalise
    from docgen.services import rendering as pack

    copy_spec = _mothers_record(validate_case(copy.deepcopy(example_data), source="test"))
    template_text = normalise(docx_fixed_wording(copy_spec.kind.docx_template) + docx_package_text(copy_spec.kind.docx_template))
    assert "dan" in template_text and " dan " not in f" {template_text} "  # the case this test is about
    case = _police_item_says(example_data, "Dan")
    real = pack.build_context

    def leaking_context(*args, **kwargs):  # a template that prints withheld text in the letterhead
        context = real(*args, **kwargs)
        context["authority"] = {**vars(context["authority"]), "service": "Dan"}
        return context

    monkeypatch.setattr(pack, "build_context", leaking_context)
    with pytest.raises(RedactionError, match=r"withheld item 'record\.sections\[1\]#1' found"):
        render_copy(_mothers_record(case), build_case_view(case), settings, generated_on=date(2026, 11, 22), fmt=fmt)
