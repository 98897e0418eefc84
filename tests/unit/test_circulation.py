"""Circulation rules: the shipped defaults, overrides, strict validation, windows and breaches."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docgen.configuration.circulation import CirculationConfig, load_rules, parse_rules
from docgen.domain.calendar import WorkingCalendar, closure_range
from docgen.domain.circulation import (
    Breach,
    CirculationRule,
    Window,
    applicable_rules,
    booking_breaches,
    lateness,
    unchecked_booking_rules,
    window_for,
)
from docgen.errors import CalendarError, CirculationRuleError, ConfigurationError

DEFAULTS = Path(__file__).resolve().parents[2] / "config" / "circulation.toml"
LONDON_NAME = "Europe/London"
ENG, SCT = "england-and-wales", "scotland"
FIVE_PM = time(17, 0)


@functools.cache
def defaults() -> CirculationConfig:
    return load_rules(DEFAULTS)


@functools.cache
def calendar_for(region: str) -> WorkingCalendar:
    return WorkingCalendar(region=region)


def london(text: str) -> datetime:
    """A Europe/London wall-clock time from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=defaults().zone)


def rule(name: str) -> CirculationRule:
    return defaults().rule(name)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the shipped defaults ----------------------------------------------------------------------

ALL_KINDS = frozenset({"initial", "review", "transfer_in", "pre_birth"})
INITIAL_KINDS = frozenset({"initial", "transfer_in", "pre_birth"})

# One row per timescale in PROCEDURES.md: (rule name, document, audience, anchor, offset, unit,
# window, conference kinds).
PROCEDURE_TIMESCALES = [
    pytest.param("initial-conference-booking", "conference", "all_invited", "strategy_discussion",
                 15, "working_days", "within", frozenset({"initial", "pre_birth"}),
                 id="icpc-within-15-wd-of-strategy-discussion"),
    pytest.param("transfer-in-booking", "conference", "all_invited", "transfer_agreed",
                 15, "working_days", "within", frozenset({"transfer_in"}),
                 id="transfer-in-within-15-wd-of-agreement"),
    pytest.param("sw-report-to-chair", "social_worker_report", "chair", "conference",
                 -3, "working_days", "no_later_than", ALL_KINDS,
                 id="sw-report-to-chair-3-wd-before"),
    pytest.param("sw-report-to-family", "social_worker_report", "family", "conference",
                 -2, "working_days", "no_later_than", ALL_KINDS,
                 id="sw-report-to-parents-2-wd-before"),
    pytest.param("agency-reports-to-family", "agency_report", "family", "conference",
                 -2, "working_days", "no_later_than", ALL_KINDS,
                 id="agency-reports-to-parents-2-wd-before"),
    pytest.param("transfer-in-originating-report", "social_worker_report", "chair", "conference",
                 -5, "working_days", "no_later_than", frozenset({"transfer_in"}),
                 id="originating-authority-report-5-wd-before"),
    pytest.param("exclusion-representation", "exclusion_representation", "chair", "conference",
                 -3, "working_days", "no_later_than", ALL_KINDS,
                 id="exclusion-representation-3-wd-before"),
    pytest.param("sw-report-to-excluded-family-initial", "social_worker_report",
                 "excluded_family", "conference", -3, "working_days", "no_later_than",
                 INITIAL_KINDS, id="excluded-family-report-3-wd-before-icpc"),
    pytest.param("sw-report-to-excluded-family-review", "social_worker_report",
                 "excluded_family", "conference", -5, "working_days", "no_later_than",
                 frozenset({"review"}), id="excluded-family-report-5-wd-before-rcpc"),
    pytest.param("decisions-to-invited", "decisions_notice", "all_invited", "conference",
                 2, "working_days", "within", ALL_KINDS, id="decisions-within-2-wd"),
    pytest.param("outline-plan-to-invited", "outline_plan", "all_invited", "conference",
                 2, "working_days", "within", ALL_KINDS, id="outline-plan-within-2-wd"),
    pytest.param("record-to-invitees", "conference_record", "attendees_and_invited",
                 "conference", 20, "working_days", "within", ALL_KINDS,
                 id="record-within-20-wd"),
    pytest.param("sw-report-to-absent-invitees", "social_worker_report", "absent_invitees",
                 "conference", 20, "working_days", "within", ALL_KINDS,
                 id="absent-invitees-reports-with-record"),
    pytest.param("amendments-to-chair", "record_amendments", "chair", "record_received",
                 10, "working_days", "within", ALL_KINDS,
                 id="amendments-within-10-wd-of-receipt"),
    pytest.param("first-core-group", "core_group", "core_group", "conference",
                 10, "working_days", "within", INITIAL_KINDS, id="first-core-group-10-wd"),
    pytest.param("further-core-groups", "core_group", "core_group", "core_group",
                 42, "calendar_days", "within", ALL_KINDS, id="further-core-groups-6-weeks"),
    pytest.param("detailed-plan-to-core-group", "detailed_plan", "core_group", "core_group",
                 5, "calendar_days", "within", ALL_KINDS, id="detailed-plan-5-days"),
    pytest.param("first-review-booking", "conference", "all_invited", "initial_conference",
                 91, "calendar_days", "within", frozenset({"review"}),
                 id="first-review-within-91-days"),
    pytest.param("further-review-booking", "conference", "all_invited", "previous_conference",
                 182, "calendar_days", "within", frozenset({"review"}),
                 id="further-reviews-within-182-days"),
    pytest.param("inquorate-rebooking", "conference", "all_invited", "inquorate_conference",
                 1, "months", "within", ALL_KINDS, id="inquorate-rebooked-within-a-month"),
    pytest.param("discharge-notification", "discharge_notification", "ica_agencies",
                 "plan_end", 2, "working_days", "within", ALL_KINDS,
                 id="discharge-notification-to-icpc-agencies"),
    pytest.param("absent-agency-views", "agency_report", "chair", "conference",
                 10, "working_days", "within", frozenset({"review"}),
                 id="absent-agency-views-within-10-wd"),
    pytest.param("post-discharge-meeting", "core_group", "core_group", "plan_end",
                 10, "calendar_days", "within", ALL_KINDS,
                 id="multi-agency-meeting-10-days-after-discontinuing"),
    pytest.param("post-discharge-plan-review", "core_group", "core_group", "plan_end",
                 3, "months", "within", ALL_KINDS,
                 id="childs-plan-review-3-months-after-discontinuing"),
]


@pytest.mark.parametrize(
    ("name", "document", "audience", "anchor", "offset", "unit", "window", "kinds"),
    PROCEDURE_TIMESCALES,
)
def test_every_procedures_timescale_has_a_default_rule(
    name: str, document: str, audience: str, anchor: str, offset: int, unit: str,
    window: str, kinds: frozenset[str],
) -> None:
    shipped = rule(name)
    assert (
        shipped.document, shipped.audience, shipped.anchor, shipped.offset, shipped.unit,
        shipped.window, shipped.conference_kinds,
    ) == (document, audience, anchor, offset, unit, window, kinds)
    assert re.search(r"\b00[0-4]\b", shipped.source), shipped.source
    assert shipped.description


def test_shipped_file_loads_with_safe_calendar_defaults() -> None:
    config = defaults()
    assert config.calendar == WorkingCalendar(region=ENG)
    assert config.end_of_day == FIVE_PM
    assert str(config.zone) == LONDON_NAME
    assert len(config.rules) == 22
    assert [r.name for r in config.disabled] == ["post-discharge-meeting", "post-discharge-plan-review"]
    assert len({r.name for r in config.rules}) == 22


def test_shipped_alternatives_are_described() -> None:
    assert "15 working days" in rule("record-to-invitees").description
    assert "offset = -3" in rule("agency-reports-to-family").description
    assert "91" in rule("first-review-booking").description
    assert "team manager" in rule("initial-conference-booking").description


def test_reports_to_absent_invitees_keep_pace_with_the_record() -> None:
    record, reports = rule("record-to-invitees"), rule("sw-report-to-absent-invitees")
    assert (reports.anchor, reports.offset, reports.unit) == (record.anchor, record.offset, record.unit)


def test_unknown_rule_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no circulation rule named 'nope'"):
        defaults().rule("nope")


# -- overrides --------------------------------------------------------------------------------

OVERRIDE = """
[calendar]
region = "scotland"
closures = ["2026-12-24", { from = 2026-12-29, to = "2026-12-31" }]
end_of_day = "16:30"

[[rules]]
name = "record-to-invitees"
offset = 15
description = "Our authority: 15 working days."

[[rules]]
name = "further-core-groups"
enabled = false

[[rules]]
name = "post-discharge-meeting"
enabled = true

[[rules]]
name = "interpreter-booking"
document = "parent_invitation"
audience = "family"
anchor = "booking"
offset = 1
unit = "working_days"
window = "within"
source = "Local practice note 12"
conference_kinds = ["initial"]
"""


@pytest.fixture
def overridden(tmp_path: Path) -> CirculationConfig:
    return load_rules(DEFAULTS, write(tmp_path, "local.toml", OVERRIDE))


def test_override_replaces_only_the_fields_given(overridden: CirculationConfig) -> None:
    record = overridden.rule("record-to-invitees")
    assert record.offset == 15
    assert record.description == "Our authority: 15 working days."
    assert record == replace(
        rule("record-to-invitees"), offset=15, description="Our authority: 15 working days."
    )


def test_override_disables_and_enables(overridden: CirculationConfig) -> None:
    enabled = [r.name for r in overridden.rules]
    assert "further-core-groups" not in enabled
    assert [r.name for r in overridden.disabled] == ["further-core-groups", "post-discharge-plan-review"]
    assert "post-discharge-meeting" in enabled


def test_override_adds_a_rule_after_the_defaults(overridden: CirculationConfig) -> None:
    added = overridden.rules[-1]
    assert added == CirculationRule(
        name="interpreter-booking", document="parent_invitation", audience="family",
        anchor="booking", offset=1, unit="working_days", window="within",
        source="Local practice note 12", conference_kinds=frozenset({"initial"}),
    )


def test_override_replaces_calendar_keys(overridden: CirculationConfig) -> None:
    assert overridden.calendar.region == SCT
    assert overridden.calendar.closures == frozenset(
        {date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)}
    )
    assert overridden.end_of_day == time(16, 30)
    assert str(overridden.zone) == LONDON_NAME


def test_overridden_record_window_uses_the_local_calendar(overridden: CirculationConfig) -> None:
    # 15 working days from Wed 9 Dec 2026 in Scotland, closed 24 and 29-31 Dec: 10, 11, 14-18,
    # 21-23 make 10; 25 and 28 Dec, 1 and 4 Jan are holidays; 5-8 Jan make 14; Mon 11 Jan is 15.
    window = overridden.window_for(overridden.rule("record-to-invitees"), london("2026-12-09T10:00"))
    assert window == Window(earliest=london("2026-12-09T10:00"), latest=london("2027-01-11T16:30"))


def test_parse_rules_accepts_parsed_toml_without_files() -> None:
    config = parse_rules(tomllib.loads(DEFAULTS.read_text(encoding="utf-8")), default_source="inline")
    assert [r.name for r in config.rules] == [r.name for r in load_rules(DEFAULTS).rules]
    assert config.rule("sw-report-to-chair").conference_kinds == ALL_KINDS
    assert config.calendar == WorkingCalendar()


# -- strict validation ------------------------------------------------------------------------

VALID_RULE = """
[[rules]]
name = "good-rule"
document = "agency_report"
audience = "chair"
anchor = "conference"
offset = -3
unit = "working_days"
window = "no_later_than"
source = "test"
"""


def rule_text(**changes: Any) -> str:
    """VALID_RULE with fields changed, added (value given) or removed (value None)."""
    lines = list(VALID_RULE.strip().splitlines()[1:])
    fields = dict(line.split(" = ", 1) for line in lines)
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return "[[rules]]\n" + "\n".join(f"{key} = {value}" for key, value in fields.items()) + "\n"


SINGLE_PROBLEMS = [
    pytest.param(rule_text(colour='"red"'), "rules[0].colour (rule 'good-rule'): unknown key; known keys: name,",
                 id="unknown-rule-key"),
    pytest.param(rule_text(offset='"three"'), "rules[0].offset (rule 'good-rule'): 'three' is not a whole number",
                 id="offset-not-integer"),
    pytest.param(rule_text(offset="true"), "rules[0].offset (rule 'good-rule'): True is not a whole number",
                 id="offset-boolean"),
    pytest.param(rule_text(offset="2.5"), "rules[0].offset (rule 'good-rule'): 2.5 is not a whole number",
                 id="offset-float"),
    pytest.param(rule_text(unit='"weeks"'), "rules[0].unit (rule 'good-rule'): 'weeks' is not one of: working_days, calendar_days, months",
                 id="unknown-unit"),
    pytest.param(rule_text(window='"before"'), "rules[0].window (rule 'good-rule'): 'before' is not one of",
                 id="unknown-window"),
    pytest.param(rule_text(document='"letter"'), "rules[0].document (rule 'good-rule'): 'letter' is not one of",
                 id="unknown-document"),
    pytest.param(rule_text(audience='"press"'), "rules[0].audience (rule 'good-rule'): 'press' is not one of",
                 id="unknown-audience"),
    pytest.param(rule_text(anchor='"referral"'), "rules[0].anchor (rule 'good-rule'): 'referral' is not one of",
                 id="unknown-anchor"),
    pytest.param(rule_text(conference_kinds='["annual"]'), "rules[0].conference_kinds (rule 'good-rule'): ['annual'] not among",
                 id="unknown-conference-kind"),
    pytest.param(rule_text(conference_kinds="[]"), "rules[0].conference_kinds (rule 'good-rule'): [] is not a non-empty list",
                 id="empty-conference-kinds"),
    pytest.param(rule_text(conference_kinds='["review", "review"]'), "lists a kind twice",
                 id="repeated-conference-kind"),
    pytest.param(rule_text(enabled='"no"'), "rules[0].enabled (rule 'good-rule'): 'no' is not true or false",
                 id="enabled-not-boolean"),
    pytest.param(rule_text(source='"  "'), "rules[0].source (rule 'good-rule'): must not be empty",
                 id="empty-source"),
    pytest.param(rule_text(source=None), "rules[0].source (rule 'good-rule'): missing",
                 id="missing-source"),
    pytest.param(rule_text(name='"Good Rule"'), "rules[0].name (rule 'Good Rule'): 'Good Rule' is not a slug",
                 id="name-not-a-slug"),
    pytest.param(rule_text(document='"conference"'),
                 "rules[0].anchor (rule 'good-rule'): a booking rule (document 'conference') cannot be anchored on the conference",
                 id="booking-anchored-on-itself"),
    pytest.param(VALID_RULE + VALID_RULE, "rules[1].name (rule 'good-rule'): duplicate of rules[0]",
                 id="duplicate-name"),
    pytest.param(VALID_RULE + "\n[extra]\nx = 1\n", "rules.toml: extra: unknown key; known keys: calendar, rules",
                 id="unknown-top-level-key"),
    pytest.param('rules = "none"\n', "rules.toml: rules: must be an array of tables", id="rules-not-array"),
    pytest.param('[calendar]\nregion = "wales"\n', "calendar.region: 'wales' is not one of: england-and-wales, scotland, northern-ireland",
                 id="unknown-region"),
    pytest.param('[calendar]\nholidays = []\n', "calendar.holidays: unknown key; known keys: region, closures, end_of_day, timezone",
                 id="unknown-calendar-key"),
    pytest.param('[calendar]\nend_of_day = "5pm"\n', "calendar.end_of_day: '5pm' is not a local time",
                 id="end-of-day-not-hh-mm"),
    pytest.param('[calendar]\ntimezone = "Europe/Londres"\n', "calendar.timezone: 'Europe/Londres' is not a known time zone",
                 id="unknown-timezone"),
    pytest.param('[calendar]\nclosures = ["24/12/2026"]\n', "calendar.closures: [0] '24/12/2026' is not a date",
                 id="closure-not-iso"),
    pytest.param('[calendar]\nclosures = [{ from = "2026-12-31", to = "2026-12-29" }]\n',
                 "[0] ends (2026-12-29) before it starts (2026-12-31)", id="closure-range-reversed"),
    pytest.param('[calendar]\nclosures = [{ from = "2026-12-29", to = "2062-12-31" }]\n',
                 "[0] spans more than 366 days", id="closure-range-too-long"),
    pytest.param('[calendar]\nclosures = [{ from = "2026-12-29" }]\n',
                 "[0] needs exactly 'from' and 'to' dates", id="closure-range-half-open"),
]


@pytest.mark.parametrize(("text", "fragment"), SINGLE_PROBLEMS)
def test_each_malformed_file_names_file_rule_and_field(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, "rules.toml", text)
    with pytest.raises(CirculationRuleError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert "1 problem found" in message
    assert f"{path}: " in message
    assert fragment in message


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    text = (
        '[calendar]\nregion = "wales"\n'
        + rule_text(name='"first"', unit='"weeks"', colour='"red"')
        + rule_text(name='"second"', source=None, offset='"x"')
        + rule_text(name='"first"')
        + "[[rules]]\noffset = 3\n"
    )
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(CirculationRuleError) as caught:
        load_rules(path)
    problems = [line[4:] for line in str(caught.value).splitlines()[1:]]
    assert problems == [
        f"{path}: rules[0].unit (rule 'first'): 'weeks' is not one of: working_days, calendar_days, months",
        (f"{path}: rules[0].colour (rule 'first'): unknown key; known keys: name, document, "
         "audience, anchor, offset, unit, window, source, conference_kinds, description, enabled"),
        f"{path}: rules[1].offset (rule 'second'): 'x' is not a whole number",
        f"{path}: rules[2].name (rule 'first'): duplicate of rules[0]; each rule needs a unique name",
        f"{path}: rules[3].name: missing; every rule needs a unique name",
        f"{path}: rules[3].document: missing",
        f"{path}: rules[3].audience: missing",
        f"{path}: rules[3].anchor: missing",
        f"{path}: rules[3].unit: missing",
        f"{path}: rules[3].window: missing",
        f"{path}: rules[3].source: missing",
        f"{path}: calendar.region: 'wales' is not one of: england-and-wales, scotland, northern-ireland",
        (f"{path}: rules[1].source (rule 'second'): missing; every rule needs name, "
         "document, audience, anchor, offset, unit, window, source"),
    ]
    assert str(caught.value).startswith("Circulation rules not loaded: 13 problems found:")


def test_override_problems_name_the_override_file(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        "local.toml",
        '[[rules]]\nname = "record-to-invitees"\noffset = "fifteen"\n'
        '[[rules]]\nname = "record-to-invitess"\noffset = 15\n',
    )
    with pytest.raises(CirculationRuleError) as caught:
        load_rules(DEFAULTS, override)
    message = str(caught.value)
    assert f"{override}: rules[0].offset (rule 'record-to-invitees'): 'fifteen'" in message
    for key in ("document", "audience", "anchor", "unit", "window", "source"):
        assert f"{override}: rules[1].{key} (rule 'record-to-invitess'): missing" in message
    assert message.count("check the name if you meant to change a default rule") == 6
    assert "7 problems found" in message


def test_unreadable_and_invalid_toml_files_are_both_reported(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    broken = write(tmp_path, "broken.toml", "[[rules]\nname = 1\n")
    with pytest.raises(CirculationRuleError) as caught:
        load_rules(missing, broken)
    message = str(caught.value)
    assert "2 problems found" in message
    assert f"{missing}: cannot be read" in message
    assert f"{broken}: is not valid TOML" in message


# -- windows ----------------------------------------------------------------------------------


def make_rule(**fields: Any) -> CirculationRule:
    base: dict[str, Any] = {
        "name": "example", "document": "agency_report", "audience": "chair", "anchor": "conference",
        "offset": 2, "unit": "working_days", "window": "within", "source": "test",
    }
    base.update(fields)
    return CirculationRule(**base)


WINDOW_EXAMPLES = [
    pytest.param("sw-report-to-family", ENG, "2026-11-25T10:00", None, "2026-11-23T17:00",
                 id="docs-2-wd-before-wednesday-25-november"),
    pytest.param("sw-report-to-chair", ENG, "2026-11-25T10:00", None, "2026-11-20T17:00",
                 id="docs-3-wd-before-wednesday-25-november"),
    pytest.param("decisions-to-invited", ENG, "2026-11-25T10:00", "2026-11-25T10:00",
                 "2026-11-27T17:00", id="docs-within-2-wd-after"),
    pytest.param("decisions-to-invited", SCT, "2026-11-26T14:00", "2026-11-26T14:00",
                 "2026-12-01T17:00", id="docs-within-2-wd-over-st-andrew-scotland"),
    pytest.param("record-to-invitees", ENG, "2026-12-09T10:00", "2026-12-09T10:00",
                 "2027-01-11T17:00", id="docs-record-20-wd-over-christmas-england"),
    pytest.param("record-to-invitees", SCT, "2026-12-09T10:00", "2026-12-09T10:00",
                 "2027-01-12T17:00", id="docs-record-20-wd-over-christmas-scotland"),
    pytest.param("first-review-booking", ENG, "2026-01-07T10:00", "2026-01-07T10:00",
                 "2026-04-08T17:00", id="docs-first-review-91-days-into-summer-time"),
    pytest.param("further-review-booking", ENG, "2026-04-08T10:00", "2026-04-08T10:00",
                 "2026-10-07T17:00", id="docs-further-review-182-days"),
    pytest.param("inquorate-rebooking", ENG, "2027-01-31T10:00", "2027-01-31T10:00",
                 "2027-02-28T17:00", id="docs-month-clamps-to-28-february"),
    pytest.param("detailed-plan-to-core-group", ENG, "2026-12-23T13:00", "2026-12-23T13:00",
                 "2026-12-28T17:00", id="docs-5-calendar-days-ignore-holidays"),
    pytest.param("transfer-in-originating-report", ENG, "2026-04-08T10:00", None,
                 "2026-03-30T17:00", id="5-wd-before-over-easter"),
]


@pytest.mark.parametrize(("name", "region", "anchor", "earliest", "latest"), WINDOW_EXAMPLES)
def test_window_examples_from_the_docs(
    name: str, region: str, anchor: str, earliest: str | None, latest: str
) -> None:
    window = window_for(rule(name), london(anchor), calendar_for(region), end_of_day=FIVE_PM)
    assert window == Window(
        earliest=london(earliest) if earliest else None, latest=london(latest)
    )


def test_record_window_skips_a_christmas_shutdown() -> None:
    calendar = WorkingCalendar(closures=closure_range(date(2026, 12, 29), date(2026, 12, 31)))
    window = window_for(rule("record-to-invitees"), london("2026-12-09T10:00"), calendar,
                        end_of_day=FIVE_PM)
    assert window.latest == london("2027-01-14T17:00")


SPECIAL_WINDOWS = [
    pytest.param(make_rule(window="no_earlier_than", offset=5), "2026-11-25T10:00",
                 "2026-12-02T00:00", None, id="no-earlier-than-gives-start-of-day-only"),
    pytest.param(make_rule(window="within", offset=-3), "2026-11-25T10:00",
                 "2026-11-20T00:00", "2026-11-25T10:00", id="within-before-the-anchor"),
    pytest.param(make_rule(window="within", offset=0), "2026-11-25T18:30",
                 "2026-11-25T18:30", "2026-11-25T18:30", id="within-0-after-end-of-day-not-empty"),
    pytest.param(make_rule(window="no_later_than", offset=3, unit="months"), "2026-11-30T09:00",
                 None, "2027-02-28T17:00", id="30-nov-plus-3-months"),
    pytest.param(make_rule(window="no_later_than", offset=3, unit="months"), "2027-11-30T09:00",
                 None, "2028-02-29T17:00", id="30-nov-plus-3-months-leap-year"),
    pytest.param(make_rule(window="no_later_than", offset=-2), "2026-11-21T10:00",
                 None, "2026-11-19T17:00", id="anchor-on-a-saturday-counts-back-from-it"),
]


@pytest.mark.parametrize(("rule_", "anchor", "earliest", "latest"), SPECIAL_WINDOWS)
def test_window_semantics(
    rule_: CirculationRule, anchor: str, earliest: str | None, latest: str | None
) -> None:
    window = window_for(rule_, london(anchor), calendar_for(ENG), end_of_day=FIVE_PM)
    assert window == Window(
        earliest=london(earliest) if earliest else None,
        latest=london(latest) if latest else None,
    )


def test_anchor_in_utc_uses_the_london_date_and_summer_time() -> None:
    # 23:30 UTC on 30 June is 00:30 BST on Wednesday 1 July.
    anchor = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    window = window_for(rule("decisions-to-invited"), anchor, calendar_for(ENG), end_of_day=FIVE_PM)
    assert window.latest == london("2026-07-03T17:00")
    assert window.latest is not None and window.latest.utcoffset() == timedelta(hours=1)
    assert window.latest.astimezone(UTC) == datetime(2026, 7, 3, 16, 0, tzinfo=UTC)


def test_naive_anchor_is_refused() -> None:
    with pytest.raises(CalendarError, match="has no time zone"):
        window_for(rule("decisions-to-invited"), datetime(2026, 11, 25, 10), calendar_for(ENG),
                   end_of_day=FIVE_PM)


def test_window_contains_both_ends() -> None:
    window = window_for(rule("decisions-to-invited"), london("2026-11-25T10:00"),
                        calendar_for(ENG), end_of_day=FIVE_PM)
    assert window.contains(london("2026-11-25T10:00"))
    assert window.contains(london("2026-11-27T17:00"))
    assert not window.contains(london("2026-11-27T17:01"))
    assert not window.contains(london("2026-11-25T09:59"))


LATENESS_CASES = [
    pytest.param("2026-11-23T17:00", 0, id="exactly-at-the-deadline"),
    pytest.param("2026-11-20T09:00", 0, id="early"),
    pytest.param("2026-11-23T17:30", 1, id="after-end-of-day-counts-as-one"),
    pytest.param("2026-11-24T09:00", 1, id="next-morning"),
    pytest.param("2026-11-25T09:00", 2, id="morning-of-the-conference"),
    pytest.param("2026-11-28T11:00", 4, id="saturday-after"),
]


@pytest.mark.parametrize(("sent", "expected"), LATENESS_CASES)
def test_lateness_in_working_days(sent: str, expected: int) -> None:
    shipped = rule("sw-report-to-family")
    window = window_for(shipped, london("2026-11-25T10:00"), calendar_for(ENG), end_of_day=FIVE_PM)
    assert lateness(shipped, window, london(sent), calendar_for(ENG)) == expected


def test_lateness_over_christmas_skips_the_holidays() -> None:
    window = Window(earliest=None, latest=london("2026-12-24T17:00"))
    sent = london("2026-12-29T09:00")
    assert lateness(rule("sw-report-to-chair"), window, sent, calendar_for(ENG)) == 1
    assert lateness(rule("sw-report-to-chair"), window, london("2027-01-04T09:00"),
                    calendar_for(ENG)) == 4


def test_open_ended_window_is_never_late() -> None:
    window = Window(earliest=london("2026-11-25T00:00"), latest=None)
    assert lateness(rule("sw-report-to-chair"), window, london("2030-01-01T12:00"),
                    calendar_for(ENG)) == 0


# -- applicable rules and booking breaches -----------------------------------------------------

APPLICABLE_CASES = [
    pytest.param("review", "social_worker_report",
                 ["sw-report-to-chair", "sw-report-to-family",
                  "sw-report-to-excluded-family-review", "sw-report-to-absent-invitees"],
                 id="review-social-worker-report"),
    pytest.param("transfer_in", "social_worker_report",
                 ["sw-report-to-chair", "sw-report-to-family", "transfer-in-originating-report",
                  "sw-report-to-excluded-family-initial", "sw-report-to-absent-invitees"],
                 id="transfer-in-social-worker-report"),
    pytest.param("initial", "conference", ["initial-conference-booking", "inquorate-rebooking"],
                 id="initial-booking"),
    pytest.param("review", "conference",
                 ["first-review-booking", "further-review-booking", "inquorate-rebooking"],
                 id="review-booking"),
    pytest.param("pre_birth", "core_group", ["first-core-group", "further-core-groups"],
                 id="pre-birth-core-groups-no-disabled-rules"),
]


@pytest.mark.parametrize(("kind", "document", "expected"), APPLICABLE_CASES)
def test_applicable_rules(kind: str, document: str, expected: list[str]) -> None:
    found = applicable_rules(defaults().rules + defaults().disabled, kind, document)  # type: ignore[arg-type]
    assert [r.name for r in found] == expected


def test_applicable_rules_without_a_document_filter() -> None:
    names = [r.name for r in applicable_rules(defaults().rules, "review")]
    assert len(names) == 17
    assert "first-core-group" not in names and "transfer-in-booking" not in names


BOOKING_CASES = [
    pytest.param(ENG, "initial", "2026-04-20T10:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [], id="icpc-on-15th-wd-over-easter"),
    pytest.param(ENG, "initial", "2026-04-20T18:30", {"strategy_discussion": "2026-03-26T11:00"},
                 [], id="icpc-late-evening-of-15th-wd-is-by-date"),
    pytest.param(ENG, "initial", "2026-04-21T10:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [("initial-conference-booking", date(2026, 4, 20), 1, 0)],
                 id="icpc-on-16th-wd-breaches"),
    pytest.param(SCT, "initial", "2026-04-20T10:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [("initial-conference-booking", date(2026, 4, 17), 1, 0)],
                 id="icpc-16th-wd-in-scotland-easter-monday-works"),
    pytest.param(ENG, "pre_birth", "2026-04-24T10:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [("initial-conference-booking", date(2026, 4, 20), 4, 0)],
                 id="pre-birth-follows-the-icpc-rule"),
    pytest.param(ENG, "initial", "2026-03-25T10:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [("initial-conference-booking", date(2026, 3, 26), 0, 1)],
                 id="icpc-before-the-strategy-discussion"),
    pytest.param(ENG, "initial", "2026-03-26T09:00", {"strategy_discussion": "2026-03-26T11:00"},
                 [], id="icpc-on-the-strategy-discussion-day-is-by-date"),
    pytest.param(ENG, "transfer_in", "2026-11-24T10:00", {"transfer_agreed": "2026-11-02T09:00"},
                 [("transfer-in-booking", date(2026, 11, 23), 1, 0)],
                 id="transfer-in-16th-wd-breaches"),
    pytest.param(ENG, "transfer_in", "2026-11-24T10:00",
                 {"strategy_discussion": "2026-11-02T09:00"}, [],
                 id="transfer-in-ignores-the-icpc-rule"),
    pytest.param(ENG, "review", "2026-04-08T10:00", {"initial_conference": "2026-01-07T10:00",
                                                     "previous_conference": "2026-01-07T10:00"},
                 [], id="first-review-on-day-91"),
    pytest.param(ENG, "review", "2026-04-09T10:00", {"initial_conference": "2026-01-07T10:00",
                                                     "previous_conference": "2026-01-07T10:00"},
                 [("first-review-booking", date(2026, 4, 8), 1, 0)],
                 id="first-review-after-3-months"),
    pytest.param(ENG, "review", "2026-04-14T10:00", {"initial_conference": "2026-01-07T10:00"},
                 [("first-review-booking", date(2026, 4, 8), 4, 0)],
                 id="first-review-a-week-late-counts-working-days"),
    pytest.param(ENG, "review", "2026-10-07T10:00", {"previous_conference": "2026-04-08T10:00"},
                 [], id="second-review-on-day-182"),
    pytest.param(ENG, "review", "2026-10-08T10:00", {"previous_conference": "2026-04-08T10:00"},
                 [("further-review-booking", date(2026, 10, 7), 1, 0)],
                 id="second-review-on-day-183"),
    pytest.param(ENG, "review", "2027-03-01T10:00", {"previous_conference": "2026-12-01T10:00",
                                                     "inquorate_conference": "2027-01-29T10:00"},
                 [("inquorate-rebooking", date(2027, 2, 28), 1, 0)],
                 id="inquorate-rebooked-after-a-month"),
    pytest.param(ENG, "initial", "2026-06-01T10:00", {}, [], id="no-anchor-nothing-checked"),
]


@pytest.mark.parametrize(("region", "kind", "conference", "anchors", "expected"), BOOKING_CASES)
def test_booking_breaches(
    region: str, kind: str, conference: str, anchors: dict[str, str],
    expected: list[tuple[str, date, int, int]],
) -> None:
    breaches = booking_breaches(
        defaults().rules, kind, london(conference),  # type: ignore[arg-type]
        {name: london(at) for name, at in anchors.items()}, calendar_for(region),
    )
    assert [(b.rule, b.deadline, b.working_days_late, b.working_days_early) for b in breaches] == expected
    for breach in breaches:
        assert breach.source == rule(breach.rule).source


def test_breach_names_its_source_and_description() -> None:
    [breach] = booking_breaches(
        defaults().rules, "initial", london("2026-04-21T10:00"),
        {"strategy_discussion": london("2026-03-26T11:00")}, calendar_for(ENG),
    )
    assert breach == Breach(
        rule="initial-conference-booking",
        source=rule("initial-conference-booking").source,
        description=rule("initial-conference-booking").description,
        deadline=date(2026, 4, 20),
        working_days_late=1,
    )
    assert breach.source.startswith("Darlington 004, Initial Child Protection Conference")


def test_disabled_booking_rule_is_not_checked(tmp_path: Path) -> None:
    config = load_rules(DEFAULTS, write(
        tmp_path, "local.toml", '[[rules]]\nname = "initial-conference-booking"\nenabled = false\n'
    ))
    breaches = booking_breaches(
        config.rules + config.disabled, "initial", london("2026-06-01T10:00"),
        {"strategy_discussion": london("2026-03-26T11:00")}, config.calendar,
    )
    assert breaches == []


def test_rules_skipped_for_want_of_an_anchor_are_listed() -> None:
    skipped = unchecked_booking_rules(
        defaults().rules, "review", {"previous_conference": london("2026-04-08T10:00")}
    )
    assert [r.name for r in skipped] == ["first-review-booking", "inquorate-rebooking"]


# -- properties of windows --------------------------------------------------------------------

anchors = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(anchor=anchors, offset=st.integers(-40, 40), unit=st.sampled_from(["working_days", "calendar_days", "months"]),
       kind=st.sampled_from(["no_later_than", "no_earlier_than", "within"]))
def test_windows_are_never_empty_and_end_at_end_of_day(
    anchor: datetime, offset: int, unit: str, kind: str
) -> None:
    window = window_for(make_rule(offset=offset, unit=unit, window=kind), anchor,
                        calendar_for(ENG), end_of_day=FIVE_PM)
    if window.earliest is not None and window.latest is not None:
        assert window.earliest <= window.latest
    if kind == "no_later_than":
        assert window.earliest is None and window.latest is not None
        assert window.latest.time() == FIVE_PM
    if kind == "no_earlier_than":
        assert window.latest is None and window.earliest is not None
        assert window.earliest.time() == time(0, 0)


@given(anchor=anchors, offset=st.integers(1, 40))
def test_sending_at_the_latest_moment_is_on_time_and_a_minute_later_is_late(
    anchor: datetime, offset: int
) -> None:
    shipped = make_rule(offset=offset)
    window = window_for(shipped, anchor, calendar_for(ENG), end_of_day=FIVE_PM)
    assert window.latest is not None
    assert lateness(shipped, window, window.latest, calendar_for(ENG)) == 0
    assert lateness(shipped, window, window.latest + timedelta(minutes=1), calendar_for(ENG)) == 1
