"""Reading circulation rules from TOML: the shipped defaults, then a local authority's override.

Read through the strict reader (``docgen.configuration.toml``): every problem is reported at
once as ``FILE: rules[N].KEY (rule 'NAME'): what is wrong``. ``parse_rules`` takes parsed TOML;
``load_rules`` reads the files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from docgen.configuration.toml import (
    INVALID,
    At,
    Check,
    Key,
    Problems,
    ValueCheck,
    check_keys,
    checked,
    read_table,
    read_toml,
)
from docgen.domain.calendar import DEFAULT_REGION, REGIONS, WorkingCalendar
from docgen.domain.circulation import (
    ANCHORS,
    BOOKING_DOCUMENT,
    CIRCULATED_KINDS,
    CONFERENCE_KINDS,
    DEFAULT_ZONE_NAME,
    RECIPIENT_GROUPS,
    UNITS,
    WINDOW_KINDS,
    CirculationRule,
    Window,
    window_for,
)
from docgen.errors import CirculationRuleError

REQUIRED_RULE_KEYS = (
    "name", "document", "audience", "anchor", "offset", "unit", "window", "source",
)
OPTIONAL_RULE_KEYS = ("conference_kinds", "description", "enabled")
CALENDAR_KEYS = ("region", "closures", "end_of_day", "timezone")
TOP_LEVEL_KEYS = ("calendar", "rules")

#: Every delivery docgen times by a configured rule, as (document, audience): each needs a rule in
#: the rules file for every kind of conference, enabled or (to say it is not circulated) not.
#: Invitations, guidance, the exclusion letter and report forms need none: docgen sends them
#: before the conference starts (``services/scheduling.py``, ``BEFORE_CONFERENCE``).
REQUIRED_TIMESCALES: tuple[tuple[str, str], ...] = (
    ("conference", "all_invited"),
    ("social_worker_report", "chair"),
    ("social_worker_report", "family"),
    ("social_worker_report", "excluded_family"),
    ("social_worker_report", "absent_invitees"),
    ("agency_report", "family"),
    ("exclusion_representation", "chair"),
    ("decisions_notice", "all_invited"),
    ("outline_plan", "all_invited"),
    ("conference_record", "attendees_and_invited"),
    ("record_amendments", "chair"),
    ("core_group", "core_group"),
    ("detailed_plan", "core_group"),
    ("discharge_notification", "ica_agencies"),
)
#: What exists only once the conference has met: a rule anchored on the conference cannot have it due before.
AFTER_CONFERENCE = frozenset({"decisions_notice", "outline_plan", "conference_record", "detailed_plan",
                              "record_amendments", "core_group"})
#: What the conference needs beforehand: a deadline anchored on the conference falls on or before it.
BEFORE_CONFERENCE = frozenset({"social_worker_report", "agency_report", "exclusion_representation",
                               "parent_invitation", "child_invitation", "professional_invitation",
                               "professional_guidance", "exclusion_letter"})
#: The longest offset in each unit: a year. Anything longer is a typing mistake, not a timescale.
MAX_OFFSET = {"working_days": 260, "calendar_days": 366, "months": 12}

DEFAULT_END_OF_DAY = time(17, 0)
#: A closure range longer than this is almost certainly a typing mistake in a year.
MAX_CLOSURE_RANGE_DAYS = 366

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HH_MM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
HEADING = "Circulation rules not loaded"


@dataclass(frozen=True)
class CirculationConfig:
    """Everything the rules file configures: the calendar, the end of the working day, the rules.

    ``rules`` holds the enabled rules in file order (defaults first, then rules the override
    added); ``disabled`` the rules an ``enabled = false`` switched off, kept for listing.
    """

    calendar: WorkingCalendar
    end_of_day: time
    zone: ZoneInfo
    rules: tuple[CirculationRule, ...]
    disabled: tuple[CirculationRule, ...] = field(default=())

    def rule(self, name: str) -> CirculationRule:
        """The enabled or disabled rule called ``name``."""
        for rule in (*self.rules, *self.disabled):
            if rule.name == name:
                return rule
        raise CirculationRuleError(f"There is no circulation rule named {name!r}.")

    def window_for(self, rule: CirculationRule, anchor_at: datetime) -> Window:
        """``circulation.window_for`` with this configuration's calendar, zone and end of day."""
        return window_for(
            rule, anchor_at, self.calendar, end_of_day=self.end_of_day, zone=self.zone
        )


def load_rules(
    default_path: str | Path, override_path: str | Path | None = None
) -> CirculationConfig:
    """Read the default rules file and, if given, a local override, and validate both.

    Raises ``CirculationRuleError`` listing every problem in both files.
    """
    problems = Problems()
    default = read_toml(Path(default_path), problems)
    override = read_toml(Path(override_path), problems) if override_path is not None else None
    problems.raise_if_any(HEADING, CirculationRuleError)
    if default is None:  # read_toml reports whenever it gives None; never go on without rules
        raise CirculationRuleError(f"{HEADING}: {default_path} could not be read")
    return parse_rules(
        default,
        default_source=str(default_path),
        override=override,
        override_source=str(override_path),
    )


def parse_rules(
    default: Mapping[str, Any],
    *,
    default_source: str = "defaults",
    override: Mapping[str, Any] | None = None,
    override_source: str = "override",
) -> CirculationConfig:
    """Validate parsed TOML (defaults, then an optional override) into a ``CirculationConfig``.

    In the override, a ``[[rules]]`` entry whose ``name`` matches a default rule replaces only
    the fields it gives; one with a new name adds a rule and must give every required field.
    ``[calendar]`` keys in the override replace the default's keys one by one.
    """
    problems = Problems()
    calendar_raw: dict[str, tuple[Any, At]] = {}
    merged: dict[str, _Entry] = {}

    files = [(default, default_source)]
    if override is not None:
        files.append((override, override_source))
    for position, (document, source) in enumerate(files):
        at = At(source, problems)
        calendar_table, rule_tables = _split(document, at)
        for key, value in calendar_table.items():
            calendar_raw[key] = (value, at.key("calendar").key(key))
        seen: dict[str, int] = {}
        for index, table in enumerate(rule_tables):
            entry = _read_rule_table(table, at.key("rules").item(index))
            if entry is None:
                continue
            name = entry.fields.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                entry.where.key("name").report(
                    f"duplicate of rules[{seen[name]}]; each rule needs a unique name"
                )
                continue
            seen[name] = index
            if name in merged:
                merged[name].fields.update(entry.fields)
                merged[name].invalid.update(entry.invalid)
                merged[name].touched_by = entry.where
            else:
                entry.added_by_override = position > 0
                merged[name] = entry

    calendar, end_of_day, zone = _build_calendar(calendar_raw)
    rules = [rule for entry in merged.values() if (rule := _build_rule(entry))]
    if not problems:  # what is missing is worth saying only once what is there is right
        sources = default_source if override is None else f"{default_source} with {override_source}"
        _check_coverage(rules, At(sources, problems))
    problems.raise_if_any(HEADING, CirculationRuleError)
    if calendar is None or end_of_day is None or zone is None:
        raise CirculationRuleError(f"{HEADING}: the calendar could not be read")  # reported above
    return CirculationConfig(
        calendar=calendar,
        end_of_day=end_of_day,
        zone=zone,
        rules=tuple(rule for rule in rules if rule.enabled),
        disabled=tuple(rule for rule in rules if not rule.enabled),
    )


@dataclass
class _Entry:
    """A rule's validated fields so far, and where to point a reader at it."""

    fields: dict[str, Any]
    invalid: set[str]
    where: At
    touched_by: At
    added_by_override: bool = False


def _split(document: Mapping[str, Any], at: At) -> tuple[Mapping[str, Any], Sequence[Any]]:
    known = check_keys(document, TOP_LEVEL_KEYS, at)
    calendar = known.get("calendar", {})
    if not isinstance(calendar, Mapping):
        at.key("calendar").report("must be a table ([calendar])")
        calendar = {}
    # Only the keys here; their values are checked once the override has replaced some.
    calendar = check_keys(calendar, CALENDAR_KEYS, at.key("calendar"))
    rules = known.get("rules", [])
    if not isinstance(rules, list):
        at.key("rules").report("must be an array of tables ([[rules]])")
        rules = []
    return calendar, rules


def _read_rule_table(table: Any, at: At) -> _Entry | None:
    name = table.get("name") if isinstance(table, Mapping) else None
    where = at.named(f"rule {name!r}") if isinstance(name, str) else at
    if isinstance(table, Mapping) and "name" not in table:
        where.key("name").report("missing; every rule needs a unique name")
    # Every key is optional here: an override's entry gives only what it changes, so missing
    # keys are found once the files are merged.
    checked_table = read_table(table, _RULE_KEYS, where, shape="a table ([[rules]])")
    if checked_table is None:
        return None
    fields = checked_table.values
    if "name" not in fields:
        # Without a usable name the entry can be neither merged nor reported later: say now
        # what else it lacks.
        for key in REQUIRED_RULE_KEYS[1:]:
            if key not in table:
                where.key(key).report("missing")
        return None
    return _Entry(fields=fields, invalid=set(checked_table.failed), where=where, touched_by=where)


def _build_rule(entry: _Entry) -> CirculationRule | None:
    fields = entry.fields
    missing = [key for key in REQUIRED_RULE_KEYS if key not in fields and key not in entry.invalid]
    hint = (
        "; an override adds a rule under a name no default rule has: check the name if you "
        "meant to change a default rule"
        if entry.added_by_override
        else ""
    )
    for key in missing:
        entry.touched_by.key(key).report(
            f"missing; every rule needs {', '.join(REQUIRED_RULE_KEYS)}{hint}"
        )
    if missing or entry.invalid:
        return None
    if fields["document"] == BOOKING_DOCUMENT and fields["anchor"] == "conference":
        entry.touched_by.key("anchor").report(
            "a booking rule (document 'conference') cannot be anchored on the conference it "
            "books; use e.g. 'strategy_discussion'"
        )
        return None
    problem = offset_problem(fields["document"], fields["anchor"], fields["offset"], fields["unit"], fields["window"])
    if problem is not None:
        entry.touched_by.key("offset").report(problem)
        return None
    return CirculationRule(**fields)


def offset_problem(document: str, anchor: str, offset: int, unit: str, window: str) -> str | None:
    """What is wrong with a rule's offset, if anything: longer than a year, or pointing the wrong way
    (a report due after the conference, the record due before it)."""
    longest = MAX_OFFSET[unit]
    if abs(offset) > longest:
        return (f"{offset} {unit.replace('_', ' ')} is more than a year; an offset is at most {longest} "
                f"{unit.replace('_', ' ')} either way")
    what = document.replace("_", " ")
    if anchor == "conference" and document in AFTER_CONFERENCE and offset < 0:
        return (f"{offset} would make the {what} due before the conference, where it is made; "
                "a rule anchored on the conference needs an offset of 0 or more for it")
    if anchor == "conference" and document in BEFORE_CONFERENCE and window == "no_later_than" and offset > 0:
        return (f"{offset} would let the {what} arrive after the conference it is for; a deadline "
                "anchored on the conference needs an offset of 0 or less (e.g. -3 for 3 days before)")
    return None


def _check_coverage(rules: Sequence[CirculationRule], at: At) -> None:
    """Every timescale docgen needs has a rule for every kind of conference, enabled or switched off."""
    if not rules:
        at.key("rules").report("there are no rules; the file must give a rule for each document docgen "
                               "circulates (see docs/circulation-rules.md), or it would send nothing on time")
        return
    for document, audience in REQUIRED_TIMESCALES:
        covered = {kind for rule in rules if (rule.document, rule.audience) == (document, audience)
                   for kind in rule.conference_kinds}
        uncovered = [kind for kind in CONFERENCE_KINDS if kind not in covered]
        if uncovered:
            what = "booking the conference" if document == BOOKING_DOCUMENT else f"{document} to {audience}"
            where = "any" if len(uncovered) == len(CONFERENCE_KINDS) else ", ".join(uncovered)
            at.key("rules").report(
                f"no rule for {what} at {where} conferences; add one, or add one with "
                "enabled = false to say it is not circulated")


def _build_calendar(
    raw: Mapping[str, tuple[Any, At]],
) -> tuple[WorkingCalendar | None, time | None, ZoneInfo | None]:
    values: dict[str, Any] = {}
    ok = True
    for key, (value, at) in raw.items():
        converted = _CALENDAR_CHECKS[key](value, at)
        if converted is INVALID:
            ok = False
        else:
            values[key] = converted
    if not ok:
        return None, None, None
    calendar = WorkingCalendar(
        region=values.get("region", DEFAULT_REGION), closures=values.get("closures", frozenset())
    )
    zone = values.get("timezone") or ZoneInfo(DEFAULT_ZONE_NAME)
    return calendar, values.get("end_of_day", DEFAULT_END_OF_DAY), zone


# -- field checks ----------------------------------------------------------------------------


def _one_of(allowed: Sequence[str]) -> ValueCheck:
    def check(value: Any) -> tuple[Any, str | None]:
        if isinstance(value, str) and value in allowed:
            return value, None
        return None, f"{value!r} is not one of: {', '.join(allowed)}"

    return check


def _slug(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and _SLUG.match(value):
        return value, None
    return None, f"{value!r} is not a slug (lower-case letters, digits and single hyphens)"


def _integer(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    return None, f"{value!r} is not a whole number"


def _boolean(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return value, None
    return None, f"{value!r} is not true or false"


def _text(*, required: bool) -> ValueCheck:
    def check(value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, f"{value!r} is not a string"
        if required and not value.strip():
            return None, "must not be empty"
        return value, None

    return check


def _kinds(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not value:
        return None, (
            f"{value!r} is not a non-empty list; leave the field out to apply to every kind"
        )
    wrong = [item for item in value if item not in CONFERENCE_KINDS]
    if wrong:
        return None, f"{wrong!r} not among: {', '.join(CONFERENCE_KINDS)}"
    if len(set(value)) != len(value):
        return None, f"{value!r} lists a kind twice"
    return frozenset(value), None


def _region(value: Any) -> tuple[Any, str | None]:
    return _one_of(tuple(REGIONS))(value)


def _a_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _closures(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list):
        return None, f"{value!r} is not a list of dates or {{from, to}} ranges"
    days: set[date] = set()
    wrong: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            keys = set(item)
            first, last = _a_date(item.get("from")), _a_date(item.get("to"))
            if keys != {"from", "to"} or first is None or last is None:
                wrong.append(f"[{index}] needs exactly 'from' and 'to' dates (YYYY-MM-DD)")
            elif last < first:
                wrong.append(f"[{index}] ends ({last}) before it starts ({first})")
            elif (last - first).days >= MAX_CLOSURE_RANGE_DAYS:
                wrong.append(f"[{index}] spans more than {MAX_CLOSURE_RANGE_DAYS} days")
            else:
                days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
        else:
            day = _a_date(item)
            if day is None:
                wrong.append(f"[{index}] {item!r} is not a date (YYYY-MM-DD)")
            else:
                days.add(day)
    if wrong:
        return None, "; ".join(wrong)
    return frozenset(days), None


def _end_of_day(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, time) and value.tzinfo is None:
        return value, None
    if isinstance(value, str) and _HH_MM.match(value):
        return time.fromisoformat(value), None
    return None, f"{value!r} is not a local time of day as \"HH:MM\", e.g. \"17:00\""


def _timezone(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and value:
        try:
            return ZoneInfo(value), None
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return None, f"{value!r} is not a known time zone, e.g. \"{DEFAULT_ZONE_NAME}\""


_RULE_CHECKS: Mapping[str, ValueCheck] = {
    "name": _slug,
    "document": _one_of(CIRCULATED_KINDS),
    "audience": _one_of(RECIPIENT_GROUPS),
    "anchor": _one_of(ANCHORS),
    "offset": _integer,
    "unit": _one_of(UNITS),
    "window": _one_of(WINDOW_KINDS),
    "source": _text(required=True),
    "conference_kinds": _kinds,
    "description": _text(required=False),
    "enabled": _boolean,
}
# Listed in this order when a key is unknown: the required keys first.
_RULE_KEYS: Mapping[str, Key] = {
    key: Key(checked(_RULE_CHECKS[key])) for key in (*REQUIRED_RULE_KEYS, *OPTIONAL_RULE_KEYS)
}

_CALENDAR_CHECKS: Mapping[str, Check] = {
    "region": checked(_region),
    "closures": checked(_closures),
    "end_of_day": checked(_end_of_day),
    "timezone": checked(_timezone),
}
