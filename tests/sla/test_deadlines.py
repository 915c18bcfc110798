"""
The promises a ticket carries: which deadlines a call opens, when each falls due in the contract's
business time, and how the acts of the ticket's life meet, pause, resume, reopen and cancel them.
"""

import re

import pytest

from sla import services as clock_services
from sla.choices import State
from sla.models import Deadline, Policy
from tests.sla.conftest import deadlines_of, minutes, shanghai
from tickets import services
from tickets.choices import Kind, Level, Status
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MONDAY_9 = shanghai(2026, 11, 23, 9)
REPORT = {"fault_class": "硬件故障", "cause": "电源模块老化", "method": "更换电源模块", "loss": "无"}


def due(ticket) -> dict[str, object]:
    """{target: due_at} of the ticket's deadlines."""
    return {kind.removeprefix("ticket."): row.due_at for kind, row in deadlines_of(ticket).items()}


def warn(ticket) -> dict[str, object]:
    return {kind.removeprefix("ticket."): row.warn_at for kind, row in deadlines_of(ticket).items()}


def states(ticket) -> dict[str, str]:
    return {kind.removeprefix("ticket."): row.state for kind, row in deadlines_of(ticket).items()}


def accepted(ticket, engineer):
    return services.accept(ticket, by=engineer)


def d(day: int, hour: int, minute: int = 0):
    """A time in the week of Monday 23 November 2026."""
    return shanghai(2026, 11, day, hour, minute)


# Which deadlines a call opens, and when they fall due


def test_level_i_on_7x24_opens_every_promise_due_in_wall_clock_minutes(clock, make_ticket):
    # given a Saturday night: a 7x24 contract counts every minute, weekends included
    start = clock.move_to(shanghai(2026, 11, 21, 23, 0))
    # when the hotline logs a Level I fault that needs an engineer on site
    ticket = make_ticket(level=Level.I, on_site_required=True)
    # then
    assert due(ticket) == {
        "response": shanghai(2026, 11, 21, 23, 30),
        "arrival": shanghai(2026, 11, 22, 0, 0),
        "workaround": shanghai(2026, 11, 22, 1, 0),
        "resolution": shanghai(2026, 11, 22, 5, 0),
        "emergency_plan": shanghai(2026, 11, 22, 15, 0),
    }
    # warned when 75 % of each target has passed
    assert warn(ticket) == {
        "response": shanghai(2026, 11, 21, 23, 22, 30),
        "arrival": shanghai(2026, 11, 21, 23, 45),
        "workaround": shanghai(2026, 11, 22, 0, 30),
        "resolution": shanghai(2026, 11, 22, 3, 30),
        "emergency_plan": shanghai(2026, 11, 22, 11, 0),
    }
    for row in deadlines_of(ticket).values():
        assert (row.calendar.name, row.started_at, row.state, row.stage) == ("7x24", start, State.PENDING, 0)
        assert row.next_check_at == row.warn_at
        assert (row.met_at, row.paused_at) == (None, None)
        assert row.content_type.model_class().__name__ == "Ticket"
        assert row.object_id == ticket.pk
    assert {kind: row.target_seconds for kind, row in deadlines_of(ticket).items()} == {
        "ticket.response": 30 * 60,
        "ticket.arrival": 60 * 60,
        "ticket.workaround": 120 * 60,
        "ticket.resolution": 360 * 60,
        "ticket.emergency_plan": 960 * 60,
    }


def test_a_remote_site_adds_its_travel_time_to_the_arrival_only(clock, make_ticket, remote_device):
    # given a site 90 minutes' travel away
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    # when
    ticket = make_ticket(equipment=remote_device, level=Level.I, on_site_required=True)
    # then "travel time + 1 h": 150 minutes, warned at 75 % of them; the other targets are as usual
    deadlines = deadlines_of(ticket)
    assert deadlines["ticket.arrival"].due_at == shanghai(2026, 11, 23, 12, 30)
    assert deadlines["ticket.arrival"].warn_at == shanghai(2026, 11, 23, 11, 52, 30)
    assert deadlines["ticket.arrival"].target_seconds == 150 * 60
    assert due(ticket) == {
        "response": shanghai(2026, 11, 23, 10, 30),
        "arrival": shanghai(2026, 11, 23, 12, 30),
        "workaround": shanghai(2026, 11, 23, 12, 0),
        "resolution": shanghai(2026, 11, 23, 16, 0),
        "emergency_plan": shanghai(2026, 11, 24, 2, 0),
    }


# Logged Monday 23 November 2026, 09:00, the opening of a working day, with an engineer on site
# wherever the level has an arrival target. 5x8 counts 9:00–12:00 and 13:00–18:00 on weekdays.
EXPECTED = {
    ("7x24", Level.I): {
        "response": d(23, 9, 30),
        "arrival": d(23, 10),
        "workaround": d(23, 11),
        "resolution": d(23, 15),
        "emergency_plan": d(24, 1),
    },
    ("7x24", Level.II): {
        "response": d(23, 9, 30),
        "arrival": d(23, 11),
        "workaround": d(24, 9),
        "resolution": d(23, 17),
    },
    ("7x24", Level.III): {
        "response": d(23, 11),
        "arrival": d(23, 11),  # on site within 2 hours
        "workaround": d(25, 9),
        "resolution": d(24, 9),
    },
    ("7x24", Level.IV): {"response": d(23, 13), "workaround": d(28, 9), "resolution": d(24, 1)},
    ("5x8", Level.I): {
        "response": d(23, 9, 30),
        "arrival": d(23, 10),
        "workaround": d(23, 11),
        "resolution": d(23, 18),
        "emergency_plan": d(24, 18),
    },
    ("5x8", Level.II): {
        "response": d(23, 9, 30),
        "arrival": d(23, 11),
        "workaround": d(24, 18),
        "resolution": d(23, 18),
    },
    ("5x8", Level.III): {
        "response": d(23, 11),
        "arrival": d(23, 11),  # 9:00 + 2 working hours
        "workaround": d(24, 18),
        "resolution": d(25, 18),
    },
    ("5x8", Level.IV): {"response": d(23, 18), "workaround": d(27, 18), "resolution": d(24, 18)},
}


@pytest.mark.parametrize(("coverage", "level"), list(EXPECTED), ids=lambda value: str(value))
def test_each_fault_level_opens_its_deadlines_in_the_contracts_business_time(
    clock, make_ticket, device, device_5x8, coverage, level
):
    # given
    clock.move_to(MONDAY_9)
    equipment = device if coverage == "7x24" else device_5x8
    # when
    ticket = make_ticket(equipment=equipment, level=level, on_site_required=True)
    # then exactly these kinds, each due at start + target in business time
    assert due(ticket) == EXPECTED[coverage, level]
    calendar = Policy.objects.get(coverage=coverage).calendar
    assert {row.calendar for row in deadlines_of(ticket).values()} == {calendar}


def test_without_on_site_service_no_arrival_deadline_opens(clock, make_ticket):
    clock.move_to(MONDAY_9)

    ticket = make_ticket(level=Level.I, on_site_required=False)

    assert set(due(ticket)) == {"response", "workaround", "resolution", "emergency_plan"}


def test_level_ii_on_5x8_logged_friday_evening_counts_friday_then_monday(clock, make_ticket, device_5x8):
    # given Friday 20 November 2026, 17:30: half an hour of the working week is left
    clock.move_to(shanghai(2026, 11, 20, 17, 30))
    # when
    ticket = make_ticket(equipment=device_5x8, level=Level.II, on_site_required=True)
    # then the 30-minute response ends exactly at Friday's closing (the last counted instant),
    # and every longer target carries on Monday 9:00, skipping the lunch break
    assert due(ticket) == {
        "response": shanghai(2026, 11, 20, 18, 0),  # 0.5 h Friday
        "arrival": shanghai(2026, 11, 23, 10, 30),  # 0.5 h Friday + 1.5 h Monday
        "resolution": shanghai(2026, 11, 23, 17, 30),  # 0.5 h + 3 h + 4.5 h
        "workaround": shanghai(2026, 11, 24, 17, 30),  # 0.5 h + 8 h Monday + 7.5 h Tuesday
    }
    assert warn(ticket) == {
        "response": shanghai(2026, 11, 20, 17, 52, 30),  # 22.5 min
        "arrival": shanghai(2026, 11, 23, 10, 0),  # 1.5 h
        "resolution": shanghai(2026, 11, 23, 15, 30),  # 6 h
        "workaround": shanghai(2026, 11, 24, 13, 30),  # 12 h
    }


def test_warn_at_follows_the_policys_warn_percent(clock, make_ticket):
    Policy.objects.filter(coverage="7x24").update(warn_percent=50)
    clock.move_to(MONDAY_9)

    ticket = make_ticket(level=Level.II)

    assert warn(ticket) == {
        "response": shanghai(2026, 11, 23, 9, 15),
        "workaround": shanghai(2026, 11, 23, 21, 0),
        "resolution": shanghai(2026, 11, 23, 13, 0),
    }


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Kind.CONSULTATION, {"response": d(23, 9, 30), "resolution": d(24, 9)}),
        (Kind.SUGGESTION, {"response": d(23, 9, 30), "resolution": d(24, 9)}),
        (Kind.CHANGE, {"response": d(23, 9, 30), "resolution": d(24, 9)}),
        (Kind.COMPLAINT, {"response": d(23, 9, 15), "resolution": d(24, 9)}),
    ],
)
def test_non_fault_tickets_open_response_and_resolution_with_their_own_targets(
    clock, make_ticket, kind, expected
):
    # given a 7x24 contract
    clock.move_to(MONDAY_9)
    # when (no level: not a fault)
    ticket = make_ticket(kind=kind, level=None, on_site_required=True)
    # then consultations and suggestions use the non-fault targets, a complaint the 15-minute reply
    assert due(ticket) == expected


def test_a_consultation_on_5x8_uses_the_working_hours_non_fault_targets(clock, make_ticket, device_5x8):
    clock.move_to(MONDAY_9)

    ticket = make_ticket(equipment=device_5x8, kind=Kind.CONSULTATION, level=None)

    assert due(ticket) == {"response": d(23, 10), "resolution": d(23, 18)}


def test_paid_service_without_a_contract_uses_the_default_standard_5x8_policy(clock, make_ticket):
    # given Friday 17:30, and a call for which no contract is in force
    clock.move_to(shanghai(2026, 11, 20, 17, 30))
    # when
    ticket = make_ticket(level=Level.II, contract=None)
    # then the working-hours policy counts: Friday's last half hour, then Monday
    assert ticket.contract_id is None
    default = Policy.objects.get(is_default=True)
    assert (default.name, default.coverage) == ("Standard 5x8", "5x8")
    assert {row.calendar for row in deadlines_of(ticket).values()} == {default.calendar}
    assert due(ticket) == {
        "response": shanghai(2026, 11, 20, 18, 0),
        "workaround": shanghai(2026, 11, 24, 17, 30),
        "resolution": shanghai(2026, 11, 23, 17, 30),
    }


# Meeting the promises


def test_accepting_in_time_meets_the_response(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.II)
    clock.move_to(MONDAY_9 + minutes(10))

    accepted(ticket, engineer)

    response = deadlines_of(ticket)["ticket.response"]
    assert (response.state, response.met_at, response.next_check_at) == (
        State.MET,
        MONDAY_9 + minutes(10),
        None,
    )
    assert states(ticket) == {"response": State.MET, "workaround": State.PENDING, "resolution": State.PENDING}


def test_accepting_exactly_at_the_due_time_is_still_in_time(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.II)
    clock.move_to(MONDAY_9 + minutes(30))

    accepted(ticket, engineer)

    assert states(ticket)["response"] == State.MET


def test_accepting_after_the_due_time_meets_the_response_late(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.II)
    clock.move_to(MONDAY_9 + minutes(31))

    accepted(ticket, engineer)

    response = deadlines_of(ticket)["ticket.response"]
    assert (response.state, response.met_at) == (State.MET_LATE, MONDAY_9 + minutes(31))


def test_a_late_response_after_the_sweep_breached_it_is_met_late(clock, make_ticket, engineer, tier2):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.II)
    clock.move_to(MONDAY_9 + minutes(31))
    clock_services.sweep()
    assert states(ticket)["response"] == State.BREACHED
    # the breach moved the ticket to tier 2; its supervisor accepts it
    ticket.refresh_from_db()

    services.accept(ticket, by=tier2.supervisor)

    response = deadlines_of(ticket)["ticket.response"]
    assert (response.state, response.next_check_at, response.stage) == (State.MET_LATE, None, 2)


def test_recording_the_arrival_meets_the_arrival_deadline(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(5))
    services.start_travel(ticket, by=engineer)
    clock.move_to(MONDAY_9 + minutes(50))

    services.record_arrival(ticket, by=engineer)

    arrival = deadlines_of(ticket)["ticket.arrival"]
    assert (arrival.state, arrival.met_at) == (State.MET, MONDAY_9 + minutes(50))
    assert states(ticket) == {
        "response": State.MET,
        "arrival": State.MET,
        "workaround": State.PENDING,
        "resolution": State.PENDING,
        "emergency_plan": State.PENDING,
    }


def test_giving_a_workaround_meets_the_workaround_deadline(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(130))

    services.give_workaround(ticket, by=engineer, workaround="切换到备用链路")

    workaround = deadlines_of(ticket)["ticket.workaround"]
    assert (workaround.state, workaround.met_at) == (State.MET_LATE, MONDAY_9 + minutes(130))
    assert states(ticket)["resolution"] == State.PENDING


@pytest.mark.parametrize(
    ("level", "report_due"),
    [
        (Level.I, shanghai(2026, 11, 24, 12, 0)),
        (Level.II, shanghai(2026, 11, 24, 12, 0)),
        (Level.III, None),
    ],
)
def test_resolving_meets_what_remains_and_opens_the_report_for_level_i_and_ii(
    clock, make_ticket, engineer, level, report_due
):
    # given a fault on a 7x24 contract, accepted, with nothing else done
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=level, on_site_required=True)
    accepted(ticket, engineer)
    clock.move_to(shanghai(2026, 11, 23, 12, 0))
    # when
    services.resolve(ticket, by=engineer, resolution="更换电源模块")
    # then the response, workaround and resolution are met, late where their time had passed;
    # the arrival (due at 10:00 or 11:00) was never made: resolved remotely, it is recorded as
    # missed, not met; the emergency plan (due at 01:00 the next night) was not needed
    rows = deadlines_of(ticket)
    assert (rows["ticket.response"].state, rows["ticket.response"].met_at) == (State.MET, MONDAY_9)
    for kind in ("ticket.workaround", "ticket.resolution"):
        row = rows[kind]
        assert row.met_at == shanghai(2026, 11, 23, 12, 0)
        assert row.state == (State.MET if row.met_at <= row.due_at else State.MET_LATE)
    assert rows["ticket.resolution"].state == State.MET
    assert (rows["ticket.arrival"].state, rows["ticket.arrival"].met_at) == (State.MISSED, None)
    if level == Level.I:
        assert (rows["ticket.emergency_plan"].state, rows["ticket.emergency_plan"].met_at) == (
            State.CANCELLED,
            None,
        )
    assert all(row.next_check_at is None for kind, row in rows.items() if kind != "ticket.report")
    # ... and a Level I or II fault now owes its report within a day (7x24)
    report = deadlines_of(ticket).get("ticket.report")
    if report_due is None:
        assert report is None
    else:
        assert (report.state, report.started_at, report.due_at) == (
            State.PENDING,
            shanghai(2026, 11, 23, 12, 0),
            report_due,
        )
        assert report.warn_at == shanghai(2026, 11, 24, 6, 0)


def test_a_remote_fix_cancels_the_arrival_and_emergency_plan_as_not_needed(clock, make_ticket, engineer):
    # given a Level I fault needing a visit, logged at 9:00 (on site due 10:00)
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(45))
    # when it is fixed remotely at 9:45, nobody having travelled
    services.resolve(ticket, by=engineer, resolution="重启后恢复")
    # then the arrival and the emergency plan were not needed: neither counts as met
    assert states(ticket) == {
        "response": State.MET,
        "arrival": State.CANCELLED,
        "workaround": State.MET,
        "resolution": State.MET,
        "emergency_plan": State.CANCELLED,
        "report": State.PENDING,
    }
    arrival = Deadline.objects.for_object(ticket).get(kind="ticket.arrival")
    assert arrival.met_at is None


def test_writing_the_fault_report_meets_the_report_deadline(clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.II)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(60))
    services.resolve(ticket, by=engineer, resolution="更换电源模块")
    clock.move_to(MONDAY_9 + minutes(180))

    services.write_fault_report(ticket, by=engineer, **REPORT)

    report = deadlines_of(ticket)["ticket.report"]
    assert (report.state, report.met_at, report.next_check_at) == (
        State.MET,
        MONDAY_9 + minutes(180),
        None,
    )


# Pausing and resuming the clock


def test_waiting_for_the_customer_stops_the_clock_and_the_sweep_leaves_it_alone(clock, make_ticket, engineer):
    # given a Level I fault, accepted
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(10))
    # when the engineer waits for the customer
    services.pause(ticket, by=engineer, reason="等待客户提供日志")
    # then every open deadline stops; the met response is untouched
    for kind, row in deadlines_of(ticket).items():
        if kind == "ticket.response":
            assert (row.state, row.paused_at) == (State.MET, None)
        else:
            assert (row.state, row.paused_at, row.next_check_at) == (
                State.PENDING,
                MONDAY_9 + minutes(10),
                None,
            )
    before = {kind: (row.stage, row.state, row.due_at) for kind, row in deadlines_of(ticket).items()}
    # and a sweep long after every due time does nothing to them
    clock.move_to(shanghai(2026, 11, 26, 9, 0))
    result = clock_services.sweep()
    assert result.as_dict() == {"warned": 0, "escalated": {}, "lost_races": 0}
    assert {kind: (row.stage, row.state, row.due_at) for kind, row in deadlines_of(ticket).items()} == before


def test_resuming_on_7x24_moves_each_open_deadline_by_the_paused_time(clock, make_ticket, engineer):
    # given a Level I fault on 7x24 logged Monday 10:00, accepted, paused 10:10
    start = clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    clock.move_to(start + minutes(10))
    services.pause(ticket, by=engineer, reason="等待客户授权远程登录")
    # when the customer answers two hours later
    clock.move_to(start + minutes(130))
    services.resume(ticket, by=engineer)
    # then due and warn times move by exactly 2 h; the met response stays where it was
    assert due(ticket) == {
        "response": shanghai(2026, 11, 23, 10, 30),
        "workaround": shanghai(2026, 11, 23, 14, 0),
        "resolution": shanghai(2026, 11, 23, 18, 0),
        "emergency_plan": shanghai(2026, 11, 24, 4, 0),
    }
    assert warn(ticket) == {
        "response": shanghai(2026, 11, 23, 10, 22, 30),
        "workaround": shanghai(2026, 11, 23, 13, 30),
        "resolution": shanghai(2026, 11, 23, 16, 30),
        "emergency_plan": shanghai(2026, 11, 24, 0, 0),
    }
    for kind, row in deadlines_of(ticket).items():
        assert row.paused_at is None
        if kind != "ticket.response":
            assert (row.state, row.next_check_at) == (State.PENDING, row.warn_at)


def test_resuming_on_5x8_moves_by_the_paused_business_time_only(clock, make_ticket, engineer, device_5x8):
    # given a Level II fault on 5x8 logged Friday 9:00, accepted at once
    clock.move_to(shanghai(2026, 11, 20, 9, 0))
    ticket = make_ticket(equipment=device_5x8, level=Level.II)
    accepted(ticket, engineer)
    assert due(ticket)["resolution"] == shanghai(2026, 11, 20, 18, 0)
    # when paused Friday 17:00 and resumed Monday 10:00 (65 h on the wall, 2 h of working time)
    clock.move_to(shanghai(2026, 11, 20, 17, 0))
    services.pause(ticket, by=engineer, reason="等待客户确认停机窗口")
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    services.resume(ticket, by=engineer)
    # then each open deadline moves by 2 h of working time
    assert due(ticket) == {
        "response": shanghai(2026, 11, 20, 9, 30),  # met at once, not moved
        "resolution": shanghai(2026, 11, 23, 11, 0),  # was Friday 18:00
        "workaround": shanghai(2026, 11, 24, 11, 0),  # was Monday 18:00
    }
    assert warn(ticket) == {
        "response": shanghai(2026, 11, 20, 9, 22, 30),
        "resolution": shanghai(2026, 11, 20, 18, 0),  # was Friday 16:00: + Friday's last 2 h
        "workaround": shanghai(2026, 11, 23, 16, 0),  # was Monday 14:00
    }


def test_a_resumed_deadline_is_swept_again_at_its_new_time(clock, make_ticket, engineer):
    start = clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    services.pause(ticket, by=engineer, reason="等待客户")
    clock.move_to(start + minutes(60))
    services.resume(ticket, by=engineer)
    # the workaround warned at 11:30 before the pause; now at 12:30
    clock.move_to(start + minutes(149))
    assert clock_services.sweep().warned == 0

    clock.move_to(start + minutes(150))
    result = clock_services.sweep()

    assert result.warned == 1
    assert states(ticket)["workaround"] == State.WARNED


def test_waiting_for_parts_does_not_stop_the_clock(clock, make_ticket, engineer, tier2):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(10))

    services.wait_for_parts(ticket, by=engineer, note="等待电源模块")

    for kind, row in deadlines_of(ticket).items():
        if kind != "ticket.response":
            assert (row.paused_at, row.next_check_at) == (None, row.warn_at)
    # and the workaround lapses while the part is awaited
    clock.move_to(MONDAY_9 + minutes(120))
    clock_services.sweep()
    assert states(ticket)["workaround"] == State.BREACHED


@pytest.mark.parametrize("act", ["assign", "escalate"])
def test_leaving_the_wait_for_the_customer_by_reassignment_restarts_the_clock(
    clock, make_ticket, engineer, manager, team, tier2, act
):
    # given a Level I fault on 7x24, accepted, waiting for the customer since 10:10
    start = clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(level=Level.I)
    accepted(ticket, engineer)
    clock.move_to(start + minutes(10))
    services.pause(ticket, by=engineer, reason="等待客户授权远程登录")
    # when, two hours later, the manager hands it on instead of resuming it
    clock.move_to(start + minutes(130))
    if act == "assign":
        services.assign(ticket, by=manager, team=team, assignee=engineer, note="继续处理")
    else:
        services.escalate(ticket, by=manager, reason="客户已回复，需要二线支持")
    # then the ticket is no longer waiting, and its clock runs again from where it stopped
    assert Ticket.objects.get(pk=ticket.pk).status != Status.WAITING_CUSTOMER
    for kind, row in deadlines_of(ticket).items():
        if kind != "ticket.response":
            assert row.paused_at is None
            assert row.next_check_at == row.warn_at
    assert due(ticket)["workaround"] == shanghai(2026, 11, 23, 14, 0)


# Reopening, cancelling, answering


def test_reopening_opens_a_new_resolution_deadline(clock, make_ticket, engineer, alice):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.III)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(60))
    services.resolve(ticket, by=engineer, resolution="调整配置")
    clock.move_to(shanghai(2026, 11, 24, 15, 0))

    services.reopen(ticket, by=alice, reason="问题再次出现")

    resolutions = list(Deadline.objects.for_object(ticket).filter(kind="ticket.resolution").order_by("pk"))
    assert [(row.state, row.started_at, row.due_at) for row in resolutions] == [
        (State.MET, MONDAY_9, shanghai(2026, 11, 24, 9, 0)),
        (State.PENDING, shanghai(2026, 11, 24, 15, 0), shanghai(2026, 11, 25, 15, 0)),
    ]
    assert resolutions[1].next_check_at == shanghai(2026, 11, 25, 9, 0)
    assert Deadline.objects.for_object(ticket).open().count() == 1


def test_resolving_again_after_a_reopen_owes_one_report_not_two(clock, make_ticket, engineer, alice):
    # given a Level II fault resolved at 10:00 (its report due in a day), reopened at 11:00
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(level=Level.II)
    accepted(ticket, engineer)
    services.resolve(ticket, by=engineer, resolution="更换电源模块")
    clock.move_to(shanghai(2026, 11, 23, 11, 0))
    services.reopen(ticket, by=alice, reason="问题再次出现")
    accepted(ticket, engineer)
    # when it is resolved again, the report not yet written
    clock.move_to(shanghai(2026, 11, 23, 12, 0))
    services.resolve(ticket, by=engineer, resolution="更换主板")
    # then one report is owed
    assert Deadline.objects.for_object(ticket).open().filter(kind="ticket.report").count() == 1


def test_cancelling_a_ticket_cancels_its_open_deadlines(clock, make_ticket, engineer, agent):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(20))

    services.cancel(ticket, by=agent, reason="客户撤回报修")

    assert states(ticket) == {
        "response": State.MET,
        "arrival": State.CANCELLED,
        "workaround": State.CANCELLED,
        "resolution": State.CANCELLED,
        "emergency_plan": State.CANCELLED,
    }
    assert not Deadline.objects.for_object(ticket).filter(next_check_at__isnull=False).exists()
    clock.move_to(shanghai(2026, 11, 30, 9, 0))
    assert clock_services.sweep().as_dict() == {"warned": 0, "escalated": {}, "lost_races": 0}


def test_answering_a_consultation_on_the_spot_meets_and_closes_its_deadlines(clock, make_ticket, agent):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(kind=Kind.CONSULTATION, level=None, team=None, assignee=None)
    clock.move_to(MONDAY_9 + minutes(3))

    services.answer(ticket, by=agent, answer="在设置页面重新导入证书即可")

    rows = deadlines_of(ticket)
    assert {kind: (row.state, row.met_at) for kind, row in rows.items()} == {
        "ticket.response": (State.MET, MONDAY_9 + minutes(3)),
        "ticket.resolution": (State.MET, MONDAY_9 + minutes(3)),
    }
    assert not Deadline.objects.for_object(ticket).open().exists()


# The ticket page


def test_the_ticket_page_shows_each_deadline_with_its_state(client, clock, make_ticket, engineer):
    # given a Level I fault: the response met, the workaround warned, the others pending
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    accepted(ticket, engineer)
    clock.move_to(MONDAY_9 + minutes(91))
    clock_services.sweep()
    client.force_login(engineer)
    # when
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    # then one line per deadline: the open ones by due time (a pending one shows only its
    # countdown), then the closed ones
    items = re.findall(
        r'<li class="deadline deadline-(\w+)">\s*<span class="deadline-label">([^<]+)</span>\s*'
        r'(?:<span class="badge sla-\w+">([^<]+)</span>)?',
        body,
    )
    assert items == [
        ("breached", "On-site arrival", "Breached"),
        ("warned", "Workaround", "Warned"),
        ("pending", "Resolution", ""),
        ("pending", "Emergency plan", ""),
        ("met", "First response", "Met in time"),
    ]


def test_the_ticket_page_shows_a_paused_deadline_as_paused(client, clock, make_ticket, engineer):
    clock.move_to(MONDAY_9)
    ticket = make_ticket(level=Level.III)
    accepted(ticket, engineer)
    services.pause(ticket, by=engineer, reason="等待客户")
    client.force_login(engineer)

    body = client.get(f"/tickets/{ticket.number}/").content.decode()

    items = re.findall(
        r'<span class="deadline-label">([^<]+)</span>\s*<span class="badge sla-(\w+)">([^<]+)</span>', body
    )
    assert items == [
        ("Resolution", "pending", "Paused"),
        ("Workaround", "pending", "Paused"),
        ("First response", "met", "Met in time"),
    ]
