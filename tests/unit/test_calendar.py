"""Working-day calendar: bank holidays per region, closures, arithmetic and its properties."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.domain.calendar import REGIONS, WorkingCalendar, add_months, closure_range
from docgen.errors import CalendarError

ENG, SCT, NIR = "england-and-wales", "scotland", "northern-ireland"


@functools.cache
def calendar_for(region: str) -> WorkingCalendar:
    return WorkingCalendar(region=region)


def d(text: str) -> date:
    return date.fromisoformat(text)


def dates(*texts: str) -> frozenset[date]:
    return frozenset(d(text) for text in texts)


# Bank holidays falling on weekdays, substitutes included, checked against gov.uk's published
# lists as well as the holidays package. Scotland 2026-06-15 is the one-off World Cup bank
# holiday proclaimed by the Privy Council in February 2026.
HOLIDAYS_BY_REGION_AND_YEAR = [
    pytest.param(
        ENG,
        2026,
        dates(
            "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
            "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
        ),
        id="england-2026-boxing-day-substitute-28-dec",
    ),
    pytest.param(
        ENG,
        2027,
        dates(
            "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03",
            "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
        ),
        id="england-2027-christmas-and-boxing-day-substitutes",
    ),
    pytest.param(
        SCT,
        2026,
        dates(
            "2026-01-01", "2026-01-02", "2026-04-03", "2026-05-04", "2026-05-25",
            "2026-06-15", "2026-08-03", "2026-11-30", "2026-12-25", "2026-12-28",
        ),
        id="scotland-2026-no-easter-monday-st-andrew-on-monday",
    ),
    pytest.param(
        SCT,
        2027,
        dates(
            "2027-01-01", "2027-01-04", "2027-03-26", "2027-05-03", "2027-05-31",
            "2027-08-02", "2027-11-30", "2027-12-27", "2027-12-28",
        ),
        id="scotland-2027-2-january-substitute-4-january",
    ),
    pytest.param(
        NIR,
        2026,
        dates(
            "2026-01-01", "2026-03-17", "2026-04-03", "2026-04-06", "2026-05-04",
            "2026-05-25", "2026-07-13", "2026-08-31", "2026-12-25", "2026-12-28",
        ),
        id="northern-ireland-2026-boyne-substitute-13-july",
    ),
    pytest.param(
        NIR,
        2027,
        dates(
            "2027-01-01", "2027-03-17", "2027-03-26", "2027-03-29", "2027-05-03",
            "2027-05-31", "2027-07-12", "2027-08-30", "2027-12-27", "2027-12-28",
        ),
        id="northern-ireland-2027",
    ),
    pytest.param(
        SCT,
        2025,
        dates(
            "2025-01-01", "2025-01-02", "2025-04-18", "2025-05-05", "2025-05-26",
            "2025-08-04", "2025-12-01", "2025-12-25", "2025-12-26",
        ),
        id="scotland-2025-st-andrew-sunday-substitute-1-december",
    ),
]


@pytest.mark.parametrize(("region", "year", "expected"), HOLIDAYS_BY_REGION_AND_YEAR)
def test_non_working_weekdays_match_published_bank_holidays(
    region: str, year: int, expected: frozenset[date]
) -> None:
    assert calendar_for(region).non_working_weekdays(year) == expected


WORKING_DAY_CASES = [
    pytest.param(ENG, "2026-04-06", False, id="easter-monday-2026-england"),
    pytest.param(SCT, "2026-04-06", True, id="easter-monday-2026-works-in-scotland"),
    pytest.param(NIR, "2026-04-06", False, id="easter-monday-2026-northern-ireland"),
    pytest.param(SCT, "2027-03-29", True, id="easter-monday-2027-works-in-scotland"),
    pytest.param(ENG, "2026-01-02", True, id="2-january-works-in-england"),
    pytest.param(SCT, "2026-01-02", False, id="2-january-holiday-in-scotland"),
    pytest.param(ENG, "2026-11-30", True, id="st-andrew-works-in-england"),
    pytest.param(SCT, "2025-12-01", False, id="st-andrew-2025-substitute-scotland"),
    pytest.param(ENG, "2025-12-01", True, id="st-andrew-2025-substitute-not-england"),
    pytest.param(ENG, "2026-03-17", True, id="st-patrick-works-in-england"),
    pytest.param(NIR, "2026-03-17", False, id="st-patrick-2026-northern-ireland"),
    pytest.param(NIR, "2026-07-13", False, id="boyne-2026-substitute-monday"),
    pytest.param(ENG, "2026-07-13", True, id="boyne-substitute-works-in-england"),
    pytest.param(SCT, "2026-08-03", False, id="scottish-summer-holiday-first-monday-august"),
    pytest.param(SCT, "2026-08-31", True, id="english-summer-holiday-works-in-scotland"),
    pytest.param(ENG, "2026-12-26", False, id="boxing-day-saturday-is-weekend"),
    pytest.param(ENG, "2026-12-29", True, id="29-december-2026-works"),
    pytest.param(ENG, "2027-12-27", False, id="christmas-2027-substitute"),
    pytest.param(NIR, "2027-12-28", False, id="boxing-day-2027-substitute-northern-ireland"),
    pytest.param(SCT, "2026-06-15", False, id="scotland-world-cup-bank-holiday-2026"),
    pytest.param(ENG, "2026-06-15", True, id="world-cup-holiday-not-in-england"),
]


@pytest.mark.parametrize(("region", "day", "expected"), WORKING_DAY_CASES)
def test_is_working_day(region: str, day: str, expected: bool) -> None:
    assert calendar_for(region).is_working_day(d(day)) is expected


ADD_CASES = [
    pytest.param(ENG, "2026-12-24", 1, "2026-12-29", id="christmas-2026-england"),
    pytest.param(ENG, "2026-12-29", -1, "2026-12-24", id="christmas-2026-england-backwards"),
    pytest.param(ENG, "2025-12-31", 1, "2026-01-02", id="new-year-2026-england"),
    pytest.param(SCT, "2025-12-31", 1, "2026-01-05", id="new-year-2026-scotland-2-january"),
    pytest.param(ENG, "2026-12-31", 1, "2027-01-04", id="new-year-2027-england"),
    pytest.param(SCT, "2026-12-31", 1, "2027-01-05", id="new-year-2027-scotland-substitute"),
    pytest.param(NIR, "2026-12-31", 1, "2027-01-04", id="new-year-2027-northern-ireland"),
    pytest.param(ENG, "2026-04-02", 1, "2026-04-07", id="easter-2026-england"),
    pytest.param(SCT, "2026-04-02", 1, "2026-04-06", id="easter-2026-scotland"),
    pytest.param(NIR, "2026-04-02", 1, "2026-04-07", id="easter-2026-northern-ireland"),
    pytest.param(ENG, "2027-03-25", 1, "2027-03-30", id="easter-2027-england"),
    pytest.param(SCT, "2027-03-25", 1, "2027-03-29", id="easter-2027-scotland"),
    pytest.param(NIR, "2027-03-25", 1, "2027-03-30", id="easter-2027-northern-ireland"),
    pytest.param(ENG, "2026-03-26", 15, "2026-04-20", id="15-wd-across-easter-2026-england"),
    pytest.param(SCT, "2026-03-26", 15, "2026-04-17", id="15-wd-across-easter-2026-scotland"),
    pytest.param(NIR, "2026-03-26", 15, "2026-04-20", id="15-wd-across-easter-2026-n-ireland"),
    pytest.param(SCT, "2026-11-27", 1, "2026-12-01", id="st-andrew-2026-monday-scotland"),
    pytest.param(ENG, "2026-11-27", 1, "2026-11-30", id="st-andrew-2026-england"),
    pytest.param(SCT, "2025-11-28", 1, "2025-12-02", id="st-andrew-2025-substitute-scotland"),
    pytest.param(ENG, "2025-11-28", 1, "2025-12-01", id="st-andrew-2025-england"),
    pytest.param(SCT, "2027-11-29", 1, "2027-12-01", id="st-andrew-2027-tuesday-scotland"),
    pytest.param(NIR, "2026-03-16", 1, "2026-03-18", id="st-patrick-2026-northern-ireland"),
    pytest.param(ENG, "2026-03-16", 1, "2026-03-17", id="st-patrick-2026-england"),
    pytest.param(NIR, "2027-03-16", 1, "2027-03-18", id="st-patrick-2027-northern-ireland"),
    pytest.param(NIR, "2026-07-10", 1, "2026-07-14", id="boyne-2026-substitute-n-ireland"),
    pytest.param(ENG, "2026-07-10", 1, "2026-07-13", id="boyne-2026-england"),
    pytest.param(NIR, "2027-07-09", 1, "2027-07-13", id="boyne-2027-northern-ireland"),
    pytest.param(ENG, "2026-05-01", 1, "2026-05-05", id="early-may-2026-england"),
    pytest.param(SCT, "2026-05-01", 1, "2026-05-05", id="early-may-2026-scotland"),
    pytest.param(NIR, "2026-05-01", 1, "2026-05-05", id="early-may-2026-northern-ireland"),
    pytest.param(ENG, "2027-04-30", 1, "2027-05-04", id="early-may-2027-england"),
    pytest.param(ENG, "2026-05-22", 1, "2026-05-26", id="spring-2026-england"),
    pytest.param(SCT, "2027-05-28", 1, "2027-06-01", id="spring-2027-scotland"),
    pytest.param(NIR, "2027-05-28", 1, "2027-06-01", id="spring-2027-northern-ireland"),
    pytest.param(ENG, "2026-08-28", 1, "2026-09-01", id="summer-2026-england"),
    pytest.param(SCT, "2026-08-28", 1, "2026-08-31", id="summer-2026-england-date-scotland"),
    pytest.param(SCT, "2026-07-31", 1, "2026-08-04", id="summer-2026-scotland"),
    pytest.param(ENG, "2026-07-31", 1, "2026-08-03", id="summer-2026-scotland-date-england"),
    pytest.param(ENG, "2027-08-27", 1, "2027-08-31", id="summer-2027-england"),
    pytest.param(SCT, "2027-07-30", 1, "2027-08-03", id="summer-2027-scotland"),
    pytest.param(SCT, "2026-06-12", 1, "2026-06-16", id="world-cup-2026-scotland"),
    pytest.param(ENG, "2027-12-24", 1, "2027-12-29", id="christmas-2027-substitutes-england"),
    pytest.param(SCT, "2027-12-24", 1, "2027-12-29", id="christmas-2027-substitutes-scotland"),
    pytest.param(NIR, "2027-12-29", -1, "2027-12-24", id="christmas-2027-n-ireland-backwards"),
    pytest.param(ENG, "2026-12-21", 10, "2027-01-07", id="10-wd-over-new-year-england"),
    pytest.param(SCT, "2026-12-21", 10, "2027-01-08", id="10-wd-over-new-year-scotland"),
    pytest.param(ENG, "2026-12-26", 1, "2026-12-29", id="from-a-saturday-holiday"),
    pytest.param(ENG, "2026-12-26", 0, "2026-12-26", id="zero-leaves-a-weekend-day-alone"),
    pytest.param(ENG, "2027-01-03", -1, "2026-12-31", id="back-from-a-sunday"),
    pytest.param(ENG, "2026-11-25", -2, "2026-11-23", id="two-before-a-wednesday"),
    pytest.param(ENG, "2026-01-05", -260, "2024-12-20", id="260-back-over-2025s-253-days"),
]


@pytest.mark.parametrize(("region", "start", "n", "expected"), ADD_CASES)
def test_add_working_days(region: str, start: str, n: int, expected: str) -> None:
    assert calendar_for(region).add_working_days(d(start), n) == d(expected)


BETWEEN_CASES = [
    pytest.param(ENG, "2026-12-21", "2027-01-04", 7, id="christmas-fortnight-england"),
    pytest.param(SCT, "2026-12-21", "2027-01-04", 6, id="christmas-fortnight-scotland"),
    pytest.param(NIR, "2026-12-21", "2027-01-04", 7, id="christmas-fortnight-n-ireland"),
    pytest.param(ENG, "2027-01-04", "2026-12-21", -7, id="backwards-counts-b-not-a"),
    pytest.param(SCT, "2027-01-04", "2026-12-21", -7, id="backwards-scotland-excludes-4-jan"),
    pytest.param(ENG, "2026-11-25", "2026-11-25", 0, id="same-day"),
    pytest.param(ENG, "2026-05-02", "2026-05-04", 0, id="saturday-to-early-may-holiday"),
    pytest.param(ENG, "2026-05-02", "2026-05-05", 1, id="saturday-to-tuesday-after-holiday"),
    pytest.param(ENG, "2027-12-24", "2027-12-29", 1, id="christmas-2027"),
    pytest.param(ENG, "2026-03-26", "2026-04-20", 15, id="easter-2026-england"),
    pytest.param(SCT, "2026-03-26", "2026-04-20", 16, id="easter-2026-scotland"),
]


@pytest.mark.parametrize(("region", "a", "b", "expected"), BETWEEN_CASES)
def test_working_days_between(region: str, a: str, b: str, expected: int) -> None:
    assert calendar_for(region).working_days_between(d(a), d(b)) == expected


STEP_CASES = [
    pytest.param("roll_forward", ENG, "2026-12-26", "2026-12-29", id="roll-forward-over-christmas"),
    pytest.param("roll_forward", ENG, "2026-12-29", "2026-12-29", id="roll-forward-working-day"),
    pytest.param("roll_backward", ENG, "2026-12-28", "2026-12-24", id="roll-backward-christmas"),
    pytest.param("next_working_day", ENG, "2026-12-29", "2026-12-30", id="next-after-working"),
    pytest.param("previous_working_day", ENG, "2027-01-04", "2026-12-31", id="previous-england"),
    pytest.param("previous_working_day", SCT, "2027-01-05", "2026-12-31", id="previous-scotland"),
    pytest.param("next_working_day", SCT, "2027-11-29", "2027-12-01", id="next-over-st-andrew"),
]


@pytest.mark.parametrize(("method", "region", "day", "expected"), STEP_CASES)
def test_single_steps(method: str, region: str, day: str, expected: str) -> None:
    assert getattr(calendar_for(region), method)(d(day)) == d(expected)


SHUTDOWN = closure_range(d("2026-12-29"), d("2026-12-31"))

CLOSURE_CASES = [
    pytest.param(SHUTDOWN, "2026-12-24", 1, "2027-01-04", id="christmas-shutdown-skipped"),
    pytest.param(SHUTDOWN, "2027-01-04", -1, "2026-12-24", id="christmas-shutdown-backwards"),
    pytest.param(
        closure_range(d("2026-12-29"), d("2027-01-08")),
        "2026-12-24",
        1,
        "2027-01-11",
        id="shutdown-spanning-new-year",
    ),
    pytest.param(dates("2026-11-24"), "2026-11-25", -2, "2026-11-20", id="single-closure-day"),
    pytest.param(dates("2026-11-21"), "2026-11-25", -2, "2026-11-23", id="weekend-closure-no-effect"),
]


@pytest.mark.parametrize(("closures", "start", "n", "expected"), CLOSURE_CASES)
def test_local_closures_are_skipped(
    closures: frozenset[date], start: str, n: int, expected: str
) -> None:
    calendar = WorkingCalendar(region=ENG, closures=closures)
    assert calendar.add_working_days(d(start), n) == d(expected)


def test_closures_count_in_working_days_between() -> None:
    calendar = WorkingCalendar(region=ENG, closures=SHUTDOWN)
    assert calendar.is_working_day(d("2026-12-30")) is False
    assert calendar.working_days_between(d("2026-12-24"), d("2027-01-04")) == 1


def test_closure_range_is_inclusive_and_checks_order() -> None:
    assert closure_range(d("2026-12-30"), d("2027-01-01")) == dates(
        "2026-12-30", "2026-12-31", "2027-01-01"
    )
    with pytest.raises(CalendarError, match="before it starts"):
        closure_range(d("2027-01-01"), d("2026-12-30"))


def test_unknown_region_names_the_allowed_values() -> None:
    with pytest.raises(CalendarError) as caught:
        WorkingCalendar(region="wales")
    message = str(caught.value)
    assert "'wales'" in message
    assert "england-and-wales, scotland, northern-ireland" in message


def test_arithmetic_beyond_supported_dates_is_a_calendar_error() -> None:
    calendar = calendar_for(ENG)
    with pytest.raises(CalendarError, match="after the last supported date"):
        calendar.add_working_days(date(9999, 12, 31), 1)
    with pytest.raises(CalendarError, match="before the first supported date"):
        calendar.add_working_days(date(1, 1, 1), -1)


MONTH_CASES = [
    pytest.param("2026-11-30", 3, "2027-02-28", id="30-nov-plus-3-clamps-to-28-feb"),
    pytest.param("2027-11-30", 3, "2028-02-29", id="30-nov-plus-3-leap-year-29-feb"),
    pytest.param("2027-01-31", 1, "2027-02-28", id="31-jan-plus-1"),
    pytest.param("2026-01-07", 3, "2026-04-07", id="no-clamp-needed"),
    pytest.param("2026-12-15", 1, "2027-01-15", id="over-the-year-end"),
    pytest.param("2027-03-31", -1, "2027-02-28", id="backwards-clamps"),
    pytest.param("2026-05-31", -12, "2025-05-31", id="a-year-back"),
]


@pytest.mark.parametrize(("start", "months", "expected"), MONTH_CASES)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


def test_holiday_years_are_built_lazily_and_once() -> None:
    calendar = WorkingCalendar(region=NIR)
    assert calendar._years == {}
    calendar.add_working_days(d("2026-07-10"), 1)
    assert set(calendar._years) == {2026}
    first = calendar._years[2026]
    calendar.is_working_day(d("2026-12-28"))
    assert calendar._years[2026] is first


def test_calendars_compare_by_region_and_closures_not_cache() -> None:
    warm = WorkingCalendar(region=SCT, closures=SHUTDOWN)
    warm.is_working_day(d("2026-11-30"))
    assert warm == WorkingCalendar(region=SCT, closures=SHUTDOWN)
    assert hash(warm) == hash(WorkingCalendar(region=SCT, closures=SHUTDOWN))


# -- properties -------------------------------------------------------------------------------

regions = st.sampled_from(sorted(REGIONS))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
steps = st.integers(min_value=-400, max_value=400)
nonzero_steps = steps.filter(lambda n: n != 0)
closure_sets = st.frozensets(
    st.dates(min_value=date(2025, 6, 1), max_value=date(2028, 6, 30)), max_size=25
)


def reference_is_working(region: str, closures: frozenset[date], day: date) -> bool:
    """An independent oracle straight from the holidays package."""
    bank = holidays.country_holidays("GB", subdiv=REGIONS[region], years=day.year)
    return day.weekday() < 5 and day not in bank and day not in closures


def reference_add(calendar: WorkingCalendar, day: date, n: int) -> date:
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if calendar.is_working_day(day):
            remaining -= 1
    return day


@given(region=regions, closures=closure_sets, day=st.dates(date(2025, 1, 1), date(2028, 12, 31)))
def test_is_working_day_agrees_with_the_holidays_package(
    region: str, closures: frozenset[date], day: date
) -> None:
    calendar = WorkingCalendar(region=region, closures=closures)
    assert calendar.is_working_day(day) is reference_is_working(region, closures, day)


@given(region=regions, day=days, n=nonzero_steps)
def test_adding_nonzero_days_lands_on_a_working_day(region: str, day: date, n: int) -> None:
    assert calendar_for(region).is_working_day(calendar_for(region).add_working_days(day, n))


@settings(max_examples=200)
@given(region=regions, closures=closure_sets, day=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
       n=st.integers(-60, 60))
def test_add_matches_stepping_one_day_at_a_time(
    region: str, closures: frozenset[date], day: date, n: int
) -> None:
    calendar = WorkingCalendar(region=region, closures=closures)
    assert calendar.add_working_days(day, n) == reference_add(calendar, day, n)


@given(region=regions, day=days, n=steps)
def test_between_inverts_add(region: str, day: date, n: int) -> None:
    calendar = calendar_for(region)
    assert calendar.working_days_between(day, calendar.add_working_days(day, n)) == n


@given(region=regions, a=days, b=days)
def test_add_inverts_between_for_working_days(region: str, a: date, b: date) -> None:
    calendar = calendar_for(region)
    target = calendar.roll_forward(b)
    assert calendar.add_working_days(a, calendar.working_days_between(a, target)) == target


@given(region=regions, a=days, b=days)
def test_between_counts_working_days_excluding_a_including_b(
    region: str, a: date, b: date
) -> None:
    calendar = calendar_for(region)
    low, high = min(a, b), max(a, b)
    span = [low + timedelta(days=i) for i in range((high - low).days + 1)]
    if b >= a:
        expected = sum(1 for x in span if x != a and calendar.is_working_day(x))
    else:
        expected = -sum(1 for x in span if x != a and calendar.is_working_day(x))
    assert calendar.working_days_between(a, b) == expected


@given(region=regions, day=days, n=nonzero_steps)
def test_there_and_back_returns_to_the_rolled_date(region: str, day: date, n: int) -> None:
    calendar = calendar_for(region)
    back = calendar.add_working_days(calendar.add_working_days(day, n), -n)
    # Stepping away first passes the non-working day, so the return lands on the working day on
    # the near side of it: before it when we went forwards, after it when we went backwards.
    expected = calendar.roll_backward(day) if n > 0 else calendar.roll_forward(day)
    assert back == expected
    if calendar.is_working_day(day):
        assert back == day


@given(region=regions, day=days, n=steps, m=steps)
def test_add_is_monotonic_in_n(region: str, day: date, n: int, m: int) -> None:
    calendar = calendar_for(region)
    low, high = sorted((n, m))
    if low == high:
        return
    assert calendar.add_working_days(day, low) < calendar.add_working_days(day, high)


@given(region=regions, a=days, b=days, n=nonzero_steps)
def test_add_is_monotonic_in_the_start_date(region: str, a: date, b: date, n: int) -> None:
    calendar = calendar_for(region)
    early, late = sorted((a, b))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)


@given(region=regions, a=days, b=days, c=days)
def test_between_is_monotonic_in_the_end_date(region: str, a: date, b: date, c: date) -> None:
    calendar = calendar_for(region)
    near, far = sorted((b, c))
    assert calendar.working_days_between(a, near) <= calendar.working_days_between(a, far)
