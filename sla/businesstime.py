"""Business time: how much of a contract's working time lies between two instants, and when a target is due.

Pure functions over a `Schedule` (standard library only, no Django), so the deadline clock can be
property-tested in isolation.

The rule, daylight saving included: an instant is open when the wall clock of `schedule.zone`,
at that instant, shows a time inside a working period of the date the same clock shows.
Working time is therefore real elapsed time, and a period that spans a clock change counts what
actually passes on the wall:

- spring forward: wall times inside the gap never happen, so 01:00–03:00 on a Berlin
  spring-forward day is open 1 hour (and the whole day 23 hours);
- fall back: wall times inside the repeated hour happen twice and count twice, so 01:00–03:00 on a
  Berlin fall-back day is open 3 hours (and the whole day 25 hours). A period that ends inside the
  repeated hour is open during both passes through it and closed in between.

Aware datetimes given in are read through their `utcoffset()`, as Python does: an ambiguous wall
time is its first occurrence unless `fold=1`, and a wall time inside a spring-forward gap takes the
offset from before the change (02:30 in Berlin then reads as 03:30 summer time). Results are in UTC.
Periods of 9:00–17:00 never meet a clock change in Europe or America, so they count 8 hours on
every day; `Asia/Shanghai` has no clock changes at all.

How it is fast: each UTC calendar year of a schedule is compiled once (and cached) into its sorted
open intervals in integer microseconds with running totals, so every call is a few binary searches
plus one step per year crossed. Open time is exact to the microsecond; no floats are involved.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

__all__ = [
    "Period",
    "Schedule",
    "add_business_time",
    "business_time_between",
    "is_open",
    "next_open",
]

# A working period: seconds after local midnight, [start, end), with 0 <= start < end <= 86400.
Period = tuple[int, int]

DAY_SECONDS = 86_400
SEARCH_YEARS = 10

_SECOND = 1_000_000  # microseconds
_DAY = DAY_SECONDS * _SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # instants are integer microseconds since this one
_EPOCH_ORDINAL = _EPOCH.toordinal()
# Offsets are sampled this often when a year is compiled; clock changes closer together than this
# that cancel each other out would go unseen (no time zone has any).
_OFFSET_SAMPLE = 12 * 3600 * _SECOND
_MIN_YEAR, _MAX_YEAR = 2, 9997


@dataclass(frozen=True)
class Schedule:
    """When a calendar counts time: weekly working periods in local wall time, a zone, closed and extra
    working dates.

    `weekly` has 7 entries, Monday first; each is a sorted tuple of non-overlapping periods in
    seconds after local midnight (`(0, 86400)` is the whole day). A closed date (a statutory
    holiday) has no working time even on a weekday; an extra working date (a make-up workday,
    调休, usually a Saturday or Sunday) works `extra_day_periods`, which default to Monday's.
    """

    zone: ZoneInfo
    weekly: tuple[tuple[Period, ...], ...]
    closed_dates: frozenset[date] = frozenset()
    extra_working_dates: frozenset[date] = frozenset()
    extra_day_periods: tuple[Period, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.zone, tzinfo):
            raise ValueError(f"zone must be a ZoneInfo, not {self.zone!r}")
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 entries, Monday to Sunday, not {len(self.weekly)}")
        weekly = tuple(
            _checked_periods(periods, _WEEKDAY_NAMES[day]) for day, periods in enumerate(self.weekly)
        )
        extra = weekly[0] if self.extra_day_periods is None else self.extra_day_periods
        closed = _checked_dates(self.closed_dates, "closed_dates")
        extra_dates = _checked_dates(self.extra_working_dates, "extra_working_dates")
        if both := closed & extra_dates:
            raise ValueError(f"dates both closed and extra working: {', '.join(map(str, sorted(both)))}")
        # Normalised so that equal schedules compare and hash equal: compiled years are cached by value.
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "closed_dates", closed)
        object.__setattr__(self, "extra_working_dates", extra_dates)
        object.__setattr__(self, "extra_day_periods", _checked_periods(extra, "extra working days"))

    @classmethod
    def always(cls, zone: ZoneInfo) -> Schedule:
        """7x24: every day fully open, holidays ignored."""
        return cls(zone, (((0, DAY_SECONDS),),) * 7)

    @classmethod
    def weekly_hours(
        cls,
        zone: ZoneInfo,
        periods_by_weekday: Mapping[int, Iterable[tuple[time, time]]],
        closed_dates: Iterable[date] = frozenset(),
        extra_working_dates: Iterable[date] = frozenset(),
        extra_day_periods: Iterable[tuple[time, time]] | None = None,
    ) -> Schedule:
        """A schedule from local wall times per weekday (0 = Monday); a missing weekday is closed.

        An end of `time(0)` means midnight at the end of the day, so `(time(18), time(0))` is the
        evening and `(time(0), time(0))` the whole day.
        """
        if unknown := set(periods_by_weekday) - set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), not {sorted(unknown)}")
        weekly = tuple(_seconds_periods(periods_by_weekday.get(day, ())) for day in range(7))
        extra = None if extra_day_periods is None else _seconds_periods(extra_day_periods)
        return cls(zone, weekly, frozenset(closed_dates), frozenset(extra_working_dates), extra)

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """The working periods of one local date."""
        if day in self.closed_dates:
            return ()
        if day in self.extra_working_dates:
            return self.extra_day_periods
        return self.weekly[day.weekday()]

    def has_working_time(self) -> bool:
        """Whether any weekday or extra working date has working periods at all."""
        return any(self.weekly) or bool(self.extra_working_dates and self.extra_day_periods)


def add_business_time(start: datetime, duration: timedelta, schedule: Schedule) -> datetime:
    """The instant, in UTC, at which `duration` of open time has passed since `start`.

    A zero duration gives `start` back (as UTC) even in closed time. Otherwise the result is the
    instant the last microsecond is counted, so it may be the very end of a period, and the
    instant just before it is always open.
    """
    moment = _microseconds(start)
    if not isinstance(duration, timedelta):
        raise ValueError(f"duration must be a timedelta, not {duration!r}")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    wanted = _timedelta_microseconds(duration)
    if wanted == 0:
        return _datetime(moment)
    _require_working_time(schedule)
    year = _utc_year(moment)
    table = _year_table(schedule, year)
    target = table.open_before(moment) + wanted
    while target > table.total:
        target -= table.total
        year = _next_searched_year(year, start)
        table = _year_table(schedule, year)
    return _datetime(table.instant_at(target))


def business_time_between(a: datetime, b: datetime, schedule: Schedule) -> timedelta:
    """Open time in [a, b); the negative of the open time in [b, a) when b is before a."""
    first, last = _microseconds(a), _microseconds(b)
    if last < first:
        return -business_time_between(b, a, schedule)
    first_year, last_year = _utc_year(first), _utc_year(last)
    total = sum(_year_table(schedule, year).total for year in range(first_year, last_year))
    total += _year_table(schedule, last_year).open_before(last)
    total -= _year_table(schedule, first_year).open_before(first)
    return timedelta(microseconds=total)


def is_open(moment: datetime, schedule: Schedule) -> bool:
    """Whether the clock runs at `moment`."""
    instant = _microseconds(moment)
    return _year_table(schedule, _utc_year(instant)).is_open(instant)


def next_open(moment: datetime, schedule: Schedule) -> datetime:
    """`moment` itself (in UTC) when open, else the start of the next open period."""
    instant = _microseconds(moment)
    _require_working_time(schedule)
    year = _utc_year(instant)
    found = _year_table(schedule, year).next_open(instant)
    while found is None:
        year = _next_searched_year(year, moment)
        found = _year_table(schedule, year).next_open(instant)
    return _datetime(found)


class _YearTable:
    """The open intervals of one UTC calendar year, in UTC microseconds, with running totals."""

    __slots__ = ("starts", "ends", "before", "through", "total")

    def __init__(self, intervals: list[tuple[int, int]]):
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]
        # Open time before each interval starts and through its end.
        self.through = list(accumulate(end - start for start, end in intervals))
        self.before = [0, *self.through[:-1]] if intervals else []
        self.total = self.through[-1] if intervals else 0

    def open_before(self, instant: int) -> int:
        index = bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0
        return self.before[index] + min(instant, self.ends[index]) - self.starts[index]

    def instant_at(self, open_time: int) -> int:
        """The instant at which the year has been open `open_time` (0 < open_time <= total)."""
        index = bisect_left(self.through, open_time)
        return self.starts[index] + open_time - self.before[index]

    def is_open(self, instant: int) -> bool:
        index = bisect_right(self.starts, instant) - 1
        return index >= 0 and instant < self.ends[index]

    def next_open(self, instant: int) -> int | None:
        index = bisect_right(self.starts, instant) - 1
        if index >= 0 and instant < self.ends[index]:
            return instant
        if index + 1 < len(self.starts):
            return self.starts[index + 1]
        return None


@lru_cache(maxsize=128)
def _year_table(schedule: Schedule, year: int) -> _YearTable:
    """Compile the open intervals of the instants in UTC year `year`."""
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"business time is computed for the years {_MIN_YEAR} to {_MAX_YEAR}, not {year}")
    year_start = _instant_of(date(year, 1, 1))
    year_end = _instant_of(date(year + 1, 1, 1))
    offsets = _offset_segments(schedule.zone, year_start - 2 * _DAY, year_end + 2 * _DAY)
    pieces = []
    # Local dates a little beyond the year too: their periods may reach into it through the offset.
    day = date(year - 1, 12, 30)
    while day <= date(year + 1, 1, 2):
        midnight = _instant_of(day)
        for start, end in schedule.periods_on(day):
            local_start, local_end = midnight + start * _SECOND, midnight + end * _SECOND
            for segment_start, segment_end, offset in offsets:
                # Within a segment the wall clock reads instant + offset, so this is the part of the
                # segment whose wall time lies in the period.
                piece_start = max(segment_start, local_start - offset, year_start)
                piece_end = min(segment_end, local_end - offset, year_end)
                if piece_start < piece_end:
                    pieces.append((piece_start, piece_end))
        day += timedelta(days=1)
    return _YearTable(_merged(sorted(pieces)))


def _offset_segments(zone: tzinfo, start: int, end: int) -> list[tuple[int, int, int]]:
    """Split [start, end) into (start, end, UTC offset) stretches of constant offset, in microseconds."""
    segments = []
    segment_start, offset = start, _offset_at(zone, start)
    sample = start
    while sample < end:
        following = min(sample + _OFFSET_SAMPLE, end)
        # Several changes inside one sample step are found one after the other.
        while _offset_at(zone, following) != offset:
            change = _first_change(zone, sample, following, offset)
            segments.append((segment_start, change, offset))
            segment_start, sample, offset = change, change, _offset_at(zone, change)
        sample = following
    segments.append((segment_start, end, offset))
    return segments


def _first_change(zone: tzinfo, before: int, after: int, offset: int) -> int:
    """The first whole second in (before, after] at which the offset is no longer `offset`."""
    low, high = before // _SECOND, -(-after // _SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(zone, middle * _SECOND) == offset:
            low = middle
        else:
            high = middle
    return high * _SECOND


def _offset_at(zone: tzinfo, instant: int) -> int:
    return _timedelta_microseconds((_EPOCH + timedelta(microseconds=instant)).astimezone(zone).utcoffset())


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _require_working_time(schedule: Schedule) -> None:
    if not schedule.has_working_time():
        raise ValueError("the schedule has no working time at all")


def _next_searched_year(year: int, start: datetime) -> int:
    if year + 1 > _utc_year(_microseconds(start)) + SEARCH_YEARS:
        raise ValueError(f"no open time found within {SEARCH_YEARS} years after {start.isoformat()}")
    return year + 1


def _microseconds(moment: datetime) -> int:
    """An aware datetime as UTC microseconds since 1970."""
    if not isinstance(moment, datetime):
        raise ValueError(f"expected an aware datetime, not {moment!r}")
    if moment.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in time: {moment.isoformat()}")
    return _timedelta_microseconds(moment - _EPOCH)


def _timedelta_microseconds(delta: timedelta) -> int:
    return (delta.days * DAY_SECONDS + delta.seconds) * _SECOND + delta.microseconds


def _datetime(instant: int) -> datetime:
    return _EPOCH + timedelta(microseconds=instant)


def _utc_year(instant: int) -> int:
    return date.fromordinal(instant // _DAY + _EPOCH_ORDINAL).year


def _instant_of(day: date) -> int:
    """Midnight starting `day`, read as if it were UTC, in microseconds since 1970."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _checked_periods(periods: Iterable[Period], where: str) -> tuple[Period, ...]:
    """Periods as a sorted tuple, refused when outside the day, empty, reversed or overlapping."""
    periods = tuple(periods)
    for period in periods:
        if not (
            isinstance(period, tuple) and len(period) == 2 and all(type(value) is int for value in period)
        ):
            raise ValueError(
                f"{where}: a period is (start, end) in whole seconds after midnight, not {period!r}"
            )
    checked = tuple(sorted(periods))
    for start, end in checked:
        if not 0 <= start < end <= DAY_SECONDS:
            raise ValueError(
                f"{where}: a period must start before it ends, within 0..{DAY_SECONDS} seconds, "
                f"not {start}–{end}"
            )
    for (_, end), (start, _) in zip(checked, checked[1:], strict=False):
        if start < end:
            raise ValueError(f"{where}: periods overlap around {_clock(start)}")
    return checked


def _seconds_periods(periods: Iterable[tuple[time, time]]) -> tuple[Period, ...]:
    return tuple((_seconds(start), _seconds(end) or DAY_SECONDS) for start, end in periods)


def _seconds(moment: time) -> int:
    if not isinstance(moment, time) or moment.tzinfo is not None or moment.microsecond:
        raise ValueError(f"working periods are naive local times in whole seconds, not {moment!r}")
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _checked_dates(dates: Iterable[date], name: str) -> frozenset[date]:
    dates = frozenset(dates)
    for day in dates:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"{name} holds dates, not {day!r}")
    return dates
