"""The ticket services: intake, the lifecycle acts, comments, and who sees which ticket."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation

from accounts.choices import Role
from customers.choices import ContractStatus
from customers.models import Contract
from notifications.choices import Channel as NotificationChannel
from notifications.models import Notification
from tests.factories import ContactFactory, SiteFactory, SupportCentreFactory, TeamFactory, UserFactory
from tickets import selectors, services
from tickets.acts import allowed_acts
from tickets.choices import Channel, Event, Kind, Level, ProblemType, Status, WorkMethod
from tickets.models import Comment, Ticket, Visit, WorkLog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Every test starts on Monday 23 November 2026, 09:00 in Shanghai; time moves when told."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def state(ticket: Ticket) -> tuple:
    """What a refused act must leave as it was: status, version and the timeline's length."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    return ticket.status, ticket.version, ticket.events.count()


def inbox(user, kind: str | None = None) -> list[tuple[str, str]]:
    """The user's in-app notifications as (kind, subject), oldest first."""
    rows = Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk").values_list("kind", "subject"))


def details(device, /, **overrides) -> services.CallDetails:
    """A Level II fault on `device`, as the caller reported it; keywords override."""
    fields = {
        "organisation": device.site.organisation,
        "title": "核心交换机宕机",
        "kind": Kind.FAULT,
        "level": Level.II,
        "site": device.site,
        "equipment": device,
        "contract": device.contract,
    } | overrides
    return services.CallDetails(**fields)


@pytest.fixture
def working(ticket, engineer):
    """The Level II fault accepted by `engineer`: in progress."""
    return services.accept(ticket, by=engineer)


@pytest.fixture
def resolved(working, engineer):
    return services.resolve(working, by=engineer, resolution="更换电源模块后恢复")


# Numbers


def test_numbers_count_up_per_year_from_one(make_ticket):
    # when
    tickets = [make_ticket(), make_ticket(), make_ticket()]
    # then
    assert [t.number for t in tickets] == ["SD-2026-000001", "SD-2026-000002", "SD-2026-000003"]
    assert Ticket.objects.values("number").distinct().count() == 3


def test_numbers_start_again_in_the_local_new_year(make_ticket, clock):
    # given
    make_ticket()
    # when: 00:30 on 1 January in Shanghai is still 31 December in UTC
    clock.move_to(datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI), tick=False)
    ticket = make_ticket()
    # then
    assert ticket.number == "SD-2027-000001"


def test_a_refused_call_uses_no_number(make_ticket):
    # given
    make_ticket()
    with pytest.raises(services.TicketError):
        make_ticket(title=" ")
    # when
    ticket = make_ticket()
    # then
    assert ticket.number == "SD-2026-000002"


# Logging a call


def test_call_without_a_team_is_new_and_only_the_customer_hears_of_it(make_ticket, agent, device, alice):
    # when
    ticket = make_ticket(description="  全部业务中断  ")
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert (ticket.team, ticket.assignee, ticket.logged_by) == (None, None, agent)
    assert (ticket.organisation, ticket.site, ticket.equipment) == (
        alice.contact.organisation,
        device.site,
        device,
    )
    assert ticket.contract == device.contract
    assert ticket.centre == device.site.centre
    assert ticket.channel == Channel.PHONE
    assert ticket.description == "全部业务中断"
    assert ticket.version == 1
    assert ticket.created_at == NOW
    event = ticket.events.get()
    assert (event.kind, event.actor, event.after) == (Event.LOGGED, agent, {"status": "new"})
    assert list(Notification.objects.values_list("recipient", "kind")) == [(alice.pk, "ticket.logged")]


def test_call_with_team_and_engineer_is_assigned_and_notifies_the_engineer(
    make_ticket, agent, team, engineer
):
    # when
    ticket = make_ticket(team=team, assignee=engineer)
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert (ticket.team, ticket.assignee, ticket.tier) == (team, engineer, 1)
    event = ticket.events.get()
    assert event.kind == Event.LOGGED
    assert event.after == {
        "status": "assigned",
        "team": "南京本地服务组",
        "assignee": str(engineer),
    }
    assert inbox(engineer) == [("ticket.assigned", "Ticket SD-2026-000001 assigned to you: 核心交换机宕机")]
    assert inbox(team.supervisor) == []
    assert inbox(agent) == []


def test_call_with_a_team_only_notifies_the_team(make_ticket, team, engineer):
    # when
    ticket = make_ticket(team=team)
    # then
    assert ticket.status == Status.ASSIGNED
    assert ticket.assignee is None
    assert [kind for kind, _ in inbox(engineer)] == ["ticket.assigned"]
    assert [kind for kind, _ in inbox(team.supervisor)] == ["ticket.assigned"]


def test_call_assigned_to_someone_outside_the_team_is_refused(make_ticket, team, other_engineer):
    with pytest.raises(services.TicketError) as refused:
        make_ticket(team=team, assignee=other_engineer)
    assert str(refused.value) == f"{other_engineer} is not a member of 南京本地服务组."
    assert Ticket.objects.count() == 0


def test_call_cannot_be_assigned_to_a_customer(make_ticket, alice):
    with pytest.raises(services.TicketError) as refused:
        make_ticket(assignee=alice)
    assert str(refused.value) == f"{alice} is not an engineer."
    assert Ticket.objects.count() == 0


@pytest.fixture
def foreign(bob_device, bob):
    """Records of bob's organisation, 乙单位."""
    return {
        "site": bob_device.site,
        "contact": bob.contact,
        "contract": bob_device.contract,
        "equipment": bob_device,
    }


@pytest.mark.parametrize(
    "record, message",
    [
        pytest.param("site", "乙单位 · 乙机房 does not belong to 甲单位.", id="site"),
        pytest.param("contact", "{contact} does not belong to 甲单位.", id="contact"),
        pytest.param("contract", "HT-2026-0200 does not belong to 甲单位.", id="contract"),
        pytest.param("equipment", "PowerEdge R750 · SN-B-0001 does not belong to 甲单位.", id="equipment"),
    ],
)
def test_call_naming_another_organisations_record_is_refused(agent, device, foreign, record, message):
    # given
    call = details(device, **{record: foreign[record]})
    # when
    with pytest.raises(services.TicketError) as refused:
        services.log_call(call, by=agent)
    # then
    assert str(refused.value) == message.format(contact=foreign["contact"])
    assert Ticket.objects.count() == 0


def test_call_for_equipment_not_at_the_given_site_is_refused(agent, device):
    # given
    other_site = SiteFactory(organisation=device.site.organisation, name="第二机房")
    # when
    with pytest.raises(services.TicketError) as refused:
        services.log_call(details(device, site=other_site), by=agent)
    # then
    assert str(refused.value) == "Equipment SN-A-0001 is not at 第二机房."
    assert Ticket.objects.count() == 0


def test_fault_without_a_level_is_refused(agent, device):
    with pytest.raises(services.TicketError) as refused:
        services.log_call(details(device, level=None), by=agent)
    assert str(refused.value) == "A fault needs a level, I to IV."
    assert Ticket.objects.count() == 0


def test_consultation_ignores_a_level(agent, device):
    # when
    ticket = services.log_call(details(device, kind=Kind.CONSULTATION, level=Level.I), by=agent)
    # then
    ticket.refresh_from_db()
    assert (ticket.kind, ticket.level) == (Kind.CONSULTATION, None)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"status": ContractStatus.EXPIRED}, id="expired"),
        pytest.param({"ends_on": date(2026, 11, 22)}, id="ended yesterday"),
        pytest.param({"status": ContractStatus.SUSPENDED}, id="suspended"),
        pytest.param({"starts_on": date(2026, 12, 1)}, id="not yet in force"),
    ],
)
def test_call_under_a_contract_not_in_force_is_refused(agent, device, changes):
    # given
    Contract.objects.filter(pk=device.contract_id).update(**changes)
    device.refresh_from_db()
    # when
    with pytest.raises(services.TicketError) as refused:
        services.log_call(details(device), by=agent)
    # then
    assert str(refused.value) == (
        "Contract HT-2026-0100 does not cover service today: log the call as paid service (no contract)."
    )
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("title", ["", "   "])
def test_call_without_a_title_is_refused(agent, device, title):
    with pytest.raises(services.TicketError) as refused:
        services.log_call(details(device, title=title), by=agent)
    assert str(refused.value) == "Give the call a short title."
    assert Ticket.objects.count() == 0


def test_call_without_a_contract_is_paid_service(make_ticket):
    # when
    ticket = make_ticket(contract=None)
    # then
    assert ticket.contract is None
    assert ticket.is_paid_service


def test_call_under_a_contract_is_not_paid_service(make_ticket):
    assert not make_ticket().is_paid_service


@pytest.mark.parametrize("persona", ["agent", "manager", "admin_user"])
def test_the_desk_logs_calls(request, device, persona):
    person = request.getfixturevalue(persona)
    ticket = services.log_call(details(device), by=person)
    assert ticket.logged_by == person


@pytest.mark.parametrize("persona", ["engineer", "alice", "bob"])
def test_only_the_desk_logs_calls(request, device, persona):
    person = request.getfixturevalue(persona)
    with pytest.raises(services.TicketError) as refused:
        services.log_call(details(device), by=person)
    assert str(refused.value) == "Only the hotline logs calls."
    assert Ticket.objects.count() == 0


# Portal requests


def test_customer_files_a_request_for_her_organisation(alice, device):
    # given
    call = details(device, contract=None, level=Level.III, channel=Channel.PHONE)
    # when
    ticket = services.file_request(call, by=alice)
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.channel == Channel.PORTAL
    assert ticket.contact == alice.contact
    assert ticket.logged_by == alice
    assert ticket.contract == device.contract
    assert not ticket.is_paid_service
    # "Submitted on the portal", not "Call logged"
    assert ticket.events.get().kind == Event.FILED


def test_portal_request_on_equipment_out_of_contract_is_paid_service(alice, device):
    # given
    device.contract.status = ContractStatus.EXPIRED
    device.contract.save()
    # when
    ticket = services.file_request(details(device, contract=None), by=alice)
    # then
    assert ticket.contract is None
    assert ticket.is_paid_service


def test_customer_cannot_file_for_another_organisation(alice, bob_device):
    with pytest.raises(services.TicketError) as refused:
        services.file_request(details(bob_device, contract=None), by=alice)
    assert str(refused.value) == "Requests are filed for your own organisation only."
    assert Ticket.objects.count() == 0


def test_customer_cannot_name_another_organisations_equipment(alice, device, bob_device):
    call = details(device, contract=None, equipment=bob_device)
    with pytest.raises(services.TicketError) as refused:
        services.file_request(call, by=alice)
    assert str(refused.value) == "PowerEdge R750 · SN-B-0001 does not belong to 甲单位."
    assert Ticket.objects.count() == 0


def test_staff_do_not_file_portal_requests(agent, device):
    with pytest.raises(services.TicketError):
        services.file_request(details(device), by=agent)
    assert Ticket.objects.count() == 0


# The engineer's journey

JOURNEY = [
    # (act, arguments, status after, event, status before → after in the timeline)
    ("accept", {}, Status.IN_PROGRESS, Event.ACCEPTED, ("Assigned", "In progress")),
    ("start_travel", {}, Status.IN_PROGRESS, Event.TRAVEL_STARTED, None),
    ("record_arrival", {}, Status.ON_SITE, Event.ARRIVED, ("In progress", "On site")),
    (
        "log_work",
        {"minutes": 90, "method": WorkMethod.ON_SITE, "note": "更换电源模块"},
        Status.ON_SITE,
        Event.WORK_LOGGED,
        None,
    ),
    (
        "record_departure",
        {"signed_off_by": "王主任", "note": "现场恢复"},
        Status.IN_PROGRESS,
        Event.DEPARTED,
        ("On site", "In progress"),
    ),
    (
        "wait_for_parts",
        {"note": "等待主板"},
        Status.WAITING_PARTS,
        Event.WAITING_PARTS,
        ("In progress", "Waiting for parts"),
    ),
    ("resume", {}, Status.IN_PROGRESS, Event.RESUMED, ("Waiting for parts", "In progress")),
    (
        "give_workaround",
        {"workaround": "切换到备用链路"},
        Status.IN_PROGRESS,
        Event.WORKAROUND,
        None,
    ),
    (
        "resolve",
        {"resolution": "更换主板后恢复", "root_cause": "主板老化"},
        Status.RESOLVED,
        Event.RESOLVED,
        ("In progress", "Resolved"),
    ),
    ("confirm", {"score": 5}, Status.CLOSED, Event.CONFIRMED, ("Resolved", "Closed")),
]


def test_engineer_journey_from_accepting_to_the_customers_confirmation(ticket, engineer, alice, clock):
    for step, (act, arguments, status, event_kind, status_change) in enumerate(JOURNEY):
        # given: ten minutes between acts
        clock.move_to(at(10 * step), tick=False)
        person = alice if act == "confirm" else engineer
        # when
        getattr(services, act)(ticket, by=person, **arguments)
        # then
        ticket.refresh_from_db()
        assert ticket.status == status, act
        assert ticket.version == 2 + step, act
        # The customer's rating follows the confirmation in a row of its own.
        events = ticket.events.exclude(kind=Event.RATED)
        assert events.count() == 2 + step, act
        event = events.last()
        assert (event.kind, event.actor, event.created_at) == (event_kind, person, at(10 * step))
        if status_change:
            shown = {label: (old, new) for label, old, new in event.changes()}
            assert shown["status"] == status_change, act
        else:
            assert "status" not in event.before and "status" not in event.after, act

    assert ticket.assignee == engineer
    assert ticket.responded_at == at(0)
    assert ticket.travel_started_at == at(10)
    assert ticket.arrived_at == at(20)
    assert ticket.workaround_at == at(70)
    assert ticket.resolved_at == at(80)
    assert ticket.confirmed_at == ticket.closed_at == at(90)
    assert ticket.confirmed_by_customer is True
    assert (ticket.workaround, ticket.resolution, ticket.root_cause) == (
        "切换到备用链路",
        "更换主板后恢复",
        "主板老化",
    )
    visit = Visit.objects.get(ticket=ticket)
    assert (visit.engineer, visit.travel_started_at, visit.arrived_at, visit.departed_at) == (
        engineer,
        at(10),
        at(20),
        at(40),
    )
    assert (visit.signed_off_by, visit.note) == ("王主任", "现场恢复")
    work = WorkLog.objects.get(ticket=ticket)
    assert (work.engineer, work.minutes, work.method) == (engineer, 90, WorkMethod.ON_SITE)
    assert ticket.events.get(kind=Event.WORK_LOGGED).note == "On site · 90 min · 更换电源模块"


def test_milestones_are_set_once(ticket, engineer, agent, clock):
    # given: accepted, travelled, arrived, left, worked round
    services.accept(ticket, by=engineer)
    clock.move_to(at(10), tick=False)
    services.start_travel(ticket, by=engineer)
    clock.move_to(at(20), tick=False)
    services.record_arrival(ticket, by=engineer)
    services.record_departure(ticket, by=engineer)
    services.give_workaround(ticket, by=engineer, workaround="重启端口")
    # when: a second response, a second trip, a second workaround
    clock.move_to(at(60), tick=False)
    services.respond(ticket, by=agent, note="已回电告知进展")
    services.start_travel(ticket, by=engineer)
    services.record_arrival(ticket, by=engineer)
    services.give_workaround(ticket, by=engineer, workaround="改用备用交换机")
    # then
    ticket.refresh_from_db()
    assert ticket.responded_at == at(0)
    assert ticket.travel_started_at == at(10)
    assert ticket.arrived_at == at(20)
    assert ticket.workaround_at == at(20)
    assert ticket.workaround == "改用备用交换机"
    assert ticket.visits.count() == 2
    responded = ticket.events.get(kind=Event.RESPONDED)
    assert (responded.before, responded.after, responded.note) == ({}, {}, "已回电告知进展")


def test_a_second_trip_needs_the_first_to_end(working, engineer):
    # given
    services.start_travel(working, by=engineer)
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.start_travel(working, by=engineer)
    # then
    assert str(refused.value) == ("A visit is already under way: record the arrival or the departure first.")
    assert state(working) == before
    assert working.visits.count() == 1


def test_arriving_without_travel_is_refused(working, engineer):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.record_arrival(working, by=engineer)
    assert str(refused.value) == "Start travel before recording the arrival."
    assert state(working) == before
    assert working.visits.count() == 0


def test_resolving_while_on_site_needs_the_departure(working, engineer):
    # given
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.resolve(working, by=engineer, resolution="已修复")
    # then
    assert str(refused.value) == "Record the departure from the site before resolving."
    assert state(working) == before


def test_waiting_for_parts_on_site_then_travelling_again_with_the_part(working, engineer):
    # given: on site, the engineer finds a part is missing
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)
    services.wait_for_parts(working, by=engineer, note="等待主板")
    # when: the part came, the engineer goes back with it
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)
    services.record_departure(working, by=engineer)
    services.resolve(working, by=engineer, resolution="更换主板后恢复")
    # then
    working.refresh_from_db()
    assert working.status == Status.RESOLVED
    assert working.visits.filter(departed_at__isnull=True).count() == 0


@pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1, "30"])
def test_work_time_must_be_a_sensible_number_of_minutes(working, engineer, minutes):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.log_work(working, by=engineer, minutes=minutes, method=WorkMethod.PHONE, note="电话指导")
    assert str(refused.value) == "Time spent must be between 1 minute and 24 hours."
    assert state(working) == before
    assert WorkLog.objects.count() == 0


# Assigning and reassigning


@pytest.fixture
def far_engineer(db):
    """An engineer of a team of another support centre (成都)."""
    person = UserFactory(username="far", role=Role.ENGINEER)
    centre = SupportCentreFactory(name="成都技术支持中心", code="chengdu")
    TeamFactory(name="成都本地服务组", centre=centre).members.add(person)
    return person


def test_assign_refuses_engineer_of_another_centre(ticket, agent, far_engineer, engineer, team):
    # given
    before = state(ticket)
    # when: the agent names the engineer only, not a team
    with pytest.raises(services.TicketError) as refused:
        services.assign(ticket, by=agent, team=None, assignee=far_engineer)
    # then
    assert str(refused.value) == (
        f"{far_engineer} is not a member of 南京本地服务组, the ticket's team: choose their team as well."
    )
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (team, engineer)
    assert state(ticket) == before


def test_call_refuses_engineer_of_another_centre_without_a_team(make_ticket, far_engineer, centre):
    with pytest.raises(services.TicketError) as refused:
        make_ticket(assignee=far_engineer)
    assert str(refused.value) == f"{far_engineer} is not a member of any team of 南京技术支持中心."
    assert Ticket.objects.count() == 0


def test_engineer_named_alone_takes_the_ticket_to_their_team_of_the_centre(
    make_ticket, agent, team, engineer
):
    # given: a new ticket of the centre, with no team yet
    ticket = make_ticket()
    # when
    services.assign(ticket, by=agent, team=None, assignee=engineer)
    # then
    ticket.refresh_from_db()
    assert (ticket.status, ticket.team, ticket.assignee, ticket.tier) == (Status.ASSIGNED, team, engineer, 1)


def test_supervisor_reassigns_within_the_team_without_naming_it(ticket, team, engineer):
    services.assign(ticket, by=team.supervisor, team=None, assignee=team.supervisor)
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (team, team.supervisor)


def test_reassign_during_visit_closes_it_and_offers_only_working_acts(working, engineer, agent, team, clock):
    # given: the engineer is on site
    services.start_travel(working, by=engineer)
    clock.move_to(at(30), tick=False)
    services.record_arrival(working, by=engineer)
    clock.move_to(at(60), tick=False)
    colleague = team.supervisor
    # when: the desk hands the ticket to a colleague of the same team
    services.assign(working, by=agent, team=None, assignee=colleague, note="换人处理")
    # then: the visit ended with the reassignment, and the timeline says so
    visit = Visit.objects.get(ticket=working)
    assert (visit.arrived_at, visit.departed_at, visit.note) == (
        at(30),
        at(60),
        "Visit ended: left on reassignment.",
    )
    event = working.events.last()
    assert (event.kind, event.note) == (Event.ASSIGNED, "换人处理 Visit ended: left on reassignment.")
    # and: every step the colleague is offered succeeds, through to the resolution
    steps = [
        ("accept", {}),
        ("start_travel", {}),
        ("record_arrival", {}),
        ("record_departure", {"signed_off_by": "王主任"}),
        ("resolve", {"resolution": "更换电源模块"}),
    ]
    offered_names = {"record_arrival": "arrive", "record_departure": "depart"}
    for act, arguments in steps:
        working.refresh_from_db()
        offered = [offered_act.name for offered_act in allowed_acts(colleague, working)]
        assert offered_names.get(act, act) in offered, (act, offered)
        getattr(services, act)(working, by=colleague, **arguments)
    working.refresh_from_db()
    assert working.status == Status.RESOLVED
    assert working.visits.filter(departed_at__isnull=True).count() == 0


def test_escalation_during_visit_ends_it(working, engineer, manager):
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)

    services.escalate(working, by=manager, reason="需要专家")

    assert working.visits.get().departed_at == NOW
    assert working.events.last().note == "需要专家 Visit ended: left on reassignment."


def test_resolve_is_offered_on_site_only_after_leaving(working, engineer):
    # given: on site
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)
    working.refresh_from_db()
    # then: resolving, which needs the departure first, is not offered; leaving is
    offered = [act.name for act in allowed_acts(engineer, working)]
    assert "resolve" not in offered
    assert "depart" in offered
    # and: after leaving, it is
    services.record_departure(working, by=engineer)
    working.refresh_from_db()
    assert "resolve" in [act.name for act in allowed_acts(engineer, working)]


# Illegal transitions


@pytest.fixture
def bring(make_ticket, ticket, engineer, agent):
    """The ticket brought to `status` through the services."""

    def bring(status):
        if status == Status.NEW:
            return make_ticket()
        if status == Status.ASSIGNED:
            return ticket
        if status == Status.CANCELLED:
            return services.cancel(ticket, by=agent, reason="客户撤回")
        accepted = services.accept(ticket, by=engineer)
        if status == Status.IN_PROGRESS:
            return accepted
        done = services.resolve(accepted, by=engineer, resolution="已修复")
        if status == Status.RESOLVED:
            return done
        return services.confirm(done, by=agent)

    return bring


# What the assigned engineer may do to an in-progress ticket with no trip under way (accepting
# gave the first response, so responding is not among them).
IN_PROGRESS_ALLOWS = (
    "Start travel、Log work、Wait for the customer、Wait for parts、Give a workaround、"
    "Analyse、Request approval、Resolve、Change the billing、Comment"
)


@pytest.mark.parametrize(
    "status, act, arguments, persona, message",
    [
        pytest.param(
            Status.NEW,
            "resolve",
            {"resolution": "已修复"},
            "manager",
            "A ticket that is “New” cannot take “Resolve”. Allowed now: "
            "Assign、Respond、Escalate to the next tier、Cancel、Change the billing、Comment.",
            id="resolve a new ticket",
        ),
        pytest.param(
            Status.ASSIGNED,
            "record_arrival",
            {},
            "engineer",
            "A ticket that is “Assigned” cannot take “Arrived on site”. "
            "Allowed now: Accept、Respond、Change the billing、Comment.",
            id="arrive without accepting or travelling",
        ),
        pytest.param(
            Status.IN_PROGRESS,
            "confirm",
            {},
            "agent",
            "A ticket that is “In progress” cannot take “Confirm the resolution”. "
            "Allowed now: Assign、Cancel、Change the billing、Comment.",
            id="confirm an in-progress ticket",
        ),
        pytest.param(
            Status.IN_PROGRESS,
            "resume",
            {},
            "engineer",
            f"A ticket that is “In progress” cannot take “Resume”. Allowed now: {IN_PROGRESS_ALLOWS}.",
            id="resume a ticket that is not waiting",
        ),
        pytest.param(
            Status.RESOLVED,
            "record_departure",
            {},
            "engineer",
            "A ticket that is “Resolved” cannot take “Leave the site”. Allowed now: Write the "
            "fault report、Change the billing、Comment.",
            id="leave the site of a resolved ticket",
        ),
        pytest.param(
            Status.CLOSED,
            "accept",
            {},
            "engineer",
            "A ticket that is “Closed” cannot take “Accept”. "
            "Allowed now: Write the fault report、Change the billing、Comment.",
            id="accept a closed ticket",
        ),
        pytest.param(
            Status.CANCELLED,
            "add_comment",
            {"body": "还在吗"},
            "agent",
            "A ticket that is “Cancelled” cannot take “Comment”. Allowed now: nothing.",
            id="comment on a cancelled ticket",
        ),
    ],
)
def test_illegal_transition_says_what_is_allowed(request, bring, status, act, arguments, persona, message):
    # given
    ticket = bring(status)
    before = state(ticket)
    assert before[0] == status
    # when
    with pytest.raises(services.TransitionError) as refused:
        getattr(services, act)(ticket, by=request.getfixturevalue(persona), **arguments)
    # then
    assert str(refused.value) == message
    assert state(ticket) == before


# Roles


@pytest.mark.parametrize(
    "status, act, arguments, persona, label",
    [
        pytest.param(Status.ASSIGNED, "accept", {}, "alice", "Accept", id="customer accepts"),
        pytest.param(
            Status.IN_PROGRESS,
            "resolve",
            {"resolution": "已修复"},
            "other_engineer",
            "Resolve",
            id="engineer of another team resolves",
        ),
        pytest.param(
            Status.ASSIGNED,
            "cancel",
            {"reason": "不需要了"},
            "engineer",
            "Cancel",
            id="engineer cancels",
        ),
        pytest.param(
            Status.IN_PROGRESS,
            "start_travel",
            {},
            "agent",
            "Start travel",
            id="agent travels",
        ),
        pytest.param(
            Status.RESOLVED,
            "confirm",
            {},
            "engineer",
            "Confirm the resolution",
            id="engineer confirms",
        ),
    ],
)
def test_role_refusal_changes_nothing(request, bring, status, act, arguments, persona, label):
    # given
    ticket = bring(status)
    before = state(ticket)
    # when
    with pytest.raises(PermissionDenied) as refused:
        getattr(services, act)(ticket, by=request.getfixturevalue(persona), **arguments)
    # then
    assert str(refused.value) == f"Your role may not “{label}” this ticket."
    assert state(ticket) == before


def test_stale_version_is_refused_with_the_current_ticket(ticket, engineer, agent):
    # given: the engineer read version 1, then the agent responded
    seen = ticket.version
    services.respond(ticket, by=agent, note="已回电")
    before = state(ticket)
    # when
    with pytest.raises(services.StaleTicket) as stale:
        services.accept(ticket, by=engineer, expected_version=seen)
    # then
    assert str(stale.value) == (
        "Ticket SD-2026-000001 was changed by someone else (now version 2, status Assigned)."
    )
    assert (stale.value.current.pk, stale.value.current.version) == (ticket.pk, 2)
    assert state(ticket) == before


def test_current_version_is_accepted(ticket, engineer):
    accepted = services.accept(ticket, by=engineer, expected_version=1)
    assert (accepted.status, accepted.version) == (Status.IN_PROGRESS, 2)


# Waiting, analysis, answers


def test_pause_and_resume(working, engineer):
    # when
    services.pause(working, by=engineer, reason="等客户提供日志")
    working.refresh_from_db()
    paused_status = working.status
    services.resume(working, by=engineer, note="日志已收到")
    # then
    working.refresh_from_db()
    assert paused_status == Status.WAITING_CUSTOMER
    assert working.status == Status.IN_PROGRESS
    paused, resumed = working.events.filter(kind__in=[Event.PAUSED, Event.RESUMED])
    assert (paused.note, paused.before, paused.after) == (
        "等客户提供日志",
        {"status": "in_progress"},
        {"status": "waiting_customer"},
    )
    assert (resumed.note, resumed.after) == ("日志已收到", {"status": "in_progress"})


def test_pause_needs_a_reason(working, engineer):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.pause(working, by=engineer, reason="  ")
    assert str(refused.value) == "Say what the customer must do or give."
    assert state(working) == before


def test_operational_problem_turns_the_fault_into_a_consultation(working, engineer):
    # when
    services.analyse(working, by=engineer, problem_type=ProblemType.OPERATIONAL, note="操作员误关了端口")
    # then
    working.refresh_from_db()
    assert (working.kind, working.level, working.problem_type) == (
        Kind.CONSULTATION,
        None,
        ProblemType.OPERATIONAL,
    )
    assert working.status == Status.IN_PROGRESS
    event = working.events.last()
    assert event.kind == Event.ANALYSED
    assert event.before == {"problem_type": "", "kind": "fault", "level": "2"}
    assert event.after == {"problem_type": "operational", "kind": "consultation", "level": ""}
    # stored as codes, shown in the reader's language, in the order of the ticket's fields
    assert event.changes() == [
        ("class", "Fault", "Consultation"),
        ("fault level", "Level II", ""),
        ("problem type", "", "Operational problem"),
    ]
    with translation.override("zh-hans"):
        assert event.changes()[0] == ("类别", "故障", "咨询")


def test_technical_problem_stays_a_fault(working, engineer):
    services.analyse(working, by=engineer, problem_type=ProblemType.TECHNICAL, note="固件缺陷")
    working.refresh_from_db()
    assert (working.kind, working.level) == (Kind.FAULT, Level.II)


def test_answer_closes_a_consultation(make_ticket, agent):
    # given
    ticket = make_ticket(kind=Kind.CONSULTATION, level=None, title="如何导出日志")
    # when
    services.answer(ticket, by=agent, answer="在管理界面选择导出")
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.resolution == "在管理界面选择导出"
    assert ticket.responded_at == ticket.resolved_at == ticket.closed_at == NOW
    event = ticket.events.last()
    assert (event.kind, event.before["status"], event.after["status"]) == (
        Event.ANSWERED,
        "new",
        "closed",
    )


def test_answer_is_for_consultations_only(make_ticket, agent):
    ticket = make_ticket()
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.answer(ticket, by=agent, answer="重启试试")
    assert str(refused.value) == ("Only a consultation can be answered on the spot; this is a Fault.")
    assert state(ticket) == before


def test_analysed_consultation_can_be_answered(working, engineer, agent):
    services.analyse(working, by=engineer, problem_type=ProblemType.OPERATIONAL, note="误操作")
    services.answer(working, by=agent, answer="已指导客户开启端口")
    working.refresh_from_db()
    assert working.status == Status.CLOSED


# Confirmation and reopening


def test_agent_confirms_on_the_customers_word(resolved, agent):
    # when
    services.confirm(resolved, by=agent, note="电话确认")
    # then
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED
    assert resolved.confirmed_by_customer is False
    assert resolved.events.last().note == "Confirmed on the customer's word. 电话确认"


def test_customer_confirms_in_person(resolved, alice):
    services.confirm(resolved, by=alice, score=5)
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED
    assert resolved.confirmed_by_customer is True
    assert resolved.confirmed_at == resolved.closed_at == NOW
    assert resolved.events.get(kind=Event.CONFIRMED).note == ""
    assert (resolved.rating.score, resolved.rating.rated_at) == (5, NOW)


def test_reopen_within_30_days_of_closing(resolved, alice, engineer, team, clock):
    # given
    services.confirm(resolved, by=alice, score=3)
    # when
    clock.move_to(NOW + timedelta(days=30), tick=False)
    services.reopen(resolved, by=alice, reason="故障复现")
    # then
    resolved.refresh_from_db()
    assert resolved.status == Status.REOPENED
    assert (resolved.resolved_at, resolved.confirmed_at, resolved.closed_at) == (None, None, None)
    assert resolved.events.last().note == "故障复现"
    reopened = ("ticket.reopened", "Ticket SD-2026-000001 reopened")
    assert inbox(engineer, "ticket.reopened") == [reopened]
    assert inbox(team.supervisor, "ticket.reopened") == [reopened]
    assert inbox(alice, "ticket.reopened") == []


def test_reopened_ticket_goes_back_to_work(resolved, alice, engineer):
    services.reopen(resolved, by=alice, reason="故障复现")
    services.accept(resolved, by=engineer)
    resolved.refresh_from_db()
    assert resolved.status == Status.IN_PROGRESS


def test_closed_ticket_is_final_after_31_days(resolved, alice, clock):
    # given
    services.confirm(resolved, by=alice, score=4)
    clock.move_to(NOW + timedelta(days=31), tick=False)
    before = state(resolved)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.reopen(resolved, by=alice, reason="故障复现")
    # then
    assert str(refused.value) == (
        "This ticket closed more than 30 days ago and is final: file a new request."
    )
    assert state(resolved) == before


def test_reopen_needs_a_reason(resolved, alice):
    before = state(resolved)
    with pytest.raises(services.TicketError) as refused:
        services.reopen(resolved, by=alice, reason="")
    assert str(refused.value) == "Say why the resolution does not hold."
    assert state(resolved) == before


def test_resolve_asks_the_customer_to_confirm(working, engineer, alice, bob):
    # when
    services.resolve(working, by=engineer, resolution="更换电源模块后恢复")
    # then
    assert inbox(alice, "ticket.resolved") == [
        ("ticket.resolved", "Your request SD-2026-000001 is resolved: please confirm")
    ]
    assert Notification.objects.get(recipient=alice, kind="ticket.resolved").body == "更换电源模块后恢复"
    assert inbox(bob) == []


def test_resolve_needs_a_resolution(working, engineer):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.resolve(working, by=engineer, resolution=" ")
    assert str(refused.value) == "Describe the resolution."
    assert state(working) == before
    assert Notification.objects.filter(kind="ticket.resolved").count() == 0


def test_cancel_needs_a_reason(ticket, agent):
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.cancel(ticket, by=agent, reason="")
    assert str(refused.value) == "Say why the ticket is cancelled."
    assert state(ticket) == before


def test_cancel_closes_the_ticket(ticket, agent):
    services.cancel(ticket, by=agent, reason="客户撤回")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at, ticket.version) == (Status.CANCELLED, NOW, 2)
    assert ticket.events.last().note == "客户撤回"


# Comments


def test_customer_comment_notifies_the_assignee_and_supervisor(ticket, alice, engineer, team):
    # when
    comment = services.add_comment(ticket, by=alice, body="什么时候能到现场？")
    # then
    assert (comment.author, comment.body, comment.is_internal) == (
        alice,
        "什么时候能到现场？",
        False,
    )
    message = ("ticket.customer_comment", "Customer comment on SD-2026-000001")
    assert inbox(engineer, "ticket.customer_comment") == [message]
    assert inbox(team.supervisor, "ticket.customer_comment") == [message]
    event = ticket.events.last()
    assert (event.kind, event.note, event.is_internal) == (
        Event.COMMENTED,
        "什么时候能到现场？",
        False,
    )


def test_staff_reply_notifies_the_customer(ticket, engineer, alice):
    services.add_comment(ticket, by=engineer, body="下午两点到")
    assert inbox(alice, "ticket.reply") == [("ticket.reply", "Reply on your request SD-2026-000001")]


def test_internal_note_is_hidden_from_the_customer(ticket, engineer, alice, agent):
    # given
    services.add_comment(ticket, by=alice, body="请尽快处理")
    # when
    note = services.add_comment(ticket, by=engineer, body="客户机房需要门禁卡", is_internal=True)
    # then
    assert selectors.comments_for(alice, ticket) == [Comment.objects.get(author=alice)]
    assert selectors.comments_for(agent, ticket)[-1] == note
    assert [e.kind for e in selectors.timeline_for(alice, ticket)] == [
        Event.LOGGED,
        Event.COMMENTED,
    ]
    assert [e.kind for e in selectors.timeline_for(agent, ticket)] == [
        Event.LOGGED,
        Event.COMMENTED,
        Event.COMMENTED,
    ]
    assert [kind for kind, _subject in inbox(alice)] == ["ticket.logged"]


def test_customer_cannot_write_an_internal_note(ticket, alice):
    before = state(ticket)
    with pytest.raises(PermissionDenied) as refused:
        services.add_comment(ticket, by=alice, body="内部", is_internal=True)
    assert str(refused.value) == "Customers cannot write internal notes."
    assert state(ticket) == before
    assert Comment.objects.count() == 0


def test_empty_comment_is_refused(ticket, alice):
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.add_comment(ticket, by=alice, body="\n ")
    assert str(refused.value) == "Write a comment."
    assert state(ticket) == before
    assert Comment.objects.count() == 0


def test_markup_is_stored_as_typed(make_ticket, alice):
    # given
    title = "<script>alert('x')</script>交换机"
    body = '<img src=x onerror="alert(1)"> & <b>急</b>'
    # when
    ticket = make_ticket(title=title)
    services.add_comment(ticket, by=alice, body=body)
    # then
    ticket.refresh_from_db()
    assert ticket.title == title
    assert Comment.objects.get().body == body
    assert ticket.events.last().note == body


# Who sees what


@pytest.fixture
def tickets(make_ticket, ticket, team):
    """`ticket` (assigned to engineer), one for the team only, one not yet assigned."""
    return {
        "own": ticket,
        "team": make_ticket(team=team),
        "unassigned": make_ticket(),
    }


@pytest.mark.parametrize(
    "persona, sees",
    [
        ("agent", {"own", "team", "unassigned"}),
        ("admin_user", {"own", "team", "unassigned"}),
        ("manager", {"own", "team", "unassigned"}),
        ("engineer", {"own", "team"}),
        ("other_engineer", set()),
        ("alice", {"own", "team", "unassigned"}),
        ("bob", set()),
    ],
)
def test_visible_tickets_per_role(request, tickets, persona, sees):
    person = request.getfixturevalue(persona)
    visible = set(selectors.visible_tickets(person))
    assert {name for name, ticket in tickets.items() if ticket in visible} == sees
    assert len(visible) == len(sees)


def test_manager_of_another_centre_sees_none(tickets):
    other_manager = SupportCentreFactory(name="成都技术支持中心").manager
    assert list(selectors.visible_tickets(other_manager)) == []


def test_customer_of_another_organisation_gets_404(ticket, bob):
    with pytest.raises(Http404):
        selectors.access_ticket(bob, ticket.number)


def test_customer_opens_her_organisations_ticket(ticket, alice):
    assert selectors.access_ticket(alice, ticket.number) == ticket


def test_another_contact_of_the_organisation_sees_its_tickets(ticket, alice):
    colleague = UserFactory(username="carol", role=Role.CUSTOMER)
    ContactFactory(organisation=alice.contact.organisation, user=colleague)
    assert selectors.access_ticket(colleague, ticket.number) == ticket


def test_unknown_number_is_404(ticket, agent):
    with pytest.raises(Http404):
        selectors.access_ticket(agent, "SD-2026-999999")


def test_cancelling_a_ticket_ends_the_visit_under_way(agent, engineer, ticket):
    ticket = services.accept(ticket, by=engineer)
    ticket = services.start_travel(ticket, by=engineer)
    ticket = services.record_arrival(ticket, by=engineer)

    services.cancel(Ticket.objects.get(pk=ticket.pk), by=agent, reason="客户撤回报修")

    visit = ticket.visits.get()
    assert visit.departed_at is not None
