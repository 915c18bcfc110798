"""
Promises kept right (issue 10, section 1): a policy and calendar per contract, every warning and
escalation reaching someone, complaints on their own path, each clock met only by what keeps it,
and a breach that stays a breach. Every expected time is worked out by hand in the comments.
"""

from datetime import time

import pytest
from django.db import IntegrityError, transaction

from accounts.choices import Role
from customers.choices import Coverage
from sla import services as clock_services
from sla.choices import State
from sla.models import Calendar, Deadline, Escalation, Policy, PolicyTarget, WorkingPeriod
from tests.factories import ContractFactory, EquipmentFactory, UserFactory
from tests.sla.conftest import deadlines_of, shanghai
from tickets import services
from tickets.choices import Kind, Level, Status
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def due(ticket) -> dict[str, object]:
    return {kind.split(".", 1)[1]: row.due_at for kind, row in deadlines_of(ticket).items()}


# 1.1 A policy per contract


@pytest.fixture
def bank_policy(db):
    """A customer's own promises: Level I answered in 5 minutes, counted 8:30–17:30 on weekdays."""
    hours = Calendar.objects.create(name="8:30–17:30")
    for weekday in range(5):
        WorkingPeriod.objects.create(calendar=hours, weekday=weekday, starts=time(8, 30), ends=time(17, 30))
    policy = Policy.objects.create(name="某银行专属", calendar=hours)
    PolicyTarget.objects.create(policy=policy, subject="level_1", target="response", minutes=5)
    PolicyTarget.objects.create(policy=policy, subject="level_1", target="resolution", minutes=120)
    return policy


def test_policy_per_contract_each_contract_keeps_its_own_numbers_and_hours(
    clock, make_ticket, site, bank_policy
):
    bank = ContractFactory(organisation=site.organisation, number="HT-BANK", policy=bank_policy)
    standard = ContractFactory(organisation=site.organisation, number="HT-STD", coverage=Coverage.BUSINESS)
    # given two contracts of one organisation, logged Monday 08:40, before nine
    clock.move_to(shanghai(2026, 11, 23, 8, 40))
    on_bank = make_ticket(equipment=EquipmentFactory(site=site, contract=bank))
    on_standard = make_ticket(equipment=EquipmentFactory(site=site, contract=standard))
    # the bank's day began at 8:30: 08:40 + 5 min = 08:45; resolution 08:40 + 2 h = 10:40
    assert due(on_bank) == {
        "response": shanghai(2026, 11, 23, 8, 45),
        "resolution": shanghai(2026, 11, 23, 10, 40),
    }
    # the standard 5x8 contract counts from 9:00: response 30 min → 09:30; resolution 8 working
    # hours → 9–12 (3 h) and 13–18 (5 h) → 18:00
    assert due(on_standard)["response"] == shanghai(2026, 11, 23, 9, 30)
    assert due(on_standard)["resolution"] == shanghai(2026, 11, 23, 18, 0)


def test_policy_per_contract_a_contract_may_name_its_own_calendar(clock, make_ticket, site, bank_policy):
    # given a 7x24-coverage contract whose response counts in the bank's 8:30–17:30 hours
    contract = ContractFactory(
        organisation=site.organisation,
        number="HT-CAL",
        coverage=Coverage.FULL,
        calendar=bank_policy.calendar,
    )
    # logged Friday 17:20: 10 minutes left that day, then Monday from 8:30
    clock.move_to(shanghai(2026, 11, 27, 17, 20))
    ticket = make_ticket(equipment=EquipmentFactory(site=site, contract=contract))
    # Premium 7x24's Level I response is 30 min: 10 on Friday + 20 on Monday → Monday 08:50
    assert due(ticket)["response"] == shanghai(2026, 11, 30, 8, 50)


def test_policy_per_contract_changing_a_policy_never_moves_open_deadlines(
    clock, make_ticket, site, bank_policy
):
    contract = ContractFactory(organisation=site.organisation, number="HT-BANK", policy=bank_policy)
    device = EquipmentFactory(site=site, contract=contract)
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    before = make_ticket(equipment=device)
    # when the policy's response target changes from 5 to 60 minutes
    PolicyTarget.objects.filter(policy=bank_policy, target="response").update(minutes=60)
    after = make_ticket(equipment=device)
    # then the ticket already open keeps 10:05; the new one gets 11:00
    assert due(before)["response"] == shanghai(2026, 11, 23, 10, 5)
    assert due(after)["response"] == shanghai(2026, 11, 23, 11, 0)


def test_policy_per_contract_any_number_of_policies_one_default_per_coverage_key(db, bank_policy):
    # many policies without a coverage key exist side by side ...
    Policy.objects.create(name="另一家的专属", calendar=bank_policy.calendar)
    assert Policy.objects.filter(coverage="").count() == 2
    # ... but a coverage key has one default policy
    with transaction.atomic(), pytest.raises(IntegrityError):
        Policy.objects.create(name="第二个7x24", coverage="7x24", calendar=bank_policy.calendar)
    assert clock_services.policy_for("7x24").name == "Premium 7x24"


# 1.2 No escalation reaches nobody

EVERY_CLASS = [
    (Kind.FAULT, Level.I),
    (Kind.FAULT, Level.II),
    (Kind.FAULT, Level.III),
    (Kind.FAULT, Level.IV),
    (Kind.COMPLAINT, None),
    (Kind.CONSULTATION, None),
    (Kind.SUGGESTION, None),
    (Kind.CHANGE, None),
]


def log_bare(organisation, by, kind, level):
    """A phone call with no site, no contract, no team and no assignee."""
    details = services.CallDetails(organisation=organisation, title="电话来电", kind=kind, level=level)
    return services.log_call(details, by=by, team=None, assignee=None)


def sweep_everything(clock) -> None:
    """Two months on: every warning and all three escalation levels of every deadline."""
    clock.move_to(shanghai(2027, 1, 25, 10, 0))
    clock_services.sweep()


def test_no_escalation_reaches_nobody_the_agents_centre_manager_answers(clock, alice, agent, manager):
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    organisation = alice.contact.organisation
    tickets = [log_bare(organisation, agent, kind, level) for kind, level in EVERY_CLASS]

    sweep_everything(clock)

    rows = Escalation.objects.filter(deadline__object_id__in=[t.pk for t in tickets])
    # every kind of deadline of every class, at the warning and each of the three levels
    assert sorted(set(rows.values_list("level", flat=True))) == [0, 1, 2, 3]
    assert rows.count() == Deadline.objects.filter(object_id__in=[t.pk for t in tickets]).count() * 4
    # no site and no team: the centre is the logging agent's, whose manager is told every time
    for row in rows:
        assert str(manager.pk) in row.told, (row.deadline.kind, row.level)


def test_no_escalation_reaches_nobody_the_desks_fallback_people_answer_last(clock, alice):
    # an agent who belongs to no centre logs every class of call; nobody else answers for them
    lone_agent = UserFactory(username="night_agent", role=Role.AGENT, centre=None)
    fallback = UserFactory(username="desk_lead", role=Role.MANAGER, is_desk_fallback=True)
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    tickets = [log_bare(alice.contact.organisation, lone_agent, kind, level) for kind, level in EVERY_CLASS]

    sweep_everything(clock)

    rows = list(Escalation.objects.filter(deadline__object_id__in=[t.pk for t in tickets]))
    assert len(rows) == Deadline.objects.filter(object_id__in=[t.pk for t in tickets]).count() * 4
    for row in rows:
        # the company leaders hear of a complaint's last level; everything else reaches the fallback
        assert row.told, (row.deadline.kind, row.level)
        assert str(fallback.pk) in row.told or row.level == 3


def test_no_escalation_reaches_nobody_an_unassigned_warning_goes_to_the_centre_manager(
    clock, make_ticket, manager, centre
):
    from tests.factories import TeamFactory

    # a ticket for a team without a supervisor, nobody assigned: the 75 % warning of its response
    unsupervised = TeamFactory(name="无主管班组", centre=centre, tier=1, supervisor=None)
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(team=unsupervised, assignee=None)
    # Level I on 7x24: response 30 min, warned at 75 % → 10:22:30
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 30))
    clock_services.sweep()

    warning = Escalation.objects.get(deadline__object_id=ticket.pk, deadline__kind="ticket.response", level=0)
    assert warning.told == [str(manager.pk)]


# 1.3 Complaints escalate on their own path


def test_complaints_escalate_supervisor_then_centre_manager_then_company_leader(
    clock, make_ticket, team, tier2, supervisor, manager, leader, engineer
):
    # a complaint on the 7x24 contract, logged Monday 10:00: response 15 min → due 10:15,
    # level 2 at +50 % of 15 min (10:22:30), level 3 at +100 % (10:30)
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(kind=Kind.COMPLAINT, level=None, assignee=None)
    response = deadlines_of(ticket)["ticket.response"]

    def told(level):
        row = Escalation.objects.get(deadline=response, level=level)
        return set(UserFactory._meta.model.objects.filter(pk__in=row.told).values_list("username", flat=True))

    clock.move_to(shanghai(2026, 11, 23, 10, 15))
    clock_services.sweep()
    assert told(1) == {supervisor.username}
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 30))
    clock_services.sweep()
    assert told(2) == {manager.username}
    clock.move_to(shanghai(2026, 11, 23, 10, 30))
    clock_services.sweep()
    assert told(3) == {leader.username}
    # the complaint stayed with its team: it never climbs the technical tiers
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.tier, ticket.team_id) == (1, team.pk)
    assert not {member.username for member in tier2.members.all()} & (told(1) | told(2) | told(3))


# 1.5 Each clock as the plans say

# Logged Friday 27 November 2026 at 15:40 (Asia/Shanghai); a remote site is 90 minutes away.
# 7x24 counts every minute. 5x8 counts Mon–Fri 9:00–12:00 and 13:00–18:00: 140 minutes are left
# on Friday (15:40–18:00), a full day is 480 minutes, so e.g. 480 min → 140 Fri + 180 (Mon 9–12)
# + 160 (Mon 13:00–15:40) → Monday 15:40, and 960 min → Tuesday 15:40.
FRI = 27


def at(day, hour, minute=0):
    """A day of November or December 2026 (days over 30 run into December)."""
    return shanghai(2026, 12, day - 30, hour, minute) if day > 30 else shanghai(2026, 11, day, hour, minute)


CLOCKS = {
    # (coverage, class): {target: (city due, remote due)}; one value when travel does not count
    ("7x24", Level.I): {
        "response": at(27, 16, 10),  # 30 min
        "arrival": (at(27, 16, 40), at(27, 18, 10)),  # 60 min; travel 90 + 60
        "workaround": at(27, 17, 40),  # 2 h
        "resolution": at(27, 21, 40),  # 6 h
        "emergency_plan": at(28, 7, 40),  # 16 h
    },
    ("7x24", Level.II): {
        "response": at(27, 16, 10),
        "arrival": (at(27, 17, 40), at(27, 19, 10)),  # 2 h; 90 + 120
        "workaround": at(28, 15, 40),  # 24 h
        "resolution": at(27, 23, 40),  # 8 h
    },
    ("7x24", Level.III): {
        "response": at(27, 17, 40),  # 2 h
        "arrival": (at(27, 17, 40), at(27, 19, 10)),  # 2 h; 90 + 120
        "workaround": at(29, 15, 40),  # 48 h
        "resolution": at(28, 15, 40),  # 24 h
    },
    ("7x24", Level.IV): {
        "response": at(27, 19, 40),  # 4 h
        "workaround": at(32, 15, 40),  # 5 days → Wednesday 2 December
        "resolution": at(28, 7, 40),  # 16 h
    },
    ("7x24", Kind.COMPLAINT): {"response": at(27, 15, 55), "resolution": at(28, 15, 40)},
    ("7x24", Kind.SUGGESTION): {"response": at(27, 16, 10), "resolution": at(28, 15, 40)},
    ("5x8", Level.I): {
        "response": at(27, 16, 10),  # 30 working min
        "arrival": (at(27, 16, 40), at(30, 9, 10)),  # 60; 150 = 140 Fri + 10 Mon
        "workaround": at(27, 17, 40),  # 120
        "resolution": at(30, 15, 40),  # 480
        "emergency_plan": at(31, 15, 40),  # 960 → Tuesday 1 December
    },
    ("5x8", Level.II): {
        "response": at(27, 16, 10),
        "arrival": (at(27, 17, 40), at(30, 10, 10)),  # 120; 210 = 140 Fri + 70 Mon
        "workaround": at(31, 15, 40),  # 960
        "resolution": at(30, 15, 40),  # 480
    },
    ("5x8", Level.III): {
        "response": at(27, 17, 40),  # 120
        "arrival": (at(27, 17, 40), at(30, 10, 10)),
        "workaround": at(31, 15, 40),  # 960
        "resolution": at(32, 15, 40),  # 1440 → Wednesday 2 December
    },
    ("5x8", Level.IV): {
        "response": at(30, 15, 40),  # 480
        "workaround": at(34, 15, 40),  # 2400 = 140 + 4 × 480 + 340 → Friday 4 December
        "resolution": at(31, 15, 40),  # 960
    },
    ("5x8", Kind.COMPLAINT): {"response": at(27, 15, 55), "resolution": at(30, 15, 40)},
    ("5x8", Kind.SUGGESTION): {"response": at(27, 16, 40), "resolution": at(30, 15, 40)},
}


@pytest.mark.parametrize("zone", ["city", "remote"])
@pytest.mark.parametrize(("coverage", "what"), list(CLOCKS), ids=str)
def test_each_clock_as_the_plans_say_table(
    clock, make_ticket, device, device_5x8, remote_device, remote_site, coverage, what, zone
):
    if zone == "remote":
        contract = ContractFactory(
            organisation=remote_site.organisation, number=f"HT-R-{coverage}", coverage=coverage
        )
        equipment = EquipmentFactory(site=remote_site, contract=contract)
    else:
        equipment = device if coverage == "7x24" else device_5x8
    kind, level = (what, None) if isinstance(what, Kind) else (Kind.FAULT, what)
    clock.move_to(at(FRI, 15, 40))

    ticket = make_ticket(equipment=equipment, kind=kind, level=level, on_site_required=kind == Kind.FAULT)

    expected = {
        target: (value[0] if zone == "city" else value[1]) if isinstance(value, tuple) else value
        for target, value in CLOCKS[(coverage, what)].items()
    }
    assert due(ticket) == expected


def test_each_clock_arrival_is_met_only_by_an_arrival(clock, make_ticket, engineer):
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    ticket = make_ticket(level=Level.II, on_site_required=True)
    services.accept(ticket, by=engineer)
    # the engineer travels and arrives at 11:30 (due 12:00)
    clock.move_to(shanghai(2026, 11, 23, 11, 0))
    services.start_travel(Ticket.objects.get(pk=ticket.pk), by=engineer)
    clock.move_to(shanghai(2026, 11, 23, 11, 30))
    services.record_arrival(Ticket.objects.get(pk=ticket.pk), by=engineer)
    arrival = deadlines_of(ticket)["ticket.arrival"]
    assert (arrival.state, arrival.met_at) == (State.MET, shanghai(2026, 11, 23, 11, 30))


def test_each_clock_the_report_falls_due_after_the_resolution_it_describes(
    clock, make_ticket, engineer, alice
):
    # a Level II fault resolved Monday 10:00 (report due Tuesday 10:00), reopened at 11:00
    clock.move_to(shanghai(2026, 11, 23, 9, 0))
    ticket = make_ticket(level=Level.II)
    services.accept(ticket, by=engineer)
    clock.move_to(shanghai(2026, 11, 23, 10, 0))
    services.resolve(Ticket.objects.get(pk=ticket.pk), by=engineer, resolution="更换电源模块")
    clock.move_to(shanghai(2026, 11, 23, 11, 0))
    services.reopen(Ticket.objects.get(pk=ticket.pk), by=alice, reason="问题再次出现")
    services.accept(Ticket.objects.get(pk=ticket.pk), by=engineer)
    # resolved for good on Wednesday 12:00, after the first report's due time had passed
    clock.move_to(shanghai(2026, 11, 25, 12, 0))
    services.resolve(Ticket.objects.get(pk=ticket.pk), by=engineer, resolution="更换主板")

    reports = Deadline.objects.for_object(ticket).filter(kind="ticket.report").order_by("pk")
    # the first report was not needed once the fault came back; the owed one counts from Wednesday
    # 12:00 + 24 h (7x24) → Thursday 12:00
    assert [(row.state, row.due_at) for row in reports] == [
        (State.CANCELLED, shanghai(2026, 11, 24, 10, 0)),
        (State.PENDING, shanghai(2026, 11, 26, 12, 0)),
    ]


# 1.6 A breached deadline stays breached


def test_a_breached_deadline_stays_breached_through_pause_and_resume(clock, make_ticket, engineer):
    # a Level II fault on 7x24, logged Friday 10:00: resolution 8 h → due 18:00; workaround 24 h
    # → due Saturday 10:00
    clock.move_to(shanghai(2026, 11, 27, 10, 0))
    ticket = make_ticket(level=Level.II)
    services.accept(ticket, by=engineer)
    clock.move_to(shanghai(2026, 11, 27, 18, 5))
    clock_services.sweep()
    assert deadlines_of(ticket)["ticket.resolution"].state == State.BREACHED
    # waiting for the customer from 18:30 Friday until Monday 09:00 (62 h 30 min) ...
    clock.move_to(shanghai(2026, 11, 27, 18, 30))
    services.pause(Ticket.objects.get(pk=ticket.pk), by=engineer, reason="等待客户提供日志")
    clock.move_to(shanghai(2026, 11, 30, 9, 0))
    services.resume(Ticket.objects.get(pk=ticket.pk), by=engineer)
    # ... and resolved at once
    services.resolve(Ticket.objects.get(pk=ticket.pk), by=engineer, resolution="调整配置")

    rows = deadlines_of(ticket)
    # the breached resolution did not move: it was met late
    assert (rows["ticket.resolution"].state, rows["ticket.resolution"].due_at) == (
        State.MET_LATE,
        shanghai(2026, 11, 27, 18, 0),
    )
    # the workaround had not lapsed: it moved by the 62 h 30 min paused: Saturday 10:00 + 48 h →
    # Monday 10:00, + 14 h 30 min → Tuesday 00:30
    assert rows["ticket.workaround"].due_at == shanghai(2026, 12, 1, 0, 30)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
