"""Disclosure-risk flags on a family copy of the record: each failure mode planted in the example
conference, and the example itself raising only what a chair should look at."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters.casefile.loader import load_case_file
from docgen.adapters.casefile.validation import validate_case
from docgen.domain.documents import family_audience
from docgen.domain.redaction import redact
from docgen.domain.risk import Flag, find_flags, flag_key
from docgen.domain.views import build_case_view

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICE_TEXT = ("DC Moore told the conference that Mr Haddad is also under investigation for an assault on a "
               "neighbour's child, Oliver Brennan, aged 11, on 2 September 2026. No charging decision has been made.")
REWORDED = ("The conference heard from DC Moore that Mr Haddad is also being investigated for an assault on a "
            "neighbour's child, aged 11, on 2 September 2026. No charging decision has yet been made.")


def flags_for(case: dict[str, Any], person: str, extra_withheld: tuple[str, ...] = ()) -> list[Flag]:
    audience = family_audience(case, person)
    redacted = redact(build_case_view(case), audience)
    return find_flags(case, audience, redacted.view, [*redacted.withheld.values(), *extra_withheld])


def add_action(case: dict[str, Any], what: str) -> None:
    case["plan"]["actions"].append({"what": what, "who": "Hannah Okafor, social worker", "by_when": "2027-01-15",
                                    "progress_check": "Reported to the core group."})


def add_record_text(case: dict[str, Any], text: str) -> None:
    case["record"]["sections"][0]["items"].append({"text": text})


def set_karim_phone_in_summary(case: dict[str, Any]) -> None:
    add_record_text(case, "Mr Haddad can be reached on 07700 900733 about contact.")


def give_zofia_a_workplace(case: dict[str, Any]) -> None:
    case["family"][0]["workplace"] = "Greenway Bakery"
    add_record_text(case, "Ms Wiśniewska has started work at Greenway Bakery in the mornings.")


def mark_zofia_at_risk_from_karim(case: dict[str, Any]) -> None:
    # No address marking: being at risk from the reader is enough to hide where someone is.
    for person in (*case["children"], case["family"][0]):
        person["address"] = {k: v for k, v in person["address"].items() if k not in ("withheld_from", "reason")}
    case["family"][0]["at_risk_from"] = ["karim"]
    case["family"][0]["workplace"] = "Greenway Bakery"
    add_record_text(case, "Ms Wiśniewska has started work at Greenway Bakery in the mornings.")


Plant = Callable[[dict[str, Any]], None]

FLAGGED: list[Any] = [
    pytest.param(lambda c: add_action(c, POLICE_TEXT), "zofia", "repeats_withheld", "plan.actions[5].what",
                 id="police text pasted into the plan verbatim"),
    pytest.param(lambda c: add_action(c, REWORDED), "zofia", "repeats_withheld", "plan.actions[5].what",
                 id="police text pasted into the plan lightly reworded"),
    pytest.param(lambda c: add_record_text(c, "Lena plays with Oliver Brennan from next door most evenings."),
                 "zofia", "unknown_name", "record.sections[0].items[2].text", id="a neighbour child's name"),
    pytest.param(lambda c: add_record_text(c, "Lena says she is scared of Mrs Thornbury at the club."),
                 "karim", "unknown_name", "record.sections[0].items[2].text", id="a titled name of nobody known"),
    pytest.param(lambda c: add_record_text(c, "The family can be contacted on 07700 900123 in the evenings."),
                 "zofia", "contact_details", "record.sections[0].items[2].text", id="an unknown phone number"),
    pytest.param(set_karim_phone_in_summary, "zofia", "contact_details", "record.sections[0].items[2].text",
                 id="another adult's phone number"),
    pytest.param(lambda c: add_record_text(c, "Write to the family at 4 Mill Lane, Southby SB2 9XY."),
                 "karim", "contact_details", "record.sections[0].items[2].text", id="a pasted postcode"),
    pytest.param(lambda c: add_record_text(c, "Her email is someone.else@example.com if needed."),
                 "zofia", "contact_details", "record.sections[0].items[2].text", id="an unknown email address"),
    pytest.param(lambda c: add_record_text(c, "Lena's NHS number is 943 476 5919."),
                 "karim", "contact_details", "record.sections[0].items[2].text", id="an NHS number of no one"),
    pytest.param(lambda c: add_record_text(c, "Sam, born on 3 March 2015, lives next door."),
                 "karim", "contact_details", "record.sections[0].items[2].text", id="a date of birth of no one"),
    pytest.param(lambda c: None, "karim", "locates_person", "invitations[8].role",
                 id="the school of children whose address is withheld, in the attendance table"),
    pytest.param(lambda c: None, "karim", "locates_person", "plan.actions[2].who",
                 id="the school of children whose address is withheld, in the plan"),
    pytest.param(give_zofia_a_workplace, "karim", "locates_person", "record.sections[0].items[2].text",
                 id="the workplace of someone whose address is withheld"),
    pytest.param(mark_zofia_at_risk_from_karim, "karim", "locates_person", "record.sections[0].items[2].text",
                 id="the workplace of someone at risk from the reader"),
]


@pytest.mark.parametrize(("plant", "person", "kind", "path"), FLAGGED)
def test_a_planted_risk_is_flagged_where_it_is(example_case: dict[str, Any], plant: Plant, person: str, kind: str,
                                               path: str) -> None:
    case = copy.deepcopy(example_case)
    plant(case)
    flags = [f for f in flags_for(case, person) if (f.kind, f.path) == (kind, path)]
    assert len(flags) == 1, flags_for(case, person)
    assert path in flags[0].description and len(flags[0].description) < 200


NOT_FLAGGED: list[Any] = [
    pytest.param(lambda c: add_record_text(c, "Hannah Okafor can be reached on 01632 960112."), "karim",
                 id="a professional's phone number"),
    pytest.param(lambda c: add_record_text(c, "Ms Wiśniewska can be reached on 07700 900461."), "zofia",
                 id="the reader's own phone number"),
    pytest.param(lambda c: add_record_text(c, "Adam was born on 30 June 2023."), "zofia",
                 id="a date of birth in the reader's household"),
    pytest.param(lambda c: add_record_text(c, "The core group will meet at Northmoor Family Centre."), "karim",
                 id="the conference's venue"),
    pytest.param(lambda c: add_record_text(c, "Refer Mr Haddad to the Northmoor Housing Service."), "karim",
                 id="a sentence starting with a verb and an organisation"),
    pytest.param(lambda c: add_record_text(c, "Lena told Joanna Baker at school that she feels safe."), "karim",
                 id="a professional's name"),
    pytest.param(lambda c: None, "zofia", id="the school, for the parent the children live with"),
]


@pytest.mark.parametrize(("plant", "person"), NOT_FLAGGED)
def test_what_a_reader_may_see_is_not_flagged(example_case: dict[str, Any], plant: Plant, person: str) -> None:
    case = copy.deepcopy(example_case)
    plant(case)
    before = {f.key for f in flags_for(example_case, person)}
    assert [f for f in flags_for(case, person) if f.key not in before] == []


def test_text_of_a_report_not_shared_with_the_reader_is_flagged_when_repeated(example_case: dict[str, Any]) -> None:
    report = "Lena has become quieter in class since October and sometimes asks to stay in at playtime."
    case = copy.deepcopy(example_case)
    add_record_text(case, "The school says Lena has become quieter in class since October and sometimes asks "
                          "to stay in at playtime.")
    assert [f.kind for f in flags_for(case, "zofia", (report,))] == ["repeats_withheld"]
    assert flags_for(case, "zofia") == []


@pytest.mark.parametrize("example", ["haddad-wisniewska.yaml", "haddad-wisniewska-review.yaml"])
def test_the_example_conferences_raise_only_the_childrens_school_for_the_father(example: str) -> None:
    case = validate_case(load_case_file(EXAMPLES / example), source=example)
    readers = [c["id"] for c in case["children"]] + [m["id"] for m in case["family"]]
    raised = {(person, f.kind) for person in readers for f in flags_for(case, person)}
    assert raised == {("karim", "locates_person")}


def test_a_flag_keeps_its_key_while_its_text_and_place_stay_the_same(example_case: dict[str, Any]) -> None:
    first = flags_for(example_case, "karim")
    changed = copy.deepcopy(example_case)
    changed["record"]["sections"][0]["items"][0]["text"] += " Nothing else happened."
    assert [f.key for f in flags_for(changed, "karim")] == [f.key for f in first]
    assert flag_key("unknown_name", "a", "Oliver  BRENNAN") == flag_key("unknown_name", "a", "oliver brennan")
    assert flag_key("unknown_name", "a", "Oliver Brennan") != flag_key("unknown_name", "b", "Oliver Brennan")


def test_descriptions_do_not_repeat_the_flagged_text(example_case: dict[str, Any]) -> None:
    case = copy.deepcopy(example_case)
    add_action(case, POLICE_TEXT)
    for flag in flags_for(case, "zofia"):
        assert "charging" not in flag.description and "Brennan" not in flag.description
