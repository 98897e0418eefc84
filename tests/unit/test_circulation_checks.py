"""A rules file that would leave documents untimed, or time them absurdly, is refused: an empty or
partial file, an offset pointing the wrong way (a report due after the conference, the record due
before it), an offset of more than a year. Each refusal names the file, the rule and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docgen.configuration.circulation import REQUIRED_TIMESCALES, load_rules, offset_problem
from docgen.entrypoints.cli_schedule import main as schedule_main
from docgen.errors import CirculationRuleError
from docgen.services.scheduling import BEFORE_CONFERENCE, ROUTES

DEFAULTS = Path(__file__).resolve().parents[2] / "config" / "circulation.toml"


def _refusal(tmp_path: Path, override: str | None = None, *, default: str | None = None) -> list[str]:
    default_path = DEFAULTS
    if default is not None:
        default_path = tmp_path / "circulation.toml"
        default_path.write_text(default, encoding="utf-8")
    override_path = None
    if override is not None:
        override_path = tmp_path / "local.toml"
        override_path.write_text(override, encoding="utf-8")
    with pytest.raises(CirculationRuleError) as caught:
        load_rules(default_path, override_path)
    return [line[4:] for line in str(caught.value).splitlines()[1:]]


def _set(name: str, **fields: object) -> str:
    lines = [f'name = "{name}"', *(f"{key} = {str(value).lower()}" for key, value in fields.items())]
    return "[[rules]]\n" + "\n".join(lines) + "\n"


def test_an_empty_rules_file_is_refused(tmp_path: Path) -> None:
    assert _refusal(tmp_path, default="") == [
        f"{tmp_path / 'circulation.toml'}: rules: there are no rules; the file must give a rule for each document "
        "docgen circulates (see docs/circulation-rules.md), or it would send nothing on time"]


def test_a_partial_rules_file_names_every_timescale_it_leaves_out(tmp_path: Path) -> None:
    text = DEFAULTS.read_text(encoding="utf-8")
    # Keep the calendar and the first rule only: the initial conference's booking.
    starts = [match.start() for match in re.finditer(r"^\[\[rules\]\]$", text, re.MULTILINE)]
    partial = text[:starts[1]]
    problems = _refusal(tmp_path, default=partial)
    where = f"{tmp_path / 'circulation.toml'}: rules: "
    assert problems[0] == (f"{where}no rule for booking the conference at review, transfer_in conferences; add one, "
                           "or add one with enabled = false to say it is not circulated")
    assert problems[1].startswith(f"{where}no rule for social_worker_report to chair at any conferences;")
    assert len(problems) == len(REQUIRED_TIMESCALES)


def test_switching_a_rule_off_says_the_document_is_not_circulated(tmp_path: Path) -> None:
    override = tmp_path / "local.toml"
    override.write_text(_set("sw-report-to-absent-invitees", enabled=False), encoding="utf-8")
    config = load_rules(DEFAULTS, override)
    assert "sw-report-to-absent-invitees" in [rule.name for rule in config.disabled]


def test_every_route_that_looks_up_a_rule_is_required() -> None:
    looked_up = {(r.document, r.audience) for r in ROUTES if r.look_up and r.fallback != BEFORE_CONFERENCE}
    assert looked_up - {("agency_report", "excluded_family"), ("discharge_notification", "family")} <= set(REQUIRED_TIMESCALES)


@pytest.mark.parametrize(("rule", "fields", "expected"), [
    pytest.param("record-to-invitees", {"offset": -20},
                 "rules[0].offset (rule 'record-to-invitees'): -20 would make the conference record due before the "
                 "conference, where it is made; a rule anchored on the conference needs an offset of 0 or more for it",
                 id="record-before-the-conference"),
    pytest.param("record-to-invitees", {"offset": 2_000_000},
                 "rules[0].offset (rule 'record-to-invitees'): 2000000 working days is more than a year; an offset is "
                 "at most 260 working days either way", id="record-in-the-year-9695"),
    pytest.param("further-review-booking", {"offset": 400},
                 "rules[0].offset (rule 'further-review-booking'): 400 calendar days is more than a year; an offset "
                 "is at most 366 calendar days either way", id="calendar-days-over-a-year"),
    pytest.param("inquorate-rebooking", {"offset": -13},
                 "rules[0].offset (rule 'inquorate-rebooking'): -13 months is more than a year; an offset is at most "
                 "12 months either way", id="months-over-a-year-backwards"),
    pytest.param("sw-report-to-chair", {"offset": 3},
                 "rules[0].offset (rule 'sw-report-to-chair'): 3 would let the social worker report arrive after the "
                 "conference it is for; a deadline anchored on the conference needs an offset of 0 or less "
                 "(e.g. -3 for 3 days before)", id="report-after-the-conference"),
])
def test_offsets_are_checked_against_their_direction_and_a_year(tmp_path: Path, rule: str, fields: dict[str, object],
                                                                  expected: str) -> None:
    assert _refusal(tmp_path, _set(rule, **fields)) == [f"{tmp_path / 'local.toml'}: {expected}"]


@pytest.mark.parametrize(("document", "anchor", "offset", "unit", "window", "fine"), [
    pytest.param("conference_record", "conference", 0, "working_days", "within", True, id="record-on-the-day"),
    pytest.param("social_worker_report", "conference", 20, "working_days", "within", True,
                 id="report-with-the-record-to-absent-invitees"),
    pytest.param("agency_report", "conference", 0, "working_days", "no_later_than", True, id="report-by-the-day"),
    pytest.param("core_group", "plan_end", 3, "months", "within", True, id="months-after-the-plan"),
    pytest.param("core_group", "plan_end", 12, "months", "within", True, id="a-year-exactly"),
    pytest.param("detailed_plan", "core_group", -1, "calendar_days", "no_later_than", True,
                 id="before-a-core-group-is-not-about-the-conference"),
    pytest.param("decisions_notice", "conference", -1, "working_days", "no_later_than", False, id="decisions-before"),
    pytest.param("conference", "strategy_discussion", 261, "working_days", "within", False, id="booking-over-a-year"),
    pytest.param("exclusion_representation", "conference", -3, "working_days", "within", True,
                 id="within-the-days-before"),
])
def test_offset_rules(document: str, anchor: str, offset: int, unit: str, window: str, fine: bool) -> None:
    assert (offset_problem(document, anchor, offset, unit, window) is None) is fine


def test_schedule_with_an_empty_rules_file_exits_with_the_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "circulation.toml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        schedule_main(["--database", f"sqlite:///{tmp_path / 'd.sqlite3'}", "schedule", "NM-ICPC-2026-0147",
                       "--rules", str(empty)])
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("docgen: error: Circulation rules not loaded: 1 problem found:")
    assert re.search(r"rules: there are no rules", error)
    assert "Traceback" not in error
