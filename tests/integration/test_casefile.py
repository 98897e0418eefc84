"""Case files: validation lists every problem with its field path; import writes all or nothing;
what is imported comes back out unchanged, Unicode and dates included."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from docgen.adapters.casefile import parse_case_text, validate_case
from docgen.adapters.orm import Base
from docgen.errors import CaseFileError
from docgen.services.importing import import_case_file, stored_case
from tests.support.cases import shared_care


def _problems(data: Any) -> list[str]:
    with pytest.raises(CaseFileError) as caught:
        validate_case(data, source="case.yaml")
    return caught.value.problems


def test_example_case_is_valid(example_case: dict[str, Any]) -> None:
    assert example_case["reference"] == "NM-ICPC-2026-0147"
    assert [c["name"] for c in example_case["children"]] == ["Lena Haddad-Wiśniewska", "Adam Haddad"]


def test_five_errors_in_five_places_are_all_reported(example_data: dict[str, Any]) -> None:
    bad = copy.deepcopy(example_data)
    bad["conference"]["kind"] = "initial-ish"
    bad["children"][1]["date_of_birth"] = "2023-02-30"
    del bad["family"][0]["relationship"]
    bad["invitations"][3]["attendance"] = "maybe"
    bad["plan"]["actions"][2]["by_when"] = "next week"
    problems = _problems(bad)
    assert problems == [
        "children[1].date_of_birth: '2023-02-30' is not a valid date",
        "conference.kind: 'initial-ish' is not one of 'initial', 'review', 'transfer_in', 'pre_birth'",
        "family[0]: missing required field 'relationship'",
        "invitations[3].attendance: 'maybe' is not one of 'invited', 'attended', 'part_attended', 'apologies', 'did_not_attend', 'excluded'",
        "plan.actions[2].by_when: 'next week' is not a valid date",
    ]


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(lambda c: c["invitations"].append({"invitee": "nobody"}),
                 "invitations[11].invitee: 'nobody' is not the id of any child, family member or professional in this file",
                 id="unknown-invitee"),
    pytest.param(lambda c: c["conference"].pop("strategy_discussion_on"),
                 "conference.strategy_discussion_on: required for a initial conference", id="initial-needs-strategy-date"),
    pytest.param(lambda c: c["record"]["sections"][2]["items"][0].__setitem__("withheld_from", ["zofai"]),
                 "record.sections[2].items[0].withheld_from[0]: 'zofai' is not the id of any family member or child in this file",
                 id="withheld-from-unknown-person"),
    pytest.param(lambda c: c["decisions"][0].pop("category"), "decisions[0]: missing required field 'category'",
                 id="plan-needs-category"),
    pytest.param(lambda c: c["professionals"].append(dict(c["professionals"][0])),
                 "professionals[9].id: the id 'david-pryce' is used twice", id="duplicate-id"),
    pytest.param(lambda c: c["conference"].__setitem__("ends_at", "2026-11-19T09:00:00"),
                 "conference.ends_at: must be after conference.starts_at", id="ends-before-start"),
    pytest.param(lambda c: c["conference"].__setitem__("starts_at", "2026-11-19T10:00:00+00:00"),
                 "conference.starts_at: '2026-11-19T10:00:00+00:00' is not a valid date-time", id="time-with-offset"),
    pytest.param(lambda c: c.__setitem__("colour", "blue"),
                 "(top level): unknown field(s), not allowed ('colour' was unexpected)", id="unknown-top-level-field"),
])
def test_semantic_and_schema_problems_name_the_field(example_data: dict[str, Any], change: Any, expected: str) -> None:
    bad = copy.deepcopy(example_data)
    change(bad)
    assert expected in _problems(bad)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("format: a\nformat: b\n", "the key 'format' appears twice", id="duplicate-key"),
    pytest.param("format: [unclosed\n", "line 2, column 1: not valid YAML", id="syntax-error"),
])
def test_unreadable_yaml_is_reported_with_its_line(text: str, expected: str) -> None:
    with pytest.raises(CaseFileError) as caught:
        parse_case_text(text, source="case.yaml", fmt="yaml")
    assert expected in str(caught.value)


def test_yaml_answers_stay_text_and_dates_stay_dates() -> None:
    data = parse_case_text("a: no\nb: yes\nc: 2026-11-19\nd: true\n", source="x", fmt="yaml")
    assert data == {"a": "no", "b": "yes", "c": "2026-11-19", "d": True}


def test_unmarked_addresses_default_to_withheld_outside_the_household(example_data: dict[str, Any]) -> None:
    case = validate_case(copy.deepcopy(example_data), source="x")
    father = next(m for m in case["family"] if m["id"] == "karim")
    assert father["address"]["withheld_from"] == ["adam", "lena", "zofia"]
    assert next(r for r in case["reports"] if r["id"] == "sw-report")["shared_with_parents"] == "yes"
    data = copy.deepcopy(example_data)
    del data["reports"][2]["shared_with_parents"]
    assert validate_case(data, source="x")["reports"][2]["shared_with_parents"] == "chair_decides"


@pytest.mark.parametrize(("character", "named"), [
    pytest.param("\x00", "U+0000", id="null-byte"),
    pytest.param("\u202e", "U+202E right-to-left override", id="rtl-override"),
    pytest.param("\u2067", "U+2067 right-to-left isolate", id="rtl-isolate"),
    pytest.param("\x1b", "U+001B", id="escape"),
    pytest.param("\x85", "U+0085", id="c1-control"),
    pytest.param("\u200b", "U+200B zero width space", id="zero-width-space"),
    pytest.param("\u00ad", "U+00AD soft hyphen", id="soft-hyphen"),
])
def test_control_and_format_characters_in_a_name_are_refused_with_the_field(
        example_data: dict[str, Any], character: str, named: str) -> None:
    bad = copy.deepcopy(example_data)
    bad["family"][1]["name"] = f"Karim{character} Haddad"
    problems = _problems(bad)
    assert len(problems) == 1
    assert problems[0].startswith("family[1].name: contains ")
    assert named in problems[0]


def test_newlines_tabs_and_joiners_in_free_text_are_kept(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    data["record"]["sections"][0]["items"][0]["text"] = "First line.\nSecond\tline."
    data["family"][1]["name_in_own_script"] = "می\u200cخواهم"
    case = validate_case(data, source="x")
    assert case["record"]["sections"][0]["items"][0]["text"] == "First line.\nSecond\tline."


def test_a_long_value_is_refused_with_the_field_the_limit_and_only_its_start(example_data: dict[str, Any]) -> None:
    bad = copy.deepcopy(example_data)
    bad["record"]["sections"][0]["items"][0]["text"] = "Z" * 70 + "y" * 200_000
    problems = _problems(bad)
    assert len(problems) == 1
    message = problems[0]
    assert message.startswith("record.sections[0].items[0].text: is 200070 characters long; the limit is 20000.")
    assert "Z" * 60 in message and "Z" * 61 not in message and "y" not in message.split("starts", 1)[1]
    assert len(message) < 250


def test_an_overlong_name_is_refused_with_its_limit(example_data: dict[str, Any]) -> None:
    bad = copy.deepcopy(example_data)
    bad["family"][0]["name"] = "N" * 201
    assert _problems(bad) == [f"family[0].name: is 201 characters long; the limit is 200. The value starts {'N' * 60!r}..."]


def test_shared_care_withholds_each_parents_home_from_the_other(example_data: dict[str, Any]) -> None:
    case = validate_case(shared_care(example_data), source="x")
    people = {p["id"]: p for p in [*case["children"], *case["family"]]}
    assert people["zofia"]["address"]["withheld_from"] == ["karim"]
    assert people["lena"]["address"]["withheld_from"] == ["karim"]
    assert people["adam"]["address"]["withheld_from"] == ["karim"]
    assert people["karim"]["address"]["withheld_from"] == ["adam", "lena", "zofia"]
    assert people["zofia"]["contact_withheld_from"] == ["karim"]
    assert people["karim"]["contact_withheld_from"] == ["adam", "lena", "zofia"]


def test_contact_shareable_with_lets_a_named_person_see_an_address(example_data: dict[str, Any]) -> None:
    data = shared_care(example_data)
    data["family"][0]["contact_shareable_with"] = ["karim"]
    case = validate_case(data, source="x")
    assert "withheld_from" not in case["family"][0]["address"]
    assert "contact_withheld_from" not in case["family"][0]
    assert case["children"][0]["address"]["withheld_from"] == ["karim"]


def test_at_risk_from_withholds_everything_that_locates_the_person(example_data: dict[str, Any]) -> None:
    data = shared_care(example_data)
    data["family"][0]["at_risk_from"] = ["karim"]
    data["family"][0]["contact_shareable_with"] = ["karim"]
    case = validate_case(data, source="x")
    mother = case["family"][0]
    assert mother["address"]["withheld_from"] == ["karim"]
    assert mother["address"]["reason"] == "victim_whereabouts"
    assert mother["contact_withheld_from"] == ["karim"]
    school = next(a for a in case["agencies"] if a["id"] == "st-aidans")
    assert school["withheld_from"] == ["karim"]
    assert all(c["address"]["withheld_from"] == ["karim"] for c in case["children"])


def test_at_risk_from_must_name_a_family_member(example_data: dict[str, Any]) -> None:
    bad = copy.deepcopy(example_data)
    bad["family"][0]["at_risk_from"] = ["hannah-okafor"]
    assert _problems(bad) == ["family[0].at_risk_from[0]: 'hannah-okafor' is not the id of any family member in this file"]


def _row_counts(runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in Base.metadata.tables.items()}


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_bad_case_file_leaves_the_database_unchanged(runtime, example_data: dict[str, Any], tmp_path: Path) -> None:
    import_case_file(runtime, _write(tmp_path / "good.yaml", example_data), actor="test")
    before = _row_counts(runtime)
    bad = copy.deepcopy(example_data)
    bad["reference"] = "NM-ICPC-2026-0999"
    bad["conference"]["kind"] = "initial-ish"
    bad["children"][1]["date_of_birth"] = "2023-02-30"
    del bad["family"][0]["relationship"]
    bad["invitations"][3]["attendance"] = "maybe"
    bad["plan"]["actions"][2]["by_when"] = "next week"
    with pytest.raises(CaseFileError) as caught:
        import_case_file(runtime, _write(tmp_path / "bad.yaml", bad), actor="test")
    assert len(caught.value.problems) == 5
    assert _row_counts(runtime) == before


def test_round_trip_keeps_everything(runtime, example_case: dict[str, Any], example_data: dict[str, Any], tmp_path: Path) -> None:
    reference, version = import_case_file(runtime, _write(tmp_path / "case.yaml", example_data), actor="test")
    assert (reference, version) == ("NM-ICPC-2026-0147", 1)
    back = stored_case(runtime, reference)
    assert json.dumps(back, sort_keys=True, ensure_ascii=False) == json.dumps(example_case, sort_keys=True, ensure_ascii=False)
    father = next(m for m in back["family"] if m["id"] == "karim")
    assert father["name_in_own_script"] == "كريم حداد"
    assert back["children"][0]["name"] == "Lena Haddad-Wiśniewska"
    assert back["conference"]["starts_at"] == "2026-11-19T10:00:00"


def test_json_case_files_import_too(runtime, example_data: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example_data, ensure_ascii=False), encoding="utf-8")
    assert import_case_file(runtime, path, actor="test")[0] == "NM-ICPC-2026-0147"


def test_reimport_needs_replace_and_raises_the_content_version(runtime, example_data: dict[str, Any], tmp_path: Path) -> None:
    path = _write(tmp_path / "case.yaml", example_data)
    import_case_file(runtime, path, actor="test")
    with pytest.raises(CaseFileError, match="already imported"):
        import_case_file(runtime, path, actor="test")
    changed = copy.deepcopy(example_data)
    changed["record"]["sections"][0]["items"][0]["text"] += " One word more."
    assert import_case_file(runtime, _write(path, changed), actor="test", replace=True) == ("NM-ICPC-2026-0147", 2)
    assert stored_case(runtime, "NM-ICPC-2026-0147")["record"]["sections"][0]["items"][0]["text"].endswith("One word more.")


# Control (Cc) and invisible format (Cf) characters are refused at import (see the tests above).
names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf")), min_size=1, max_size=60).filter(lambda s: s.strip())


@hsettings(max_examples=40, deadline=None)
@given(name=names, born=st.dates(min_value=__import__("datetime").date(2005, 1, 1), max_value=__import__("datetime").date(2026, 11, 1)))
def test_any_name_and_date_survive_validation_and_yaml(example_data: dict[str, Any], name: str, born: Any) -> None:
    data = copy.deepcopy(example_data)
    data["children"][0]["name"] = name
    data["children"][0]["date_of_birth"] = born.isoformat()
    text = yaml.safe_dump(data, allow_unicode=True)
    case = validate_case(parse_case_text(text, source="x", fmt="yaml"), source="x")
    assert case["children"][0]["name"] == name
    assert case["children"][0]["date_of_birth"] == born.isoformat()
