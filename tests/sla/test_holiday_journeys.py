"""
A fault of each level on a 7x24 and on a 5x8 contract, logged the evening before China's National
Day week, told through time travel: warning, breach and the three escalation levels, pausing and
resuming, reopening, and auto-closing, each across the holiday.

On 7x24 every minute counts, the holiday included. On 5x8 the clock stops for the evenings, the
weekend and the seven closed days, and runs on the make-up Saturday after them; no check of a 5x8
deadline falls in closed time.
"""

from datetime import date, timedelta

import pytest

from accounts.choices import Tier
from sla import services as clock_services
from sla.businesstime import business_time_between, is_open
from sla.choices import DayKind, State
from sla.models import Escalation, SpecialDay
from tests.sla.conftest import deadlines_of, shanghai
from tickets import services
from tickets.choices import Level, Status
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Wednesday 30 September 2026, 17:00: an hour of working time left before the National Day week.
EVE = shanghai(2026, 9, 30, 17, 0)
HOLIDAY = [date(2026, 10, day) for day in range(1, 8)]
MAKE_UP_SATURDAY = date(2026, 10, 10)
LEVELS = [Level.I, Level.II, Level.III, Level.IV]


@pytest.fixture(autouse=True)
def national_day(db):
    for day in HOLIDAY:
        SpecialDay.objects.create(date=day, kind=DayKind.HOLIDAY, name="国庆节")
    SpecialDay.objects.create(date=MAKE_UP_SATURDAY, kind=DayKind.WORKDAY, name="国庆节调休")


@pytest.fixture(params=["7x24", "5x8"])
def coverage(request):
    return request.param


@pytest.fixture
def equipment(coverage, device, device_5x8):
    return device if coverage == "7x24" else device_5x8


def in_holiday(moment) -> bool:
    return moment.astimezone(EVE.tzinfo).date() in HOLIDAY


def assert_counted_in_the_contracts_time(deadline, start, coverage) -> None:
    """The due time is the target after `start` in the calendar's time; 5x8 never lands in closed time."""
    schedule = deadline.calendar.schedule()
    assert business_time_between(start, deadline.due_at, schedule) == deadline.target
    if coverage == "7x24":
        assert deadline.due_at - start == deadline.target
    else:
        assert not in_holiday(deadline.due_at)
        assert is_open(deadline.due_at - timedelta(seconds=1), schedule)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: f"level-{level}")
def test_a_fault_warns_breaches_and_climbs_three_levels_across_the_holiday(
    clock, make_ticket, equipment, coverage, level, tier2, tier3, leader
):
    # given: a fault logged on the eve of the holiday week
    clock.move_to(EVE)
    ticket = make_ticket(level=level, equipment=equipment)
    # (followed through its first promise, the response: the first of its deadlines to lapse)
    response = deadlines_of(ticket)["ticket.response"]
    assert_counted_in_the_contracts_time(response, EVE, coverage)

    # when: time moves to each moment the sweep must act, one level after another
    tiers, checks = [], []
    for level_due in range(4):  # 0 warning, 1 breach, 2 and 3 escalations
        response.refresh_from_db()
        moment = response.next_check_at
        assert moment is not None, f"level {level_due} was never scheduled"
        checks.append(moment)
        # a second before, nothing happens to it
        clock.move_to(moment - timedelta(seconds=1))
        clock_services.sweep()
        assert not Escalation.objects.filter(deadline=response, level=level_due).exists()
        # at the moment, this level, once
        clock.move_to(moment)
        clock_services.sweep()
        clock_services.sweep()
        assert Escalation.objects.filter(deadline=response, level=level_due).count() == 1
        tiers.append(Ticket.objects.get(pk=ticket.pk).tier)

    # then: warned, breached at its due time, up a tier per level, and nothing more to do
    response.refresh_from_db()
    assert (response.state, response.next_check_at) == (State.BREACHED, None)
    assert checks[1] == response.due_at
    assert checks == sorted(checks)
    assert tiers == [Tier.LOCAL, Tier.DEDICATED, Tier.EXPERT, Tier.EXPERT]
    schedule = response.calendar.schedule()
    if coverage == "5x8":
        # the 5x8 clock slept through the holiday: no check falls in closed time
        assert not any(in_holiday(moment) for moment in checks)
        assert all(is_open(moment - timedelta(seconds=1), schedule) for moment in checks)
    else:
        # the 7x24 clock did not: warning at 75 %, breach at 100 %, levels 2 and 3 after 50 % more each
        assert [moment - EVE for moment in checks] == [response.target * share for share in (0.75, 1, 1.5, 2)]


def test_pausing_over_the_holiday_moves_the_deadlines_by_the_paused_time(
    clock, make_ticket, equipment, coverage
):
    # given: a Level II fault logged and accepted on the eve, then waiting for the customer
    clock.move_to(EVE)
    ticket = make_ticket(level=Level.II, equipment=equipment)
    services.accept(ticket, by=ticket.assignee)
    before = deadlines_of(ticket)["ticket.resolution"]
    paused_at = clock.move_to(shanghai(2026, 9, 30, 17, 30))
    services.pause(ticket, by=ticket.assignee, reason="等待客户节后提供停机窗口")

    # when: the customer answers after the holiday, Thursday 8 October 10:00
    resumed_at = clock.move_to(shanghai(2026, 10, 8, 10, 0))
    services.resume(Ticket.objects.get(pk=ticket.pk), by=ticket.assignee)

    # then: the deadline moved by the paused time: all of it on 7x24, 17:30–18:00 on the eve and
    # 9:00–10:00 on the 8th (90 minutes) on 5x8
    after = deadlines_of(ticket)["ticket.resolution"]
    paused = after.due_at - before.due_at
    if coverage == "7x24":
        assert paused == resumed_at - paused_at
    else:
        schedule = after.calendar.schedule()
        assert business_time_between(before.due_at, after.due_at, schedule) == timedelta(minutes=90)
        assert not in_holiday(after.due_at)
    assert after.paused_at is None and after.next_check_at is not None


def test_reopening_after_the_holiday_opens_a_resolution_counted_from_then(
    clock, make_ticket, equipment, coverage, alice
):
    # given: a Level III fault resolved on the eve
    clock.move_to(EVE)
    ticket = make_ticket(level=Level.III, equipment=equipment)
    services.accept(ticket, by=ticket.assignee)
    clock.move_to(shanghai(2026, 9, 30, 17, 40))
    services.resolve(ticket, by=ticket.assignee, resolution="更换电源模块")

    # when: the customer reopens it on the first day back, 8 October 9:30
    reopened_at = clock.move_to(shanghai(2026, 10, 8, 9, 30))
    services.reopen(Ticket.objects.get(pk=ticket.pk), by=alice, reason="故障再次出现")

    # then: a new resolution deadline runs from the reopening, in the contract's time
    resolutions = [row for row in deadlines_of_all(ticket) if row.kind == "ticket.resolution"]
    assert [row.state for row in resolutions] == [State.MET, State.PENDING]
    assert resolutions[1].started_at == reopened_at
    assert_counted_in_the_contracts_time(resolutions[1], reopened_at, coverage)


def test_a_resolution_left_unconfirmed_over_the_holiday_closes_after_30_calendar_days(
    clock, make_ticket, equipment, coverage
):
    # given: a Level IV fault resolved on the eve
    clock.move_to(EVE)
    ticket = make_ticket(level=Level.IV, equipment=equipment)
    services.accept(ticket, by=ticket.assignee)
    resolved_at = clock.move_to(shanghai(2026, 9, 30, 17, 50))
    services.resolve(ticket, by=ticket.assignee, resolution="已远程修复")

    # when / then: 30 calendar days count, the holiday week included, whatever the coverage
    clock.move_to(resolved_at + timedelta(days=30) - timedelta(minutes=1))
    assert services.auto_close() == 0
    clock.move_to(resolved_at + timedelta(days=30))
    assert services.auto_close() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def deadlines_of_all(ticket):
    from sla.models import Deadline

    return list(Deadline.objects.for_object(ticket).order_by("pk"))
