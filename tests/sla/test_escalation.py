"""
The sweep that warns and escalates lapsed ticket deadlines, told through time travel; the manual
sweep, the beat task, auto-close, the SLA queue page and escalation by hand.
"""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.choices import Role, ShiftKind, Tier
from notifications.choices import Channel
from notifications.models import Notification
from servicedesk.celery import app as celery_app
from sla import registry
from sla import services as clock_services
from sla.choices import State
from sla.models import Deadline, Escalation, PolicyTarget
from sla.tasks import sweep_deadlines_task
from tests.factories import (
    ContractFactory,
    EquipmentFactory,
    ShiftFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tests.sla.conftest import deadlines_of, minutes, shanghai
from tickets import services
from tickets.acts import allowed_acts
from tickets.choices import Event, Level, Status
from tickets.deadlines import TicketEscalation
from tickets.models import Ticket, TimelineEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MONDAY_10 = shanghai(2026, 11, 23, 10, 0)
NOTHING = {"warned": 0, "escalated": {}, "lost_races": 0}


def told_at(deadline: Deadline, level: int) -> set[str]:
    """Usernames told in-app about this deadline at this level (0 = warning)."""
    rows = Notification.objects.filter(
        dedupe_key__startswith=f"deadline-{deadline.pk}-{level}:", channel=Channel.IN_APP
    )
    return set(rows.values_list("recipient__username", flat=True))


def escalation_rows() -> list[tuple[int, str, int]]:
    return sorted(Escalation.objects.values_list("deadline__object_id", "deadline__kind", "level"))


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("team").get(pk=ticket.pk)


def sla_events(ticket: Ticket) -> list[tuple[str, dict, dict]]:
    events = ticket.events.filter(kind__in=[Event.SLA_WARNING, Event.ESCALATED]).order_by("pk")
    return [(event.kind, event.before, event.after) for event in events]


def usernames(*users) -> set[str]:
    return {user.username for user in users}


# A Level I fault, step by step


def test_a_level_i_response_warns_then_climbs_every_tier_and_reaches_a_company_leader(
    clock, make_ticket, team, tier2, tier3, engineer, supervisor, manager, leader
):
    # given a Level I fault on a 7x24 contract, logged Monday 10:00 for `engineer` of the tier-1 team:
    # the response warns at 10:22:30, is due 10:30, climbs at +50 % (10:45) and +100 % (11:00)
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I)
    response = deadlines_of(ticket)["ticket.response"]

    # when the sweep runs a second before the warning, nothing happens
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 29))
    assert clock_services.sweep().as_dict() == NOTHING

    # warning: the assignee and the team supervisor are told, in an internal timeline row
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 30))
    assert clock_services.sweep().as_dict() == {"warned": 1, "escalated": {}, "lost_races": 0}
    response.refresh_from_db()
    assert (response.state, response.stage, response.next_check_at) == (
        State.WARNED,
        1,
        shanghai(2026, 11, 23, 10, 30),
    )
    assert told_at(response, 0) == usernames(engineer, supervisor)
    warning = ticket.events.get(kind=Event.SLA_WARNING)
    assert (warning.note, warning.is_internal, warning.actor) == (
        "First response due at 11-23 10:30.",
        True,
        None,
    )
    assert set(Escalation.objects.get(deadline=response, level=0).told) == {
        str(engineer.pk),
        str(supervisor.pk),
    }
    assert fresh(ticket).tier == 1

    # breach (level 1): to tier 2, to the tier-2 team of the centre; the engineer on it keeps working
    clock.move_to(shanghai(2026, 11, 23, 10, 30))
    assert clock_services.sweep().as_dict() == {"warned": 0, "escalated": {"1": 1}, "lost_races": 0}
    after_breach = fresh(ticket)
    assert (after_breach.tier, after_breach.team, after_breach.assignee) == (
        Tier.DEDICATED,
        tier2,
        engineer,
    )
    assert after_breach.version == ticket.version + 1
    response.refresh_from_db()
    assert (response.state, response.stage, response.next_check_at) == (
        State.BREACHED,
        2,
        shanghai(2026, 11, 23, 10, 45),
    )
    escalated = ticket.events.filter(kind=Event.ESCALATED).get()
    assert (escalated.note, escalated.before, escalated.after) == (
        "First response overdue since 11-23 10:30: escalation level 1.",
        {"tier": "1", "team": "南京本地服务组"},
        {"tier": "2", "team": "南京专职维护组"},
    )
    # the next tier's members and the supervisor of the team that let it lapse; the duty recipient
    # of the level-1 rule is, in working hours with no roster entry, the centre manager (fallback)
    assert told_at(response, 1) == usernames(*tier2.members.all(), supervisor, manager)
    assert engineer.username not in told_at(response, 1)

    # level 2: to tier 3, and the centre manager hears of it
    clock.move_to(shanghai(2026, 11, 23, 10, 45))
    assert clock_services.sweep().as_dict() == {"warned": 0, "escalated": {"2": 1}, "lost_races": 0}
    after_level_2 = fresh(ticket)
    assert (after_level_2.tier, after_level_2.team, after_level_2.assignee) == (
        Tier.EXPERT,
        tier3,
        engineer,
    )
    assert sla_events(ticket)[-1] == (
        Event.ESCALATED,
        {"tier": "2", "team": "南京专职维护组"},
        {"tier": "3", "team": "南京产品专家组"},
    )
    assert told_at(response, 2) == usernames(*tier3.members.all(), manager)
    response.refresh_from_db()
    assert (response.stage, response.next_check_at) == (3, shanghai(2026, 11, 23, 11, 0))

    # level 3: a company leader, and the centre manager; the ticket stays at tier 3
    clock.move_to(shanghai(2026, 11, 23, 11, 0))
    assert clock_services.sweep().as_dict() == {"warned": 0, "escalated": {"3": 1}, "lost_races": 0}
    assert told_at(response, 3) == usernames(leader, manager)
    assert fresh(ticket).tier == Tier.EXPERT
    assert sla_events(ticket)[-1] == (Event.ESCALATED, {}, {})
    response.refresh_from_db()
    assert (response.state, response.stage, response.next_check_at) == (State.BREACHED, 4, None)

    # and there is nothing left to do for it
    assert escalation_rows() == [(ticket.pk, "ticket.response", level) for level in range(4)]
    clock.move_to(shanghai(2026, 11, 23, 11, 20))
    assert clock_services.sweep().as_dict() == NOTHING


def test_a_level_ii_fault_at_level_3_goes_to_the_centre_manager_not_a_company_leader(
    clock, make_ticket, tier2, tier3, manager, leader
):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.II)
    response = deadlines_of(ticket)["ticket.response"]

    clock.move_to(shanghai(2026, 11, 23, 11, 0))
    clock_services.sweep()

    assert told_at(response, 3) == usernames(manager)
    assert not Notification.objects.filter(recipient=leader).exists()


# Idempotence and catching up


def test_a_second_sweep_at_the_same_moment_does_nothing(clock, make_ticket, tier2, tier3, leader):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I)
    clock.move_to(shanghai(2026, 11, 23, 10, 30))
    first = clock_services.sweep()
    assert first.as_dict() == {"warned": 1, "escalated": {"1": 1}, "lost_races": 0}
    counts = (Notification.objects.count(), TimelineEvent.objects.count(), Escalation.objects.count())
    version = fresh(ticket).version

    second = clock_services.sweep()

    assert second.as_dict() == NOTHING
    assert (second.warned, sum(second.escalated.values()), second.lost_races) == (0, 0, 0)
    assert (Notification.objects.count(), TimelineEvent.objects.count(), Escalation.objects.count()) == counts
    assert fresh(ticket).version == version
    assert escalation_rows() == [(ticket.pk, "ticket.response", 0), (ticket.pk, "ticket.response", 1)]


def test_a_sweep_after_a_long_outage_catches_up_every_level_once(
    clock, make_ticket, tier2, tier3, manager, leader
):
    # given a Level I fault with five deadlines, and no sweep for two days
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    clock.move_to(shanghai(2026, 11, 25, 10, 0))
    # when one sweep runs (in small batches)
    result = clock_services.sweep(batch_size=2)
    # then every deadline is warned and escalated through every level, each exactly once
    assert result.as_dict() == {"warned": 5, "escalated": {"1": 5, "2": 5, "3": 5}, "lost_races": 0}
    kinds = ["arrival", "emergency_plan", "resolution", "response", "workaround"]
    assert escalation_rows() == [(ticket.pk, f"ticket.{kind}", level) for kind in kinds for level in range(4)]
    assert {(row.state, row.stage, row.next_check_at) for row in deadlines_of(ticket).values()} == {
        (State.BREACHED, 4, None)
    }
    # the ticket climbed once per level, not once per deadline
    assert (fresh(ticket).tier, fresh(ticket).team) == (Tier.EXPERT, tier3)
    events = sla_events(ticket)
    assert [kind for kind, _, _ in events].count(Event.SLA_WARNING) == 5
    assert [kind for kind, _, _ in events].count(Event.ESCALATED) == 15
    assert [(before, after) for _, before, after in events if before or after] == [
        ({"tier": "1", "team": "南京本地服务组"}, {"tier": "2", "team": "南京专职维护组"}),
        ({"tier": "2", "team": "南京专职维护组"}, {"tier": "3", "team": "南京产品专家组"}),
    ]
    assert fresh(ticket).version == ticket.version + 2
    # and the leader hears once per deadline
    to_leader = Notification.objects.filter(recipient=leader, kind="ticket.escalated", channel=Channel.IN_APP)
    assert to_leader.count() == 5
    # a second sweep finds nothing
    assert clock_services.sweep().as_dict() == NOTHING


def test_several_lapsing_deadlines_of_one_ticket_move_it_one_tier_per_level(clock, make_ticket, tier2, tier3):
    # given a Level I fault whose response and arrival are both due at 10:30
    PolicyTarget.objects.filter(policy__coverage="7x24", subject="level_1", target="arrival").update(
        minutes=30
    )
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I, on_site_required=True)
    # when both lapse: level 1 for both
    clock.move_to(shanghai(2026, 11, 23, 10, 31))
    assert clock_services.sweep().as_dict() == {"warned": 2, "escalated": {"1": 2}, "lost_races": 0}
    # then the ticket went up one tier, not two
    assert (fresh(ticket).tier, fresh(ticket).team) == (Tier.DEDICATED, tier2)
    assert [after for kind, _, after in sla_events(ticket) if kind == Event.ESCALATED] == [
        {"tier": "2", "team": "南京专职维护组"},
        {},
    ]
    # and at level 2 (10:45) once more, to tier 3
    clock.move_to(shanghai(2026, 11, 23, 10, 45))
    assert clock_services.sweep().as_dict() == {"warned": 0, "escalated": {"2": 2}, "lost_races": 0}
    assert (fresh(ticket).tier, fresh(ticket).team) == (Tier.EXPERT, tier3)
    moves = [(before["tier"], after["tier"]) for _, before, after in sla_events(ticket) if after]
    assert moves == [("1", "2"), ("2", "3")]
    assert fresh(ticket).version == ticket.version + 2


def test_an_escalation_already_recorded_is_not_acted_on_again(clock, make_ticket, engineer):
    # given another worker already recorded the warning of this deadline
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I)
    response = deadlines_of(ticket)["ticket.response"]
    Escalation.objects.create(deadline=response, level=0)
    # when the sweep reaches it
    clock.move_to(shanghai(2026, 11, 23, 10, 25))
    result = clock_services.sweep()
    # then the unique (deadline, level) keeps it from warning twice
    assert result.as_dict() == {"warned": 0, "escalated": {}, "lost_races": 1}
    assert told_at(response, 0) == set()
    assert not ticket.events.filter(kind=Event.SLA_WARNING).exists()
    response.refresh_from_db()
    assert (response.stage, response.next_check_at) == (1, shanghai(2026, 11, 23, 10, 30))


# After hours


def test_after_hours_the_engineer_on_duty_is_told_too(
    clock, make_ticket, centre, engineer, supervisor, tier2
):
    # given the night duty of the centre, Monday 18:00 to Tuesday 08:30
    duty = UserFactory(username="duty", role=Role.ENGINEER, centre=centre)
    ShiftFactory(
        user=duty,
        centre=centre,
        starts_at=shanghai(2026, 11, 23, 18, 0),
        ends_at=shanghai(2026, 11, 24, 8, 30),
        kind=ShiftKind.WEEKDAY_NIGHT,
    )
    # and a Level I fault logged Monday 21:40
    clock.move_to(shanghai(2026, 11, 23, 21, 40))
    ticket = make_ticket(level=Level.I)
    response = deadlines_of(ticket)["ticket.response"]
    # when the response warns (22:02:30) and lapses (22:10)
    clock.move_to(shanghai(2026, 11, 23, 22, 3))
    clock_services.sweep()
    clock.move_to(shanghai(2026, 11, 23, 22, 10))
    clock_services.sweep()
    # then the engineer on duty hears of both; the manager is not needed
    assert told_at(response, 0) == usernames(engineer, supervisor, duty)
    assert told_at(response, 1) == usernames(*tier2.members.all(), supervisor, duty)


def test_in_working_hours_the_night_duty_is_not_told_of_a_warning(
    clock, make_ticket, centre, engineer, supervisor
):
    # a roster entry that happens to cover the working day too
    ShiftFactory(
        user=UserFactory(username="duty", role=Role.ENGINEER, centre=centre),
        centre=centre,
        starts_at=shanghai(2026, 11, 23, 8, 0),
        ends_at=shanghai(2026, 11, 23, 20, 0),
    )
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I)

    clock.move_to(shanghai(2026, 11, 23, 10, 25))
    clock_services.sweep()

    assert told_at(deadlines_of(ticket)["ticket.response"], 0) == usernames(engineer, supervisor)


# A sweep that fails half-way


@pytest.fixture
def failing_escalation(monkeypatch):
    """The ticket handler's escalate raises on its third call; `calls` counts them."""
    handler = registry.handler_for("ticket.response")
    calls = []

    def escalate(batch, deadline, level, rule, *, now):
        calls.append(deadline.pk)
        if len(calls) == 3:
            raise RuntimeError("handler failed")
        return TicketEscalation.escalate(handler, batch, deadline, level, rule, now=now)

    monkeypatch.setattr(handler, "escalate", escalate)
    return monkeypatch


def _snapshot():
    rows = Deadline.objects.order_by("pk").values_list("pk", "state", "stage", "next_check_at")
    tickets = Ticket.objects.order_by("pk").values_list("pk", "tier", "team", "assignee", "version")
    return list(rows), list(tickets)


def test_a_sweep_that_fails_mid_batch_rolls_the_batch_back_and_the_next_sweep_completes(
    clock, make_ticket, tier2, failing_escalation
):
    # given three Level I faults whose responses have all lapsed
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(level=Level.I, title=f"故障{n}") for n in range(3)]
    clock.move_to(shanghai(2026, 11, 23, 10, 31))
    before = _snapshot()
    notifications = Notification.objects.count()
    # when the handler fails on the third deadline
    with pytest.raises(RuntimeError, match="handler failed"):
        clock_services.sweep()
    # then the whole batch is as it was
    assert _snapshot() == before
    assert Escalation.objects.count() == 0
    assert Notification.objects.count() == notifications
    assert not TimelineEvent.objects.filter(kind__in=[Event.SLA_WARNING, Event.ESCALATED]).exists()
    # and once the fault is gone the next sweep does everything, once
    failing_escalation.undo()
    result = clock_services.sweep()
    assert result.as_dict() == {"warned": 3, "escalated": {"1": 3}, "lost_races": 0}
    assert escalation_rows() == sorted(
        (ticket.pk, "ticket.response", level) for ticket in tickets for level in (0, 1)
    )
    assert {fresh(ticket).tier for ticket in tickets} == {Tier.DEDICATED}


def test_a_failing_batch_keeps_the_batches_before_it(clock, make_ticket, tier2, failing_escalation):
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(level=Level.I, title=f"故障{n}") for n in range(3)]
    clock.move_to(shanghai(2026, 11, 23, 10, 31))

    with pytest.raises(RuntimeError):
        clock_services.sweep(batch_size=2)

    # the first batch (two deadlines) is done; the second (the failing one) is not
    stages = sorted(row.stage for row in Deadline.objects.filter(kind="ticket.response"))
    assert stages == [0, 2, 2]
    assert Escalation.objects.count() == 4
    assert sorted(fresh(ticket).tier for ticket in tickets) == [1, 2, 2]


# The manual sweep and the beat task


def test_the_sla_sweep_command_prints_what_it_did_as_json(clock, make_ticket, tier2):
    clock.move_to(MONDAY_10)
    make_ticket(level=Level.I)
    clock.move_to(shanghai(2026, 11, 23, 10, 31))
    out = StringIO()

    call_command("sla_sweep", stdout=out)

    assert out.getvalue() == '{"warned": 1, "escalated": {"1": 1}, "lost_races": 0}\n'
    assert json.loads(out.getvalue()) == {"warned": 1, "escalated": {"1": 1}, "lost_races": 0}


def test_the_sweep_is_on_the_beat_schedule_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]

    assert entry == {"task": "sla.tasks.sweep_deadlines_task", "schedule": 60}
    assert sweep_deadlines_task.name == "sla.tasks.sweep_deadlines_task"
    assert "sla.tasks.sweep_deadlines_task" in celery_app.tasks
    assert sweep_deadlines_task.acks_late is True


def test_the_sweep_task_runs_eagerly_in_tests_and_returns_the_result(clock, make_ticket, tier2):
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    clock.move_to(MONDAY_10)
    make_ticket(level=Level.I)
    clock.move_to(shanghai(2026, 11, 23, 10, 25))

    result = sweep_deadlines_task.delay()

    assert result.get() == {"warned": 1, "escalated": {}, "lost_races": 0}
    assert Escalation.objects.filter(level=0).count() == 1


# Auto-close


@pytest.fixture
def resolved(clock, make_ticket, engineer):
    """A Level III fault resolved Monday 23 November 2026, 10:00."""
    clock.move_to(shanghai(2026, 11, 23, 9, 0))
    ticket = make_ticket(level=Level.III)
    services.accept(ticket, by=engineer)
    clock.move_to(MONDAY_10)
    return services.resolve(ticket, by=engineer, resolution="调整配置后恢复")


def test_a_resolution_unconfirmed_for_30_days_closes_and_the_customer_is_told(clock, resolved, alice):
    # given
    later = clock.move_to(MONDAY_10 + minutes(30 * 24 * 60 + 1))
    # when
    closed = services.auto_close()
    # then
    assert closed == 1
    ticket = fresh(resolved)
    assert (ticket.status, ticket.closed_at) == (Status.CLOSED, later)
    event = ticket.events.order_by("pk").last()
    assert (event.kind, event.actor, event.created_at) == (Event.AUTO_CLOSED, None, later)
    message = Notification.objects.get(kind="ticket.auto_closed", channel=Channel.IN_APP)
    assert (message.recipient, message.subject) == (alice, f"Your request {ticket.number} was closed")
    # and a second run closes nothing more
    assert services.auto_close() == 0


def test_a_resolution_of_29_days_ago_stays_resolved(clock, resolved):
    clock.move_to(MONDAY_10 + minutes(29 * 24 * 60))

    assert services.auto_close() == 0

    assert fresh(resolved).status == Status.RESOLVED
    assert not Notification.objects.filter(kind="ticket.auto_closed").exists()


def test_after_auto_close_the_customer_may_reopen_within_30_days(clock, resolved, alice):
    closed_at = clock.move_to(MONDAY_10 + minutes(30 * 24 * 60 + 1))
    services.auto_close()
    clock.move_to(closed_at + minutes(30 * 24 * 60))

    services.reopen(resolved, by=alice, reason="故障再次出现")

    ticket = fresh(resolved)
    assert ticket.status == Status.REOPENED
    assert ticket.events.order_by("pk").last().kind == Event.REOPENED


def test_after_auto_close_a_reopen_past_30_days_is_refused_as_final(clock, resolved, alice):
    closed_at = clock.move_to(MONDAY_10 + minutes(30 * 24 * 60 + 1))
    services.auto_close()
    clock.move_to(closed_at + minutes(30 * 24 * 60 + 1))

    with pytest.raises(services.TicketError) as refused:
        services.reopen(resolved, by=alice, reason="故障再次出现")

    assert refused.value.message == (
        "This ticket closed more than 30 days ago and is final: file a new request."
    )
    assert fresh(resolved).status == Status.CLOSED


# The SLA queue page


@pytest.fixture
def queue_world(clock, make_ticket, team, tier2, tier3, bob):
    """
    At Monday 10:25: `breached` (Level II, response due 10:20, moved to tier 2), `warned` (Level I,
    response due 10:30, still tier 1), `calm` (Level III, nothing close) and, at another centre,
    `elsewhere` (Level II, response due 10:28, warned).
    """
    other_centre = SupportCentreFactory(name="深圳技术支持中心", code="shenzhen")
    bob_site = SiteFactory(organisation=bob.contact.organisation, centre=other_centre, name="乙机房")
    bob_device = EquipmentFactory(
        site=bob_site,
        contract=ContractFactory(organisation=bob.contact.organisation, number="HT-2026-0900"),
        serial_number="SN-B-0001",
    )
    clock.move_to(shanghai(2026, 11, 23, 9, 50))
    breached = make_ticket(level=Level.II, title="业务系统变慢")
    clock.move_to(shanghai(2026, 11, 23, 9, 58))
    elsewhere = make_ticket(equipment=bob_device, level=Level.II, team=None, assignee=None, title="乙故障")
    clock.move_to(MONDAY_10)
    warned = make_ticket(level=Level.I, title="数据库宕机")
    calm = make_ticket(level=Level.III, title="报表错误")
    clock.move_to(shanghai(2026, 11, 23, 10, 25))
    clock_services.sweep()
    return {
        "breached": breached,
        "warned": warned,
        "calm": calm,
        "elsewhere": elsewhere,
        "other_centre": other_centre,
    }


def queue_rows(client, user, **params) -> list[tuple[str, str, str]]:
    client.force_login(user)
    response = client.get("/sla/queue/", params)
    assert response.status_code == 200
    return [(ticket.title, deadline.kind, deadline.state) for deadline, ticket in response.context["rows"]]


def test_the_manager_sees_warned_and_breached_tickets_of_the_region_by_due_time(client, queue_world, manager):
    assert queue_rows(client, manager) == [
        ("业务系统变慢", "ticket.response", State.BREACHED),
        ("数据库宕机", "ticket.response", State.WARNED),
    ]


def test_the_queue_filters_by_team_and_level(client, queue_world, manager, team, tier2):
    assert queue_rows(client, manager, team=tier2.pk) == [("业务系统变慢", "ticket.response", State.BREACHED)]
    assert queue_rows(client, manager, team=team.pk) == [("数据库宕机", "ticket.response", State.WARNED)]
    assert queue_rows(client, manager, level=1) == [("数据库宕机", "ticket.response", State.WARNED)]
    assert queue_rows(client, manager, level=3) == []


def test_the_queue_filters_by_centre(client, queue_world, admin_user, centre):
    everything = queue_rows(client, admin_user)
    assert everything == [
        ("业务系统变慢", "ticket.response", State.BREACHED),
        ("乙故障", "ticket.response", State.WARNED),
        ("数据库宕机", "ticket.response", State.WARNED),
    ]
    assert queue_rows(client, admin_user, centre=centre.pk) == [everything[0], everything[2]]
    assert queue_rows(client, admin_user, centre=queue_world["other_centre"].pk) == [everything[1]]


def test_a_team_supervisor_sees_the_queue_of_their_team(client, queue_world, supervisor, tier2):
    assert queue_rows(client, supervisor) == [("数据库宕机", "ticket.response", State.WARNED)]
    assert queue_rows(client, tier2.supervisor) == [("业务系统变慢", "ticket.response", State.BREACHED)]


def test_a_met_deadline_leaves_the_queue(client, queue_world, manager, engineer):
    warned = queue_world["warned"]
    services.accept(warned, by=engineer)  # meets the warned response
    assert queue_rows(client, manager) == [("业务系统变慢", "ticket.response", State.BREACHED)]


@pytest.mark.parametrize("persona", ["engineer", "alice"])
def test_the_queue_is_forbidden_to_engineers_without_a_team_and_to_customers(
    client, queue_world, request, persona
):
    user = request.getfixturevalue(persona)
    assert not user.supervised_teams.exists()
    client.force_login(user)

    assert client.get("/sla/queue/").status_code == 403


def test_the_queue_page_shows_the_level_of_escalation(client, queue_world, manager, english):
    client.force_login(manager)

    body = client.get("/sla/queue/").content.decode()

    assert "First response · level 1" in body
    assert queue_world["breached"].number in body
    assert queue_world["calm"].number not in body


# Escalation by hand


def test_the_manager_escalates_by_hand_one_tier_at_a_time(clock, make_ticket, manager, tier2, tier3):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.II)

    services.escalate(ticket, by=manager, reason="需要专职团队支持")

    ticket = fresh(ticket)
    assert (ticket.tier, ticket.team, ticket.assignee, ticket.status) == (2, tier2, None, Status.ASSIGNED)
    event = ticket.events.order_by("pk").last()
    assert (event.kind, event.actor, event.note) == (Event.ESCALATED, manager, "需要专职团队支持")
    assert set(
        Notification.objects.filter(kind="ticket.escalated", channel=Channel.IN_APP).values_list(
            "recipient__username", flat=True
        )
    ) == usernames(*tier2.members.all())
    assert "escalate" in [act.name for act in allowed_acts(manager, ticket)]

    services.escalate(ticket, by=manager, reason="需要产品专家")

    ticket = fresh(ticket)
    assert (ticket.tier, ticket.team) == (3, tier3)
    assert "escalate" not in [act.name for act in allowed_acts(manager, ticket)]


def test_escalating_by_hand_at_tier_3_is_refused(clock, make_ticket, manager, tier2, tier3):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.II)
    services.escalate(ticket, by=manager, reason="需要专职团队支持")
    services.escalate(ticket, by=manager, reason="需要产品专家")

    with pytest.raises(services.TicketError):
        services.escalate(ticket, by=manager, reason="再升级")

    assert fresh(ticket).tier == 3


def test_a_sweep_after_escalating_by_hand_does_not_move_the_ticket_twice(
    clock, make_ticket, manager, tier2, tier3
):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.II)
    services.escalate(ticket, by=manager, reason="需要专职团队支持")
    version = fresh(ticket).version

    clock.move_to(shanghai(2026, 11, 23, 10, 30))
    assert clock_services.sweep().as_dict() == {"warned": 1, "escalated": {"1": 1}, "lost_races": 0}

    ticket = fresh(ticket)
    assert (ticket.tier, ticket.team, ticket.version) == (2, tier2, version)
    assert sla_events(ticket)[-1] == (Event.ESCALATED, {}, {})


def test_a_level_1_breach_without_a_tier_2_team_raises_the_tier_and_keeps_the_team(
    clock, make_ticket, team, engineer
):
    clock.move_to(MONDAY_10)
    ticket = make_ticket(level=Level.I)
    TeamFactory(name="另一中心二线", tier=Tier.DEDICATED)  # another centre's tier-2 team is not used

    clock.move_to(shanghai(2026, 11, 23, 10, 30))
    clock_services.sweep()

    ticket = fresh(ticket)
    assert (ticket.tier, ticket.team, ticket.assignee) == (2, team, engineer)


# Digests: after an outage a team is told of many deadlines at once


def test_whoever_would_get_more_than_the_limit_gets_one_digest(
    clock, make_ticket, engineer, supervisor, settings
):
    # given: 25 Level I faults of the same engineer and team, whose responses warn at the same time
    settings.SLA_DIGEST_AFTER = 20
    for person in (engineer, supervisor):
        person.email = f"{person.username}@example.cn"
        person.save()
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(level=Level.I, title=f"核心交换机宕机 {n}") for n in range(25)]
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 30))

    # when
    result = clock_services.sweep()

    # then: each deadline is warned and records who was told ...
    assert result.warned == 25
    for ticket in tickets:
        response = deadlines_of(ticket)["ticket.response"]
        assert set(Escalation.objects.get(deadline=response, level=0).told) == {
            str(engineer.pk),
            str(supervisor.pk),
        }
    # ... and each of the two gets one digest in the application and one e-mail, not 25 of each
    for person in (engineer, supervisor):
        rows = Notification.objects.filter(recipient=person, kind="ticket.sla_warning")
        assert sorted(rows.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.IN_APP]
        digest = rows.get(channel=Channel.IN_APP)
        assert digest.subject == "25 ticket deadlines due soon"
        assert digest.body.splitlines() == [f"{ticket.number}: First response due soon" for ticket in tickets]
    # a second sweep at the same moment sends nothing more
    assert clock_services.sweep().as_dict() == NOTHING
    assert Notification.objects.filter(kind="ticket.sla_warning").count() == 4


def test_up_to_the_limit_each_deadline_has_its_own_message(clock, make_ticket, engineer, settings):
    settings.SLA_DIGEST_AFTER = 20
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(level=Level.I, title=f"核心交换机宕机 {n}") for n in range(20)]
    clock.move_to(shanghai(2026, 11, 23, 10, 22, 30))

    clock_services.sweep()

    rows = Notification.objects.filter(recipient=engineer, kind="ticket.sla_warning", channel=Channel.IN_APP)
    assert sorted(rows.values_list("subject", flat=True)) == sorted(
        f"{ticket.number}: First response due soon" for ticket in tickets
    )
    for ticket in tickets:
        assert told_at(deadlines_of(ticket)["ticket.response"], 0) == {"engineer", "supervisor"}
