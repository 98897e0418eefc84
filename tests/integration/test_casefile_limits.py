"""Hostile case files: duplicate JSON keys, YAML alias bombs, deep nesting and huge values are refused
quickly and cheaply, each with the field path and the limit, quoting at most 60 characters of a value;
and the database is left unchanged."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from docgen.adapters.casefile import LIMITS, load_case_bytes, parse_case_text
from docgen.adapters.orm import Base
from docgen.errors import CaseFileError
from docgen.services.importing import import_case_file
from docgen.services.runtime import Runtime
from tests.conftest import EXAMPLE


def _refusal(text: str, fmt: str) -> tuple[list[str], float, int]:
    """The problems a text is refused with, the seconds it took, and the peak memory in bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(CaseFileError) as caught:
            parse_case_text(text, source=f"case.{fmt}", fmt=fmt)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value.problems, elapsed, peak


def _billion_laughs() -> str:
    """About 16 KB of nested aliases: nine references on each of many levels (9**30 values expanded)."""
    lines = ["a0: &a0 [" + ", ".join(["laugh"] * 9) + "]"]
    lines += [f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]" for level in range(1, 30)]
    text = "\n".join(lines) + "\n"
    return text + "# padding\n" * ((16_000 - len(text)) // 10)


def test_a_duplicated_key_in_json_is_refused_with_its_field_path(example_data: dict[str, Any]) -> None:
    text = json.dumps(example_data, ensure_ascii=False)
    email = json.dumps(example_data["family"][0]["email"])
    doubled = text.replace(f'"email": {email}', f'"email": {email}, "email": "someone.else@example.org"', 1)
    assert doubled != text
    problems, _, _ = _refusal(doubled, "json")
    assert problems == ["family[0].email: the key 'email' appears twice in the same object; "
                        "a case file must give each field once"]


def test_an_alias_bomb_is_refused_in_well_under_a_second_and_a_few_megabytes() -> None:
    bomb = _billion_laughs()
    assert 15_000 < len(bomb.encode()) < 17_000
    problems, elapsed, peak = _refusal(bomb, "yaml")
    assert problems == ["line 1, column 5: a0: defines the anchor &a0; anchors and aliases are not allowed "
                        "in a case file, write the value out in full"]
    assert elapsed < 0.5
    assert peak < 5_000_000


def test_an_alias_without_its_anchor_is_refused_too() -> None:
    problems, _, _ = _refusal("reference: *ref\n", "yaml")
    assert problems == ["line 1, column 12: reference: uses the alias *ref; anchors and aliases are not allowed "
                        "in a case file, write the value out in full"]


@pytest.mark.parametrize(("text", "fmt", "expected"), [
    pytest.param("a: " + "[" * 800 + "]" * 800, "yaml",
                 "line 1, column 36: a" + "[0]" * 32 + ": nested more than 32 levels deep; the limit is 32", id="yaml-flow"),
    pytest.param("".join(f"{'  ' * level}k{level}:\n" for level in range(800)) + "  " * 800 + "k: v\n", "yaml",
                 "line 34, column 67: " + ".".join(f"k{level}" for level in range(33))
                 + ": nested more than 32 levels deep; the limit is 32", id="yaml-block"),
    pytest.param('{"a": ' + "[" * 800 + "]" * 800 + "}", "json",
                 "(top level): nested more than 32 levels deep; the limit is 32", id="json"),
    pytest.param('{"a": "[[[[' + "[" * 800 + '", "b": ' + "[" * 20 + "]" * 20 + "}", "json", None,
                 id="json-brackets-inside-text-are-text"),
])
def test_deep_nesting_is_refused_without_a_recursion_error(text: str, fmt: str, expected: str | None) -> None:
    if expected is None:
        assert json.dumps(parse_case_text(text, source="case.json", fmt=fmt)["b"]) == "[" * 20 + "]" * 20
        return
    problems, elapsed, _ = _refusal(text, fmt)
    assert problems == [expected]
    assert elapsed < 2


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_huge_text_field_is_refused_with_a_short_message(fmt: str) -> None:
    data = {"record": {"sections": [{"title": "Facts", "items": [{"text": "Q" * 4_900_000}]}]}}
    text = json.dumps(data) if fmt == "json" else yaml.dump(data, Dumper=yaml.CSafeDumper, width=10**8)
    with pytest.raises(CaseFileError) as caught:
        parse_case_text(text, source=f"case.{fmt}", fmt=fmt)
    message = str(caught.value)
    assert len(message) < 300
    assert caught.value.problems == [f"record.sections[0].items[0].text: is 4900000 characters long; the limit is 20000. "
                                     f"The value starts {'Q' * 60!r}..."]


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param({"K" * 4_900_000: 1},
                 f"(top level): a field name is 4900000 characters long; the limit is 64. The name starts {'K' * 60!r}...",
                 id="huge-field-name"),
    pytest.param({"family": [{"id": str(n)} for n in range(1001)]}, "family: has 1001 entries; the limit is 1000",
                 id="long-list"),
])
def test_field_names_and_lists_have_limits(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(CaseFileError) as caught:
        parse_case_text(json.dumps(data), source="case.json", fmt="json")
    assert caught.value.problems == [expected]
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_number_too_long_to_read_is_refused_without_its_digits(fmt: str) -> None:
    text = '{"a": ' + "7" * 5000 + "}" if fmt == "json" else "a: " + "7" * 5000
    problems, _, _ = _refusal(text, fmt)
    assert problems == ["a number has too many digits to be read; no field of a case file needs one"]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(CaseFileError) as caught:
        load_case_bytes(b" " * (LIMITS.max_bytes + 1), source="upload", fmt="json")
    assert caught.value.problems == [f"the file is {LIMITS.max_bytes + 1} bytes; the most a case file may be is {LIMITS.max_bytes}"]


def test_the_example_is_within_every_limit(example_data: dict[str, Any]) -> None:
    assert load_case_bytes(json.dumps(example_data).encode(), source="upload", fmt="json") == example_data


def test_a_refused_json_import_leaves_the_database_unchanged(runtime: Runtime, tmp_path: Path, example_data: dict[str, Any]) -> None:
    text = json.dumps(example_data).replace('"reference": ', '"reference": "X", "reference": ', 1)
    path = tmp_path / "case.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError):
        import_case_file(runtime, path, actor="tester")
    with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            assert session.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name


def test_a_large_yaml_file_is_read_in_seconds_not_minutes() -> None:
    # Through libyaml's parser: PyYAML's own took 17 s for this on the development machine.
    text = "record:\n  sections:\n" + "".join(
        f"  - title: Section {s}\n    items:\n" + "".join(f"    - text: \"{'word ' * 3000}\"\n" for _ in range(17))
        for s in range(20))
    assert 4_900_000 < len(text) < LIMITS.max_bytes
    started = time.perf_counter()
    data = parse_case_text(text, source="case.yaml", fmt="yaml")
    assert time.perf_counter() - started < 5
    assert len(data["record"]["sections"]) == 20


def test_both_yaml_parsers_read_the_examples_the_same(example_data: dict[str, Any]) -> None:
    from docgen.adapters.casefile.loader import _StrictLoader

    assert yaml.load(EXAMPLE.read_text(encoding="utf-8"), Loader=_StrictLoader) == example_data
