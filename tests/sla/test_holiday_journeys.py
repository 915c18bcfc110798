"""
A fault of each level on a 7x24 and on a 5x8 contract, logged the evening before China's National
Day week, told through time travel: warning, breach and the three escalation levels, pausing and
resuming, reopening, and auto-closing, each across the holiday.

On 7x24 every minute counts, the holiday included. On 5x8 the clock stops for the evenings, the
weekend and the seven closed days, and runs on the make-up Saturday after them.

Every due, warning and escalation time is written out below as the calendar gives it, counted by
hand (the arithmetic in the comments), never by the code under test: a clock that ignored the
make-up Saturday, or counted the holiday on 5x8, would miss them.
"""

from datetime import date, timedelta

import pytest

from accounts.choices import Tier
from sla import services as clock_services
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


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0):
    """A moment of 2026 in Shanghai."""
    return shanghai(2026, month, day, hour, minute, second)


# The four moments the sweep acts on a deadline logged at EVE, counted by hand: the warning (75 %
# of the target), the breach (100 %), level 2 (50 % of the target after the breach) and level 3
# (100 % after the breach). Targets (sla migration 0002), 7x24 / 5x8: response I 30/30, II 30/30,
# III 120/120, IV 240/480 min; resolution I 360/480, II 480/480, III 1440/1440, IV 960/960 min.
#
# 7x24 counts every minute from Wednesday 30 September 17:00.
# 5x8 counts Mon–Fri 9:00–12:00 and 13:00–18:00: 1 h on the eve (17:00–18:00), nothing from
# 1 to 7 October, then 8 h on Thursday 8, 8 h on Friday 9, 8 h on the make-up Saturday 10,
# nothing on Sunday 11, 8 h on Monday 12 … So, in hours worked since EVE: 1 at the eve's close,
# 9 at Thursday's, 17 at Friday's, 25 at Saturday's, 33 at Monday's, 41 at Tuesday's.
RESPONSE_CHECKS = {
    # 30 min: 22.5 min, 30 min, 30 + 15 min, 30 + 30 min after 17:00
    ("7x24", Level.I): [at(9, 30, 17, 22, 30), at(9, 30, 17, 30), at(9, 30, 17, 45), at(9, 30, 18)],
    ("7x24", Level.II): [at(9, 30, 17, 22, 30), at(9, 30, 17, 30), at(9, 30, 17, 45), at(9, 30, 18)],
    # 120 min: 1.5 h, 2 h, 2 + 1 h, 2 + 2 h after 17:00
    ("7x24", Level.III): [at(9, 30, 18, 30), at(9, 30, 19), at(9, 30, 20), at(9, 30, 21)],
    # 240 min: 3 h, 4 h, 4 + 2 h, 4 + 4 h after 17:00 (the last at 1:00 on 1 October)
    ("7x24", Level.IV): [at(9, 30, 20), at(9, 30, 21), at(9, 30, 23), at(10, 1, 1)],
    # 30 min, all within the eve's last working hour
    ("5x8", Level.I): [at(9, 30, 17, 22, 30), at(9, 30, 17, 30), at(9, 30, 17, 45), at(9, 30, 18)],
    ("5x8", Level.II): [at(9, 30, 17, 22, 30), at(9, 30, 17, 30), at(9, 30, 17, 45), at(9, 30, 18)],
    # 120 min: 1 h on the eve, then 0.5 h, 1 h, 2 h, 3 h of Thursday 8 from 9:00
    ("5x8", Level.III): [at(10, 8, 9, 30), at(10, 8, 10), at(10, 8, 11), at(10, 8, 12)],
    # 480 min: warning 6 h = 1 + 3 (9–12) + 2 (13–15) on Thursday 8; due 8 h = 1 + 7 (9–12,
    # 13–17); level 2 at 8 + 4 h = 17:00–18:00 and Friday 9–12; level 3 at 8 + 8 h = Friday 17:00
    ("5x8", Level.IV): [at(10, 8, 15), at(10, 8, 17), at(10, 9, 12), at(10, 9, 17)],
}
RESOLUTION_CHECKS = {
    # 360 min: 4.5 h, 6 h, 6 + 3 h, 6 + 6 h after 17:00
    ("7x24", Level.I): [at(9, 30, 21, 30), at(9, 30, 23), at(10, 1, 2), at(10, 1, 5)],
    # 480 min: 6 h, 8 h, 8 + 4 h, 8 + 8 h
    ("7x24", Level.II): [at(9, 30, 23), at(10, 1, 1), at(10, 1, 5), at(10, 1, 9)],
    # 1440 min: 18 h, 24 h, 24 + 12 h, 24 + 24 h
    ("7x24", Level.III): [at(10, 1, 11), at(10, 1, 17), at(10, 2, 5), at(10, 2, 17)],
    # 960 min: 12 h, 16 h, 16 + 8 h, 16 + 16 h
    ("7x24", Level.IV): [at(10, 1, 5), at(10, 1, 9), at(10, 1, 17), at(10, 2, 1)],
    # 480 min: 6 h = Thursday 15:00, 8 h = Thursday 17:00, 12 h = Friday 12:00, 16 h = Friday 17:00
    ("5x8", Level.I): [at(10, 8, 15), at(10, 8, 17), at(10, 9, 12), at(10, 9, 17)],
    ("5x8", Level.II): [at(10, 8, 15), at(10, 8, 17), at(10, 9, 12), at(10, 9, 17)],
    # 1440 min: 18 h = 17 + 1 (Saturday 9–10); 24 h = 17 + 7 (Saturday 9–12, 13–17);
    # 36 h = 33 + 3 (Tuesday 13, 9–12); 48 h = 41 + 7 (Wednesday 14, 9–12, 13–17)
    ("5x8", Level.III): [at(10, 10, 10), at(10, 10, 17), at(10, 13, 12), at(10, 14, 17)],
    # 960 min: 12 h = 9 + 3 (Friday 9–12); 16 h = 9 + 7 (Friday 17:00); 24 h = 17 + 7 (the
    # make-up Saturday, 17:00); 32 h = 25 + 7 (Monday 12, 17:00)
    ("5x8", Level.IV): [at(10, 9, 12), at(10, 9, 17), at(10, 10, 17), at(10, 12, 17)],
}


def follow_through_every_level(clock, deadline, checks: list) -> list[int]:
    """
    Move the clock to each of `checks` in turn and sweep: a second before, the level has not
    been acted on; at the moment, it is, once (two sweeps). Returns the ticket's tier after each.
    """
    deadline.refresh_from_db()
    assert (deadline.warn_at, deadline.due_at) == (checks[0], checks[1])
    tiers = []
    for level, moment in enumerate(checks):  # 0 warning, 1 breach, 2 and 3 escalations
        deadline.refresh_from_db()
        assert deadline.next_check_at == moment, f"level {level}"
        clock.move_to(moment - timedelta(seconds=1))
        clock_services.sweep()
        assert not Escalation.objects.filter(deadline=deadline, level=level).exists(), f"level {level}"
        clock.move_to(moment)
        clock_services.sweep()
        clock_services.sweep()
        assert Escalation.objects.filter(deadline=deadline, level=level).count() == 1, f"level {level}"
        tiers.append(Ticket.objects.get(pk=deadline.object_id).tier)
    deadline.refresh_from_db()
    assert (deadline.state, deadline.next_check_at) == (State.BREACHED, None)
    return tiers


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: f"level-{level}")
def test_a_fault_warns_breaches_and_climbs_three_levels_across_the_holiday(
    clock, make_ticket, equipment, coverage, level, tier2, tier3, leader
):
    # given: a fault logged on the eve of the holiday week
    clock.move_to(EVE)
    ticket = make_ticket(level=level, equipment=equipment)

    # when: time moves to each moment the sweep must act on its response, one level after another
    # then: each comes at the hand-counted time, and the ticket moves up a tier per level
    tiers = follow_through_every_level(
        clock, deadlines_of(ticket)["ticket.response"], RESPONSE_CHECKS[coverage, level]
    )
    assert tiers == [Tier.LOCAL, Tier.DEDICATED, Tier.EXPERT, Tier.EXPERT]


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: f"level-{level}")
def test_the_resolution_warns_breaches_and_escalates_at_hand_counted_times_across_the_holiday(
    clock, make_ticket, equipment, coverage, level, tier2, tier3, leader
):
    # given: a fault logged on the eve of the holiday week
    clock.move_to(EVE)
    ticket = make_ticket(level=level, equipment=equipment)

    # when / then: its resolution is warned, breached and escalated at the hand-counted times
    # (on 5x8, Level III falls due and Level IV escalates on the make-up Saturday)
    follow_through_every_level(
        clock, deadlines_of(ticket)["ticket.resolution"], RESOLUTION_CHECKS[coverage, level]
    )


def test_a_clock_that_ignored_the_make_up_saturday_would_miss_the_hand_counted_times(
    clock, make_ticket, device_5x8
):
    # given: the same calendar without its make-up Saturday (10 October closed, like any Saturday)
    SpecialDay.objects.filter(date=MAKE_UP_SATURDAY).delete()
    clock.move_to(EVE)

    # when: a Level III fault is logged on the eve on 5x8
    resolution = deadlines_of(make_ticket(level=Level.III, equipment=device_5x8))["ticket.resolution"]

    # then: 18 h = 17 + 1 and 24 h = 17 + 7 fall on Monday 12 October, not on Saturday 10: the
    # journeys above, which expect Saturday, fail on such a clock
    assert (resolution.warn_at, resolution.due_at) == (at(10, 12, 10), at(10, 12, 17))
    assert [resolution.warn_at, resolution.due_at] != RESOLUTION_CHECKS["5x8", Level.III][:2]


def test_pausing_over_the_holiday_moves_the_deadlines_by_the_paused_time(
    clock, make_ticket, equipment, coverage
):
    # given: a Level II fault logged and accepted on the eve, then waiting for the customer
    clock.move_to(EVE)
    ticket = make_ticket(level=Level.II, equipment=equipment)
    services.accept(ticket, by=ticket.assignee)
    before = deadlines_of(ticket)["ticket.resolution"]
    clock.move_to(shanghai(2026, 9, 30, 17, 30))
    services.pause(ticket, by=ticket.assignee, reason="等待客户节后提供停机窗口")

    # when: the customer answers after the holiday, Thursday 8 October 10:00
    clock.move_to(shanghai(2026, 10, 8, 10, 0))
    services.resume(Ticket.objects.get(pk=ticket.pk), by=ticket.assignee)

    # then: the deadline moved by the paused time. 7x24: 480 min from 17:00 was due 1 October 1:00
    # (warning 6 h, 23:00); 7.5 h were left at 17:30, due 8 October 10:00 + 7.5 h = 17:30 (warning
    # 1.5 h earlier). 5x8: due Thursday 8 October 17:00 (1 h + 7 h), warning 15:00 (1 h + 5 h);
    # paused 17:30–18:00 on the eve and 9:00–10:00 on the 8th (90 min), both move 90 working
    # minutes: 16:30, and 17:00–18:00 + Friday 9:00–9:30
    assert (before.warn_at, before.due_at) == {
        "7x24": (at(9, 30, 23), at(10, 1, 1)),
        "5x8": (at(10, 8, 15), at(10, 8, 17)),
    }[coverage]
    after = deadlines_of(ticket)["ticket.resolution"]
    assert (after.warn_at, after.due_at) == {
        "7x24": (at(10, 8, 15, 30), at(10, 8, 17, 30)),
        "5x8": (at(10, 8, 16, 30), at(10, 9, 9, 30)),
    }[coverage]
    assert after.paused_at is None and after.next_check_at == after.warn_at


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

    # then: a new resolution deadline runs from the reopening, in the contract's time: 1440 min.
    # 7x24: warning 18 h later (9 October 3:30), due 24 h later (9 October 9:30). 5x8: 7.5 h on
    # Thursday 8 (9:30–12, 13–18), 8 h on Friday 9 and on the make-up Saturday 10: warning at
    # 15.5 + 2.5 h (Saturday 11:30), due at 23.5 h on Saturday's close + 0.5 h (Monday 12, 9:30)
    resolutions = [row for row in deadlines_of_all(ticket) if row.kind == "ticket.resolution"]
    assert [row.state for row in resolutions] == [State.MET, State.PENDING]
    assert resolutions[1].started_at == reopened_at
    assert (resolutions[1].warn_at, resolutions[1].due_at) == {
        "7x24": (at(10, 9, 3, 30), at(10, 9, 9, 30)),
        "5x8": (at(10, 10, 11, 30), at(10, 12, 9, 30)),
    }[coverage]


def test_a_resolution_left_unconfirmed_over_the_holiday_closes_after_30_calendar_days(
    clock, make_ticket, equipment, coverage
):
    # given: a Level IV fault resolved on the eve
    clock.move_to(EVE)
    ticket = make_ticket(level=Level.IV, equipment=equipment)
    services.accept(ticket, by=ticket.assignee)
    clock.move_to(shanghai(2026, 9, 30, 17, 50))
    services.resolve(ticket, by=ticket.assignee, resolution="已远程修复")

    # when / then: 30 calendar days count, the holiday week included, whatever the coverage:
    # from 30 September 17:50 to 30 October 17:50
    clock.move_to(at(10, 30, 17, 49))
    assert services.auto_close() == 0
    clock.move_to(at(10, 30, 17, 50))
    assert services.auto_close() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def deadlines_of_all(ticket):
    from sla.models import Deadline

    return list(Deadline.objects.for_object(ticket).order_by("pk"))
