"""
Business calendars from the database: China's holidays and make-up working days loaded from the
`holidays` package, the schedule a calendar builds from its rows, and a 5x8 deadline across them.
"""

from datetime import date, time, timedelta
from io import StringIO

import holidays
import pytest
from django.core.management import CommandError, call_command

from sla.businesstime import add_business_time, is_open
from sla.choices import DayKind
from sla.models import Calendar, HolidayYear, Policy, SpecialDay, WorkingPeriod
from tests.sla.conftest import deadlines_of, shanghai
from tickets.choices import Level

pytestmark = pytest.mark.django_db

OFFICE = "5x8 工作日 9:00–12:00, 13:00–18:00"
# What the State Council published for 2026 (and the package carries): the make-up working days.
MAKE_UP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def load(*years: int) -> str:
    out = StringIO()
    call_command("load_holidays", *map(str, years), stdout=out)
    return out.getvalue()


def special_days() -> list[tuple]:
    return list(SpecialDay.objects.order_by("date").values_list("date", "kind", "name"))


def office() -> Calendar:
    return Calendar.objects.get(name=OFFICE)


# Loading the holidays


def test_the_package_has_the_2026_make_up_days_this_file_relies_on():
    calendar = holidays.country_holidays("CN", years=2026)
    assert [day for day in sorted(calendar.weekend_workdays) if day.year == 2026] == MAKE_UP_2026
    assert date(2026, 10, 1) in calendar
    assert date(2026, 9, 25) in calendar  # the Mid-Autumn Festival falls on a Friday


def test_loading_2026_records_its_holidays_and_make_up_working_days(time_machine):
    time_machine.move_to(shanghai(2026, 11, 23, 9, 0), tick=False)
    expected = holidays.country_holidays("CN", years=2026, language="zh_CN")

    output = load(2026)

    assert output == f"2026: {len(expected)} holidays, 6 make-up working days\n"
    holidays_loaded = SpecialDay.objects.filter(kind=DayKind.HOLIDAY)
    assert sorted(holidays_loaded.values_list("date", flat=True)) == sorted(expected)
    assert SpecialDay.objects.get(date=date(2026, 10, 1)).kind == DayKind.HOLIDAY
    assert SpecialDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert list(
        SpecialDay.objects.filter(kind=DayKind.WORKDAY).order_by("date").values_list("date", "name")
    ) == [(day, "调休上班") for day in MAKE_UP_2026]
    # the package's make-up days of other years are not loaded with 2026
    assert not SpecialDay.objects.exclude(date__year=2026).exists()
    year = HolidayYear.objects.get()
    assert (year.year, year.make_up_days_known, year.source, year.loaded_at) == (
        2026,
        True,
        f"holidays {holidays.__version__}",
        shanghai(2026, 11, 23, 9, 0),
    )


def test_loading_a_year_twice_changes_nothing(time_machine):
    time_machine.move_to(shanghai(2026, 11, 23, 9, 0), tick=False)
    load(2026)
    days, years = special_days(), list(HolidayYear.objects.values())

    load(2026)

    assert special_days() == days
    assert list(HolidayYear.objects.values()) == years


def test_a_year_without_published_make_up_days_is_recorded_as_such():
    calendar = holidays.country_holidays("CN", years=2030)
    assert not [day for day in calendar.weekend_workdays if day.year == 2030]

    output = load(2030)

    assert output.endswith(" holidays, 0 make-up working days (make-up working days not published yet)\n")
    year = HolidayYear.objects.get(year=2030)
    assert year.make_up_days_known is False
    assert SpecialDay.objects.get(date=date(2030, 10, 1)).kind == DayKind.HOLIDAY
    assert not SpecialDay.objects.filter(kind=DayKind.WORKDAY).exists()


def test_without_years_this_year_and_the_next_are_loaded(time_machine):
    time_machine.move_to(shanghai(2026, 11, 23, 9, 0), tick=False)

    load()

    assert dict(HolidayYear.objects.values_list("year", "make_up_days_known")) == {2026: True, 2027: False}


@pytest.mark.parametrize("year", [1999, 2101])
def test_a_year_outside_the_tables_is_refused(year):
    with pytest.raises(CommandError, match=f"{year} is not a year the holiday tables cover."):
        load(year)
    assert not HolidayYear.objects.exists()


# The schedule a calendar builds


def test_the_default_office_calendar_is_monday_to_friday_9_to_12_and_13_to_18():
    periods = list(office().periods.values_list("weekday", "starts", "ends"))

    assert periods == [
        (weekday, starts, ends)
        for weekday in range(5)
        for starts, ends in [(time(9), time(12)), (time(13), time(18))]
    ]
    assert (office().round_the_clock, office().observes_holidays) == (False, True)
    assert Policy.objects.get(coverage="5x8").calendar == office()
    assert Policy.objects.get(coverage="7x24").calendar.round_the_clock is True


def test_a_new_special_day_shows_in_the_schedule_at_once():
    monday = shanghai(2026, 11, 23, 10, 0)
    saturday = shanghai(2026, 11, 28, 10, 0)
    assert is_open(monday, office().schedule())
    assert not is_open(saturday, office().schedule())

    SpecialDay.objects.create(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="临时放假")
    SpecialDay.objects.create(date=date(2026, 11, 28), kind=DayKind.WORKDAY, name="调休上班")

    schedule = office().schedule()
    assert not is_open(monday, schedule)
    assert is_open(saturday, schedule)
    assert not is_open(shanghai(2026, 11, 28, 12, 30), schedule)  # a make-up day keeps the lunch break

    SpecialDay.objects.filter(date=date(2026, 11, 23)).delete()
    assert is_open(monday, office().schedule())


def test_a_changed_working_period_shows_in_the_schedule_at_once():
    calendar = office()
    assert not is_open(shanghai(2026, 11, 23, 12, 30), calendar.schedule())

    WorkingPeriod.objects.filter(calendar=calendar, weekday=0, starts=time(9)).update(ends=time(13))

    assert is_open(shanghai(2026, 11, 23, 12, 30), calendar.schedule())
    assert not is_open(shanghai(2026, 11, 24, 12, 30), calendar.schedule())


def test_a_round_the_clock_calendar_ignores_holidays():
    SpecialDay.objects.create(date=date(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    always = Calendar.objects.get(name="7x24")

    assert is_open(shanghai(2026, 10, 1, 3, 0), always.schedule())


def test_a_calendar_that_does_not_observe_holidays_works_through_them():
    SpecialDay.objects.create(date=date(2026, 11, 23), kind=DayKind.HOLIDAY, name="临时放假")
    Calendar.objects.filter(name=OFFICE).update(observes_holidays=False)

    assert is_open(shanghai(2026, 11, 23, 10, 0), office().schedule())


# A 5x8 deadline across the Mid-Autumn Festival and the National Day week


@pytest.fixture
def holidays_2026(time_machine):
    time_machine.move_to(shanghai(2026, 9, 1, 9, 0), tick=False)
    load(2026)


def test_a_level_iii_fault_logged_friday_25_september_waits_for_monday(
    holidays_2026, clock, make_ticket, device_5x8
):
    # given Friday 25 September 2026 17:30: the Mid-Autumn Festival, a holiday (no working time)
    clock.move_to(shanghai(2026, 9, 25, 17, 30))
    # when a Level III fault is logged on a 5x8 contract
    ticket = make_ticket(equipment=device_5x8, level=Level.III)
    # then the clock starts Monday 28 September 9:00; the 24 working hours (3 days) of the resolution
    # end at Wednesday's closing, the eve of National Day
    due = {kind: row.due_at for kind, row in deadlines_of(ticket).items()}
    assert due == {
        "ticket.response": shanghai(2026, 9, 28, 11, 0),
        "ticket.workaround": shanghai(2026, 9, 29, 18, 0),
        "ticket.resolution": shanghai(2026, 9, 30, 18, 0),
    }
    # 18 h: Monday 8 h, Tuesday 8 h, Wednesday 9:00–11:00
    assert deadlines_of(ticket)["ticket.resolution"].warn_at == shanghai(2026, 9, 30, 11, 0)


def test_a_level_iii_fault_logged_on_the_eve_of_national_day_falls_due_on_the_make_up_saturday(
    holidays_2026, clock, make_ticket, device_5x8
):
    # given Wednesday 30 September 2026 17:30, the last half hour before the National Day week
    # (1–7 October closed) and its make-up working Saturday, 10 October
    clock.move_to(shanghai(2026, 9, 30, 17, 30))
    # when
    ticket = make_ticket(equipment=device_5x8, level=Level.III)
    # then 24 working hours: 0.5 h on 30 Sept, 8 h on Thursday 8 Oct, 8 h on Friday 9 Oct and
    # 7.5 h on Saturday 10 Oct (9:00–12:00, 13:00–17:30)
    due = {kind: row.due_at for kind, row in deadlines_of(ticket).items()}
    assert due == {
        "ticket.response": shanghai(2026, 10, 8, 10, 30),  # 0.5 h + 1.5 h
        "ticket.workaround": shanghai(2026, 10, 9, 17, 30),  # 0.5 h + 8 h + 7.5 h
        "ticket.resolution": shanghai(2026, 10, 10, 17, 30),
    }


def test_without_the_holidays_loaded_the_same_call_would_fall_due_during_the_holiday(
    clock, make_ticket, device_5x8
):
    # the contrast: a calendar that knows nothing of 2026's special days counts 1 October
    clock.move_to(shanghai(2026, 9, 30, 17, 30))

    ticket = make_ticket(equipment=device_5x8, level=Level.III)

    assert deadlines_of(ticket)["ticket.resolution"].due_at == shanghai(2026, 10, 5, 17, 30)


def test_the_schedule_of_the_loaded_calendar_matches_hand_counted_hours(holidays_2026):
    schedule = office().schedule()

    # a Sunday make-up working day counts; the National Day Monday does not
    assert is_open(shanghai(2026, 9, 20, 10, 0), schedule)
    assert not is_open(shanghai(2026, 10, 5, 10, 0), schedule)
    assert add_business_time(shanghai(2026, 9, 19, 12, 0), timedelta(hours=4), schedule) == shanghai(
        2026, 9, 20, 14, 0
    )
