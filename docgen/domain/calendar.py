"""Working-day arithmetic for conference timescales: weekdays minus bank holidays and closures.

Pure logic: dates in, dates out. The caller turns datetimes into local dates (Europe/London) and
supplies "today"; nothing here reads a clock or a file.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from docgen.errors import CalendarError

#: Region names accepted in configuration, mapped to the ``holidays`` package's UK subdivision.
#: England and Wales share their bank holidays, so one region covers both.
REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "england-and-wales": "ENG",
        "scotland": "SCT",
        "northern-ireland": "NIR",
    }
)

DEFAULT_REGION = "england-and-wales"
LONDON = ZoneInfo("Europe/London")  # the zone every conference service in scope works in

_DAYS_PER_WEEK = 7
_WEEKDAYS_PER_WEEK = 5


@dataclass(frozen=True)
class _YearHolidays:
    """Non-working weekdays of one year, as a set for lookups and a sorted tuple for counting."""

    days: frozenset[date]
    ordered: tuple[date, ...]


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days: Monday to Friday, minus the region's bank holidays, minus local closures.

    Bank holidays come from the ``holidays`` package and include substitute days (a holiday
    falling at a weekend moves to the next free weekday). Each year's holidays are built the
    first time a date in that year is asked about and kept on this instance, so build one
    calendar per process or per dispatch pass and reuse it; instances are immutable to callers
    and safe to share between threads (a race only builds a year twice).

    Conventions, used by every method:

    * ``add_working_days(d, n)`` with ``n > 0`` returns the ``n``-th working day strictly after
      ``d``; with ``n < 0`` the ``|n|``-th working day strictly before ``d``; ``n == 0`` returns
      ``d`` unchanged even when ``d`` is not a working day. ``d`` itself never counts.
    * ``working_days_between(a, b)`` counts the working days that lie between ``a`` and ``b``
      excluding ``a`` and including ``b``: positive when ``b`` is after ``a``, negative when
      before, 0 when equal. So ``add_working_days(a, working_days_between(a, b)) == b`` whenever
      ``b`` is a working day.
    """

    region: str = DEFAULT_REGION
    closures: frozenset[date] = frozenset()
    _years: dict[int, _YearHolidays] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            allowed = ", ".join(REGIONS)
            raise CalendarError(
                f"Unknown calendar region {self.region!r}; use one of: {allowed}."
            )
        # Accept any iterable of dates from callers but store an immutable, hashable set.
        closures = self.closures
        if not isinstance(closures, frozenset):
            object.__setattr__(self, "closures", frozenset(closures))
        for day in self.closures:
            if not isinstance(day, date):
                raise CalendarError(f"Closure {day!r} is not a date.")

    # -- lookups -----------------------------------------------------------------------------

    def non_working_weekdays(self, year: int) -> frozenset[date]:
        """Weekdays in ``year`` that are not working days: bank holidays and closure days."""
        return self._year(year).days

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a weekday that is neither a bank holiday nor a closure day."""
        return d.weekday() < _WEEKDAYS_PER_WEEK and d not in self._year(d.year).days

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        return self.add_working_days(d, -1)

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, otherwise the next working day."""
        return d if self.is_working_day(d) else self.next_working_day(d)

    def roll_backward(self, d: date) -> date:
        """``d`` if it is a working day, otherwise the previous working day."""
        return d if self.is_working_day(d) else self.previous_working_day(d)

    # -- arithmetic --------------------------------------------------------------------------

    def add_working_days(self, d: date, n: int) -> date:
        """Step ``n`` working days away from ``d`` (see the class docstring for the convention)."""
        if n == 0:
            return d
        # Jump over whole weeks arithmetically, then account for the holidays jumped over by
        # jumping again; a span of a few weeks settles in one or two rounds.
        current, remaining = d, n
        while remaining:
            target = _add_weekdays(current, remaining)
            if remaining > 0:
                skipped = self._holidays_in(current + timedelta(days=1), target)
                remaining = skipped
            else:
                skipped = self._holidays_in(target, current - timedelta(days=1))
                remaining = -skipped
            current = target
        return current

    def working_days_between(self, a: date, b: date) -> int:
        """Signed count of working days after ``a`` up to and including ``b``.

        For ``b < a`` this is minus the number of working days ``d`` with ``b <= d < a``.
        """
        if a == b:
            return 0
        if b > a:
            first, last, sign = a + timedelta(days=1), b, 1
        else:
            first, last, sign = b, a - timedelta(days=1), -1
        weekdays = _weekdays_up_to(last.toordinal()) - _weekdays_up_to(first.toordinal() - 1)
        return sign * (weekdays - self._holidays_in(first, last))

    # -- internals ---------------------------------------------------------------------------

    def _holidays_in(self, first: date, last: date) -> int:
        """How many non-working weekdays fall in ``first..last`` inclusive."""
        if last < first:
            return 0
        count = 0
        for year in range(first.year, last.year + 1):
            ordered = self._year(year).ordered
            lo = bisect_left(ordered, first) if year == first.year else 0
            hi = bisect_right(ordered, last) if year == last.year else len(ordered)
            count += hi - lo
        return count

    def _year(self, year: int) -> _YearHolidays:
        cached = self._years.get(year)
        if cached is None:
            cached = self._build_year(year)
            self._years[year] = cached
        return cached

    def _build_year(self, year: int) -> _YearHolidays:
        days = {
            d
            for d in _bank_holidays(REGIONS[self.region], year)
            if d.weekday() < _WEEKDAYS_PER_WEEK
        }
        days.update(
            d for d in self.closures if d.year == year and d.weekday() < _WEEKDAYS_PER_WEEK
        )
        return _YearHolidays(days=frozenset(days), ordered=tuple(sorted(days)))


def closure_range(first: date, last: date) -> frozenset[date]:
    """Every date from ``first`` to ``last`` inclusive, e.g. a Christmas shutdown."""
    if last < first:
        raise CalendarError(f"Closure range ends ({last}) before it starts ({first}).")
    return frozenset(first + timedelta(days=i) for i in range((last - first).days + 1))


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` calendar months, clamped to the end of a shorter month.

    30 November + 3 months is 28 February (29 in a leap year); 31 January + 1 month is the
    last day of February.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    if not date.min.year <= year <= date.max.year:
        raise CalendarError(f"{d} plus {n} months is outside the supported range of dates.")
    return date(year, month0 + 1, min(d.day, _days_in_month(year, month0 + 1)))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


def _bank_holidays(subdivision: str, year: int) -> Iterable[date]:
    # Imported here: the package is large and only needed once a year is first asked about.
    import holidays

    return holidays.country_holidays("GB", subdiv=subdivision, years=year).keys()


# Ordinal 1 (0001-01-01) is a Monday, so weekdays can be counted from it with integer arithmetic.


def _weekdays_up_to(ordinal: int) -> int:
    """Number of weekdays with ordinals in ``1..ordinal``."""
    weeks, rest = divmod(ordinal, _DAYS_PER_WEEK)
    return weeks * _WEEKDAYS_PER_WEEK + min(rest, _WEEKDAYS_PER_WEEK)


def _nth_weekday(t: int) -> int:
    """Ordinal of the ``t``-th weekday counting from ordinal 1 (``t >= 1``)."""
    weeks, rest = divmod(t - 1, _WEEKDAYS_PER_WEEK)
    return weeks * _DAYS_PER_WEEK + rest + 1


def _add_weekdays(d: date, n: int) -> date:
    """The ``n``-th weekday strictly after ``d`` (``n > 0``) or strictly before it (``n < 0``)."""
    ordinal = d.toordinal()
    if n > 0:
        target = _weekdays_up_to(ordinal) + n
    else:
        target = _weekdays_up_to(ordinal - 1) + n + 1
    if target < 1:
        raise CalendarError(f"{d} moved by {n} working days is before the first supported date.")
    try:
        return date.fromordinal(_nth_weekday(target))
    except (ValueError, OverflowError):
        raise CalendarError(
            f"{d} moved by {n} working days is after the last supported date."
        ) from None
