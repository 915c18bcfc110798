"""The deadline clock's arithmetic: business time over weekly hours, holidays, make-up workdays and DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import businesstime as bench
from sla.businesstime import Schedule, add_business_time, business_time_between, is_open, next_open

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

WORKDAY = [(time(9), time(12)), (time(13), time(18))]
FIVE_BY_EIGHT = Schedule.weekly_hours(SHANGHAI, dict.fromkeys(range(5), WORKDAY))
# 2026 as the State Council published it (and `holidays.China(years=2026)` carries it): the
# Mid-Autumn Festival on Friday 25 September, the National Day week 1–7 October closed, and its
# two make-up working days, Sunday 20 September and Saturday 10 October. Later years: examples.
MID_AUTUMN = date(2026, 9, 25)
NATIONAL_DAY = frozenset(date(2026, 10, day) for day in range(1, 8))
MAKE_UP_DAYS = frozenset({date(2026, 9, 20), date(2026, 10, 10)})
WITH_HOLIDAYS = Schedule.weekly_hours(
    SHANGHAI,
    dict.fromkeys(range(5), WORKDAY),
    closed_dates=NATIONAL_DAY
    | {MID_AUTUMN, date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9), date(2028, 5, 1)},
    extra_working_dates=MAKE_UP_DAYS | {date(2027, 2, 6)},
)
NINE_TO_FIVE_BERLIN = Schedule.weekly_hours(BERLIN, dict.fromkeys(range(7), [(time(9), time(17))]))
NINE_TO_FIVE_NEW_YORK = Schedule.weekly_hours(NEW_YORK, dict.fromkeys(range(7), [(time(9), time(17))]))
# Night periods on Sundays, so the clock changes (Sunday 02:00/03:00) fall inside working time.
BERLIN_WITH_NIGHTS = Schedule.weekly_hours(
    BERLIN,
    {
        **dict.fromkeys(range(5), [(time(8), time(12)), (time(13), time(17, 30))]),
        5: [(time(22), time(0))],
        6: [(time(0), time(2, 30)), (time(22), time(0))],
    },
)


def shanghai(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=SHANGHAI)


def berlin(*fields: int, fold: int = 0) -> datetime:
    return datetime(*fields, tzinfo=BERLIN, fold=fold)


def new_york(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=NEW_YORK)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


# The acceptance example and the edges of a working day


def test_four_hours_from_friday_evening_fall_due_monday_after_lunch():
    # given Friday 2026-11-20, half an hour before closing
    start = shanghai(2026, 11, 20, 17, 30)
    # when
    due = add_business_time(start, hours(4), FIVE_BY_EIGHT)
    # then 0.5 h on Friday, 3 h on Monday morning, 0.5 h after lunch
    assert due == shanghai(2026, 11, 23, 13, 30)
    assert due.tzinfo is UTC


def test_a_closed_monday_moves_the_due_time_to_tuesday():
    schedule = Schedule.weekly_hours(
        SHANGHAI, dict.fromkeys(range(5), WORKDAY), closed_dates={date(2026, 11, 23)}
    )

    due = add_business_time(shanghai(2026, 11, 20, 17, 30), hours(4), schedule)

    assert due == shanghai(2026, 11, 24, 13, 30)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # inside the lunch break: the clock starts at 13:00
        (shanghai(2026, 11, 23, 12, 20), hours(1), shanghai(2026, 11, 23, 14)),
        # before opening
        (shanghai(2026, 11, 23, 7), hours(1), shanghai(2026, 11, 23, 10)),
        # exactly at opening, ending exactly at the start of lunch: due at 12:00, not 13:00
        (shanghai(2026, 11, 23, 9), hours(3), shanghai(2026, 11, 23, 12)),
        # exactly at the start of lunch
        (shanghai(2026, 11, 23, 12), timedelta(minutes=30), shanghai(2026, 11, 23, 13, 30)),
        # exactly at closing: the next morning
        (shanghai(2026, 11, 23, 18), hours(1), shanghai(2026, 11, 24, 10)),
        # a whole working day from opening ends at closing the same day
        (shanghai(2026, 11, 23, 9), hours(8), shanghai(2026, 11, 23, 18)),
        # late at night, across midnight
        (shanghai(2026, 11, 23, 23, 30), hours(2), shanghai(2026, 11, 24, 11)),
        # Saturday morning waits for Monday
        (shanghai(2026, 11, 21, 10), hours(9), shanghai(2026, 11, 24, 10)),
        # microseconds are kept exactly
        (
            shanghai(2026, 11, 23, 17, 59, 59, 999_999),
            timedelta(microseconds=2),
            shanghai(2026, 11, 24, 9, 0, 0, 1),
        ),
    ],
)
def test_due_time_on_a_five_by_eight_calendar(start, duration, due):
    assert add_business_time(start, duration, FIVE_BY_EIGHT) == due
    assert business_time_between(start, due, FIVE_BY_EIGHT) == duration


def test_night_shift_counts_across_midnight():
    night_shift = Schedule.weekly_hours(
        SHANGHAI, dict.fromkeys(range(7), [(time(0), time(6)), (time(22), time(0))])
    )

    due = add_business_time(shanghai(2026, 11, 23, 23, 30), hours(1), night_shift)

    assert due == shanghai(2026, 11, 24, 0, 30)
    assert business_time_between(
        shanghai(2026, 11, 23, 12), shanghai(2026, 11, 24, 12), night_shift
    ) == hours(8)


def test_zero_duration_returns_the_start_even_in_closed_time():
    saturday = shanghai(2026, 11, 21, 10)

    assert add_business_time(saturday, timedelta(0), FIVE_BY_EIGHT) == saturday


# Holidays and make-up working days


def test_national_day_week_is_skipped():
    # given the day before the holiday week, one hour before closing
    start = shanghai(2026, 9, 30, 17)
    # when a full working day is promised
    due = add_business_time(start, hours(8), WITH_HOLIDAYS)
    # then 1 h on 30 September, nothing from 1 to 7 October, 7 h on Thursday 8 October
    assert due == shanghai(2026, 10, 8, 17)


def test_the_2026_days_here_and_in_the_bench_are_the_published_ones():
    published = holidays.China(years=2026)
    make_up = {day for day in published.weekend_workdays if day.year == 2026}
    # the make-up working days named here and in the bench are 2026's (20 September, not the 27th)
    assert MAKE_UP_DAYS <= make_up
    assert {day for day in bench.MAKE_UP if day.year == 2026} <= make_up
    # and the closed days are holidays or weekend days (Sunday 4 October)
    assert all(day in published or day.weekday() >= 5 for day in NATIONAL_DAY | {MID_AUTUMN})


def test_make_up_saturday_counts_as_a_working_day():
    due = add_business_time(shanghai(2026, 10, 9, 17), hours(2), WITH_HOLIDAYS)

    assert due == shanghai(2026, 10, 10, 10)


def test_make_up_sunday_counts_with_mondays_hours():
    # Saturday 19 September 10:00 is closed; Sunday 20 September is worked 9:00–12:00 (3 h), 13:00–14:00
    due = add_business_time(shanghai(2026, 9, 19, 10), hours(4), WITH_HOLIDAYS)

    assert due == shanghai(2026, 9, 20, 14)


def test_business_time_across_the_holiday_weeks():
    # 19 Sep (Sat) to 11 Oct (Sun): Sun 20, Mon 21 – Thu 24, Mon 28 – Wed 30, Thu 8, Fri 9 and Sat 10
    # are worked (1 + 4 + 3 + 3 = 11 days of 8 h); Fri 25 (Mid-Autumn) and 1–7 Oct are not
    between = business_time_between(shanghai(2026, 9, 19), shanghai(2026, 10, 11), WITH_HOLIDAYS)

    assert between == hours(8 * 11)
    assert business_time_between(shanghai(2026, 10, 1), shanghai(2026, 10, 8), WITH_HOLIDAYS) == timedelta(0)


def test_extra_working_days_can_have_their_own_hours():
    schedule = Schedule.weekly_hours(
        SHANGHAI,
        dict.fromkeys(range(5), WORKDAY),
        extra_working_dates={date(2026, 10, 10)},
        extra_day_periods=[(time(10), time(14))],
    )

    assert business_time_between(shanghai(2026, 10, 10), shanghai(2026, 10, 11), schedule) == hours(4)
    assert next_open(shanghai(2026, 10, 10, 7), schedule) == shanghai(2026, 10, 10, 10)


# 7x24


def test_round_the_clock_adds_plain_durations():
    schedule = Schedule.always(SHANGHAI)
    start = shanghai(2026, 9, 30, 17, 12, 5, 7)

    assert add_business_time(start, hours(100), schedule) == start + hours(100)
    assert business_time_between(start, start + hours(100), schedule) == hours(100)


def test_round_the_clock_in_a_dst_zone_counts_elapsed_time():
    schedule = Schedule.always(BERLIN)

    assert business_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30), schedule) == hours(23)
    assert business_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26), schedule) == hours(25)
    assert add_business_time(berlin(2026, 3, 28, 12), hours(24), schedule) == berlin(2026, 3, 29, 13)


# Daylight saving time: working periods are wall-clock times, counted as real elapsed time


@pytest.mark.parametrize(
    ("day", "before", "after"),
    [
        # spring forward: clocks jump from 02:00 CET to 03:00 CEST
        (date(2026, 3, 29), berlin(2026, 3, 28, 16), utc(2026, 3, 29, 8)),
        # fall back: clocks go from 03:00 CEST back to 02:00 CET
        (date(2026, 10, 25), berlin(2026, 10, 24, 16), utc(2026, 10, 25, 9)),
    ],
)
def test_nine_to_five_counts_eight_hours_on_clock_change_days(day, before, after):
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)

    assert business_time_between(midnight, midnight + timedelta(days=1), NINE_TO_FIVE_BERLIN) == hours(8)
    # 16:00–17:00 on Saturday, then 09:00–10:00 local on the Sunday
    assert add_business_time(before, hours(2), NINE_TO_FIVE_BERLIN) == after
    # a full day ends at 17:00 local, whichever offset applies
    assert add_business_time(midnight, hours(8), NINE_TO_FIVE_BERLIN) == datetime.combine(
        day, time(17), tzinfo=BERLIN
    )


def test_new_york_clock_changes_move_the_due_instant_in_utc():
    # before spring forward 17:00 EST is 22:00 UTC; after it 10:00 EDT is 14:00 UTC
    assert add_business_time(new_york(2026, 3, 7, 16), hours(2), NINE_TO_FIVE_NEW_YORK) == utc(2026, 3, 8, 14)
    # before fall back 10:00 EDT is 14:00 UTC; after it 10:00 EST is 15:00 UTC
    assert add_business_time(new_york(2026, 10, 31, 16), hours(2), NINE_TO_FIVE_NEW_YORK) == utc(
        2026, 11, 1, 15
    )
    assert business_time_between(new_york(2026, 3, 8), new_york(2026, 3, 9), NINE_TO_FIVE_NEW_YORK) == hours(
        8
    )
    assert business_time_between(
        new_york(2026, 11, 1), new_york(2026, 11, 2), NINE_TO_FIVE_NEW_YORK
    ) == hours(8)


def test_a_period_across_the_clock_change_counts_what_passes_on_the_wall():
    schedule = Schedule.weekly_hours(BERLIN, {6: [(time(1), time(3))]})

    # the hour 02:00–03:00 never happens in spring and happens twice in autumn
    assert business_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30), schedule) == hours(1)
    assert business_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26), schedule) == hours(3)
    assert add_business_time(berlin(2026, 3, 29), timedelta(minutes=90), schedule) == berlin(
        2026, 4, 5, 1, 30
    )
    # 01:00–03:00 CEST is 2 h, then 02:00–02:30 CET: due at 02:30 on the second pass
    assert add_business_time(berlin(2026, 10, 25), timedelta(minutes=150), schedule) == utc(
        2026, 10, 25, 1, 30
    )


def test_a_period_ending_inside_the_repeated_hour_is_open_on_both_passes():
    schedule = Schedule.weekly_hours(BERLIN, {6: [(time(1), time(2, 30))]})

    assert is_open(berlin(2026, 10, 25, 2, 15), schedule)
    assert not is_open(berlin(2026, 10, 25, 2, 45), schedule)
    assert is_open(berlin(2026, 10, 25, 2, 15, fold=1), schedule)
    # 02:00 CET, the second pass through 02:00
    assert next_open(berlin(2026, 10, 25, 2, 45), schedule) == utc(2026, 10, 25, 1)
    assert business_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26), schedule) == hours(2)


# is_open and next_open


@pytest.mark.parametrize(
    ("moment", "is_open_then", "opens"),
    [
        (shanghai(2026, 11, 23, 9), True, shanghai(2026, 11, 23, 9)),
        (shanghai(2026, 11, 23, 11, 59, 59, 999_999), True, shanghai(2026, 11, 23, 11, 59, 59, 999_999)),
        (shanghai(2026, 11, 23, 12), False, shanghai(2026, 11, 23, 13)),
        (shanghai(2026, 11, 23, 8, 59), False, shanghai(2026, 11, 23, 9)),
        (shanghai(2026, 11, 20, 18), False, shanghai(2026, 11, 23, 9)),
        (shanghai(2026, 9, 30, 18), False, shanghai(2026, 10, 8, 9)),
    ],
)
def test_open_and_next_open(moment, is_open_then, opens):
    assert is_open(moment, WITH_HOLIDAYS) is is_open_then
    assert next_open(moment, WITH_HOLIDAYS) == opens


# Refusals


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 11, 23, 9)

    with pytest.raises(ValueError, match="naive"):
        add_business_time(naive, hours(1), FIVE_BY_EIGHT)
    with pytest.raises(ValueError, match="naive"):
        business_time_between(naive, shanghai(2026, 11, 23, 10), FIVE_BY_EIGHT)
    with pytest.raises(ValueError, match="naive"):
        is_open(naive, FIVE_BY_EIGHT)


def test_negative_durations_are_refused():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(shanghai(2026, 11, 23, 9), -hours(1), FIVE_BY_EIGHT)


def test_a_schedule_without_working_time_is_refused_instead_of_searching_forever():
    closed = Schedule.weekly_hours(SHANGHAI, {})

    with pytest.raises(ValueError, match="no working time"):
        add_business_time(shanghai(2026, 11, 23, 9), hours(1), closed)
    with pytest.raises(ValueError, match="no working time"):
        next_open(shanghai(2026, 11, 23, 9), closed)
    assert business_time_between(shanghai(2026, 1, 1), shanghai(2027, 1, 1), closed) == timedelta(0)


def test_the_search_stops_after_ten_years():
    # the only working day is long past
    schedule = Schedule.weekly_hours(
        SHANGHAI, {}, extra_working_dates={date(2020, 1, 4)}, extra_day_periods=[(time(9), time(17))]
    )

    with pytest.raises(ValueError, match="within 10 years"):
        add_business_time(shanghai(2026, 11, 23, 9), hours(1), schedule)
    with pytest.raises(ValueError, match="within 10 years"):
        next_open(shanghai(2026, 11, 23, 9), schedule)


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ({0: [(time(12), time(9))]}, "start before it ends"),
        ({0: [(time(9), time(9))]}, "start before it ends"),
        ({0: [(time(9), time(12)), (time(11), time(14))]}, "overlap"),
        ({7: [(time(9), time(12))]}, "weekdays are 0"),
        ({0: [(time(9, 0, 0, 500), time(12))]}, "whole seconds"),
    ],
)
def test_invalid_periods_are_refused(periods, message):
    with pytest.raises(ValueError, match=message):
        Schedule.weekly_hours(SHANGHAI, periods)


def test_invalid_schedules_are_refused():
    with pytest.raises(ValueError, match="7 entries"):
        Schedule(SHANGHAI, ((),) * 6)
    with pytest.raises(ValueError, match="within 0..86400"):
        Schedule(SHANGHAI, (((0, 86401),),) + ((),) * 6)
    with pytest.raises(ValueError, match="both closed and extra working"):
        Schedule.weekly_hours(
            SHANGHAI, {}, closed_dates={date(2026, 10, 10)}, extra_working_dates={date(2026, 10, 10)}
        )


def test_equal_schedules_are_equal_however_they_were_built():
    by_times = Schedule.weekly_hours(SHANGHAI, {0: [(time(13), time(18)), (time(9), time(12))]})
    by_seconds = Schedule(SHANGHAI, (((32_400, 43_200), (46_800, 64_800)),) + ((),) * 6)

    assert by_times == by_seconds
    assert hash(by_times) == hash(by_seconds)


# Properties

ALWAYS_BERLIN = Schedule.always(BERLIN)
SCHEDULES = st.sampled_from([WITH_HOLIDAYS, ALWAYS_BERLIN, BERLIN_WITH_NIGHTS])
# Where mistakes hide: the clock changes in Berlin and New York, and the turns of the year.
EDGES = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2027, 3, 28, 1),
    utc(2027, 10, 31, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2027, 1, 1),
    utc(2028, 1, 1),
]
MOMENTS = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2028, 12, 31, 23, 59, 59, 999_999),
        timezones=st.sampled_from([UTC, SHANGHAI, BERLIN, NEW_YORK]),
    ),
    st.builds(
        lambda edge, seconds, zone: (edge + timedelta(seconds=seconds)).astimezone(zone),
        st.sampled_from(EDGES),
        st.integers(-4 * 3600, 4 * 3600),
        st.sampled_from([UTC, SHANGHAI, BERLIN, NEW_YORK]),
    ),
)
MAX_MICROSECONDS = 2000 * 3600 * 10**6
DURATIONS = st.one_of(
    st.integers(0, MAX_MICROSECONDS).map(lambda count: timedelta(microseconds=count)),
    st.integers(0, MAX_MICROSECONDS // 10**6).map(lambda count: timedelta(seconds=count)),
    st.integers(0, 2000 * 4).map(lambda count: timedelta(minutes=15 * count)),
)
TINY = timedelta(microseconds=1)
PROPERTIES = settings(max_examples=150, deadline=None, database=None)


def in_utc(moment: datetime) -> datetime:
    # Python never finds an ambiguous or imaginary wall time equal to a time in another zone, and
    # compares, subtracts and converts two times of one zone by their wall clocks: work in UTC.
    return moment.astimezone(UTC)


def open_by_the_wall_clock(moment: datetime, schedule: Schedule) -> bool:
    """The rule, spelled out: the wall clock shows a time inside a working period of the date it shows."""
    local = in_utc(moment).astimezone(schedule.zone)
    microsecond = ((local.hour * 60 + local.minute) * 60 + local.second) * 10**6 + local.microsecond
    return any(start * 10**6 <= microsecond < end * 10**6 for start, end in schedule.periods_on(local.date()))


@PROPERTIES
@given(start=MOMENTS, duration=DURATIONS, schedule=SCHEDULES)
def test_measuring_the_due_time_gives_the_duration_back(start, duration, schedule):
    due = add_business_time(start, duration, schedule)

    assert business_time_between(start, due, schedule) == duration
    assert due >= in_utc(start)


@PROPERTIES
@given(start=MOMENTS, duration=DURATIONS, schedule=SCHEDULES)
def test_the_instant_before_a_due_time_is_open(start, duration, schedule):
    due = add_business_time(start, duration, schedule)

    if duration:
        assert is_open(due - TINY, schedule)
    else:
        assert due == in_utc(start)


@PROPERTIES
@given(
    starts=st.lists(MOMENTS, min_size=2, max_size=2), durations=st.lists(DURATIONS, min_size=2, max_size=2)
)
def test_due_time_is_monotonic_in_start_and_duration(starts, durations):
    early, late = sorted(starts, key=in_utc)
    short, long = sorted(durations)
    for schedule in (WITH_HOLIDAYS, BERLIN_WITH_NIGHTS):
        assert add_business_time(early, short, schedule) <= add_business_time(late, short, schedule)
        assert add_business_time(early, short, schedule) <= add_business_time(early, long, schedule)


@PROPERTIES
@given(start=MOMENTS, first=DURATIONS, second=DURATIONS, schedule=SCHEDULES)
def test_adding_twice_is_adding_the_sum(start, first, second, schedule):
    in_two_steps = add_business_time(add_business_time(start, first, schedule), second, schedule)

    assert in_two_steps == add_business_time(start, first + second, schedule)


@PROPERTIES
@given(a=MOMENTS, b=MOMENTS, c=MOMENTS, schedule=SCHEDULES)
def test_business_time_between_is_antisymmetric_and_additive(a, b, c, schedule):
    assert business_time_between(a, b, schedule) == -business_time_between(b, a, schedule)
    assert business_time_between(a, c, schedule) == business_time_between(
        a, b, schedule
    ) + business_time_between(b, c, schedule)
    assert abs(business_time_between(a, b, schedule)) <= abs(in_utc(b) - in_utc(a))


@PROPERTIES
@given(moment=MOMENTS, schedule=SCHEDULES)
def test_open_follows_the_wall_clock_and_next_open_skips_only_closed_time(moment, schedule):
    opens = next_open(moment, schedule)

    assert is_open(moment, schedule) is open_by_the_wall_clock(moment, schedule)
    assert is_open(opens, schedule)
    assert open_by_the_wall_clock(opens, schedule)
    assert business_time_between(moment, opens, schedule) == timedelta(0)
    assert (opens == in_utc(moment)) is is_open(moment, schedule)


@PROPERTIES
@given(start=MOMENTS, duration=DURATIONS)
def test_round_the_clock_is_plain_elapsed_time(start, duration):
    assert add_business_time(start, duration, ALWAYS_BERLIN) == in_utc(start) + duration
