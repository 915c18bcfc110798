from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.choices import ShiftKind
from accounts.selectors import on_duty
from tests.factories import ShiftFactory, SupportCentreFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def night(centre, engineer):
    """Monday night 18:00 to Tuesday 09:00."""
    return ShiftFactory(user=engineer, centre=centre, starts_at=at(23, 18), ends_at=at(24, 9))


def test_engineer_on_shift_is_on_duty(centre, engineer, night):
    duty = on_duty(centre, at(24, 2))
    assert duty.primary == engineer
    assert duty.shifts == [night]
    assert not duty.is_fallback


def test_shift_is_half_open_at_the_hand_over(centre, engineer, night):
    morning = UserFactory(username="morning")
    ShiftFactory(user=morning, centre=centre, starts_at=at(24, 9), ends_at=at(24, 18))
    assert on_duty(centre, at(23, 18)).primary == engineer
    assert on_duty(centre, at(24, 9)).people == [morning]


def test_overlap_lists_everyone_latest_start_first(centre, engineer, night):
    relief = UserFactory(username="relief")
    ShiftFactory(user=relief, centre=centre, starts_at=at(24, 6), ends_at=at(24, 12))
    duty = on_duty(centre, at(24, 8))
    assert duty.people == [relief, engineer]
    assert duty.primary == relief


def test_same_person_on_two_overlapping_shifts_is_listed_once(centre, engineer, night):
    ShiftFactory(user=engineer, centre=centre, starts_at=at(24, 7), ends_at=at(24, 12))
    assert on_duty(centre, at(24, 8)).people == [engineer]


def test_gap_in_the_roster_falls_back_to_the_centre_manager(centre, night):
    duty = on_duty(centre, at(24, 10))
    assert duty.is_fallback
    assert duty.people == [centre.manager]


def test_gap_without_a_manager_gives_nobody(night):
    lonely = SupportCentreFactory(manager=None)
    duty = on_duty(lonely, at(24, 2))
    assert duty.people == []
    assert duty.primary is None
    assert duty.is_fallback


def test_other_centres_shifts_do_not_count(centre, night):
    elsewhere = SupportCentreFactory()
    assert on_duty(elsewhere, at(24, 2)).people == [elsewhere.manager]


def test_inactive_engineer_is_skipped_for_the_manager(centre, engineer, night):
    engineer.is_active = False
    engineer.save()
    assert on_duty(centre, at(24, 2)).people == [centre.manager]


def test_holiday_shift_spanning_days(centre):
    holiday_engineer = UserFactory(username="holiday")
    start = datetime(2027, 1, 1, 9, tzinfo=SHANGHAI)
    ShiftFactory(
        user=holiday_engineer,
        centre=centre,
        starts_at=start,
        ends_at=start + timedelta(days=3),
        kind=ShiftKind.HOLIDAY,
    )
    duty = on_duty(centre, datetime(2027, 1, 2, 23, tzinfo=SHANGHAI))
    assert duty.primary == holiday_engineer
    assert duty.shifts[0].kind == ShiftKind.HOLIDAY


def test_time_in_utc_finds_the_same_shift(centre, engineer, night):
    assert on_duty(centre, datetime(2026, 11, 23, 18, tzinfo=ZoneInfo("UTC"))).primary == engineer


def test_shift_must_end_after_it_starts(centre, engineer, english):
    shift = ShiftFactory.build(user=engineer, centre=centre, starts_at=at(24, 9), ends_at=at(24, 9))
    with pytest.raises(ValidationError, match="end after it starts"):
        shift.full_clean()
    with pytest.raises(IntegrityError):
        shift.save()
