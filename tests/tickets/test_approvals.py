"""Risky actions, change requests and fault handling reports: who decides, and what is recorded."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from accounts.choices import Role
from accounts.models import User
from notifications.choices import Channel as NotificationChannel
from notifications.models import Notification
from tests.factories import TeamFactory, UserFactory
from tickets import services
from tickets.choices import Decision, Event, Impact, Kind, Level, Risk, Status
from tickets.models import ChangeRequest, FaultReport, RiskApproval, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def state(ticket: Ticket) -> tuple:
    """What a refused act must leave as it was: status, version and the timeline's length."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    return ticket.status, ticket.version, ticket.events.count()


@pytest.fixture
def supervisor(team):
    return team.supervisor


@pytest.fixture
def working(ticket, engineer):
    """The Level II fault accepted by `engineer`: in progress."""
    return services.accept(ticket, by=engineer)


# Risky actions


@pytest.fixture
def approval(working, engineer):
    return services.request_approval(
        working, by=engineer, risk=Risk.RESTART_DATABASE, plan="重启数据库以释放死锁"
    )


def test_request_for_a_risky_action_notifies_the_supervisor(working, engineer, supervisor):
    # when
    approval = services.request_approval(
        working, by=engineer, risk=Risk.RESTART_DATABASE, plan="重启数据库以释放死锁"
    )
    # then
    assert (approval.risk, approval.plan, approval.requested_by) == (
        Risk.RESTART_DATABASE,
        "重启数据库以释放死锁",
        engineer,
    )
    assert approval.decision == Decision.PENDING
    assert not approval.may_proceed
    notification = Notification.objects.get(channel=NotificationChannel.IN_APP, kind="ticket.approval")
    assert (notification.recipient, notification.kind, notification.subject) == (
        supervisor,
        "ticket.approval",
        "Approval needed on SD-2026-000001: Restart of a database",
    )
    event = working.events.last()
    assert (event.kind, event.note) == (
        Event.APPROVAL_REQUESTED,
        "Restart of a database: 重启数据库以释放死锁",
    )


@pytest.mark.parametrize(
    "risk, plan, message",
    [
        pytest.param("format_disk", "格式化", "Choose the risky action.", id="unknown risk"),
        pytest.param(Risk.REINSTALL, " ", "Say what will be done and why.", id="no plan"),
    ],
)
def test_request_needs_a_known_risk_and_a_plan(working, engineer, risk, plan, message):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.request_approval(working, by=engineer, risk=risk, plan=plan)
    assert str(refused.value) == message
    assert state(working) == before
    assert RiskApproval.objects.count() == 0
    assert Notification.objects.filter(kind="ticket.approval").count() == 0


def test_request_before_accepting_is_refused(ticket, engineer):
    before = state(ticket)
    with pytest.raises(services.TransitionError):
        services.request_approval(ticket, by=engineer, risk=Risk.REINSTALL, plan="重装系统")
    assert state(ticket) == before
    assert RiskApproval.objects.count() == 0


def test_supervisor_approves(approval, supervisor, working):
    # when
    decided = services.decide_risk(approval, by=supervisor, approve=True)
    # then
    approval.refresh_from_db()
    assert decided == approval
    assert (approval.decision, approval.decided_by, approval.decided_at) == (
        Decision.APPROVED,
        supervisor,
        NOW,
    )
    event = working.events.last()
    assert (event.kind, event.actor, event.note) == (
        Event.APPROVAL_DECIDED,
        supervisor,
        "Restart of a database: Approved.",
    )


@pytest.mark.parametrize("persona", ["manager", "admin_user"])
def test_managers_decide_too(request, approval, persona):
    person = request.getfixturevalue(persona)
    services.decide_risk(approval, by=person, approve=True)
    approval.refresh_from_db()
    assert (approval.decision, approval.decided_by) == (Decision.APPROVED, person)


def test_refusing_needs_a_reason(approval, supervisor, working):
    # given
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.decide_risk(approval, by=supervisor, approve=False, reason="  ")
    # then
    assert str(refused.value) == "Give the reason for refusing."
    approval.refresh_from_db()
    assert (approval.decision, approval.decided_by, approval.decided_at) == (
        Decision.PENDING,
        None,
        None,
    )
    assert state(working) == before


def test_supervisor_refuses_with_a_reason(approval, supervisor, working):
    services.decide_risk(approval, by=supervisor, approve=False, reason="业务高峰，改到夜间")
    approval.refresh_from_db()
    assert (approval.decision, approval.reason) == (Decision.REFUSED, "业务高峰，改到夜间")
    assert working.events.last().note == "Restart of a database: Refused. 业务高峰，改到夜间"


def test_a_decided_request_is_not_decided_again(approval, supervisor, manager, working):
    # given
    services.decide_risk(approval, by=supervisor, approve=True)
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.decide_risk(approval, by=manager, approve=False, reason="改主意")
    # then
    assert str(refused.value) == "This request was already decided."
    approval.refresh_from_db()
    assert (approval.decision, approval.decided_by) == (Decision.APPROVED, supervisor)
    assert state(working) == before


@pytest.mark.parametrize("persona", ["engineer", "other_engineer", "agent", "alice"])
def test_others_may_not_decide(request, approval, working, persona):
    # given: `engineer` asked for the approval, so deciding would be approving their own
    before = state(working)
    # when
    with pytest.raises(PermissionDenied) as refused:
        services.decide_risk(approval, by=request.getfixturevalue(persona), approve=True)
    # then
    assert str(refused.value) == "Only the team supervisor or a manager decides on risky actions."
    approval.refresh_from_db()
    assert approval.decision == Decision.PENDING
    assert state(working) == before


def test_supervisor_does_not_approve_their_own_request(working, supervisor):
    # given
    own = services.request_approval(working, by=supervisor, risk=Risk.DATA_DELETION, plan="删除损坏的索引")
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.decide_risk(own, by=supervisor, approve=True)
    # then
    assert str(refused.value) == "Nobody approves their own request."
    own.refresh_from_db()
    assert own.decision == Decision.PENDING
    assert state(working) == before


def test_manager_cannot_approve_own_request(working, manager, supervisor):
    # given: the region's manager asks for a risky action on the ticket himself
    own = services.request_approval(working, by=manager, risk=Risk.REINSTALL, plan="重装操作系统")
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.decide_risk(own, by=manager, approve=True)
    # then: refused, and the team supervisor decides instead
    assert str(refused.value) == "Nobody approves their own request."
    own.refresh_from_db()
    assert (own.decision, own.decided_by) == (Decision.PENDING, None)
    assert state(working) == before
    services.decide_risk(own, by=supervisor, approve=True)
    own.refresh_from_db()
    assert (own.decision, own.decided_by) == (Decision.APPROVED, supervisor)


def test_the_requester_is_not_offered_the_decision_on_the_page(client, working, manager, supervisor):
    services.request_approval(working, by=manager, risk=Risk.REINSTALL, plan="重装操作系统")
    client.cookies["django_language"] = "en"
    # the manager who asked sees who decides, not a form that would be refused
    client.force_login(manager)
    page = client.get(f"/tickets/{working.number}/").content.decode()
    assert "Your own request: someone else decides it." in page
    assert "Record the decision" not in page
    # the team supervisor gets the form
    client.force_login(supervisor)
    page = client.get(f"/tickets/{working.number}/").content.decode()
    assert "Record the decision" in page


def test_admin_cannot_approve_own_request_while_someone_else_can(working, admin_user, manager):
    own = services.request_approval(working, by=admin_user, risk=Risk.REINSTALL, plan="重装操作系统")
    with pytest.raises(services.TicketError) as refused:
        services.decide_risk(own, by=admin_user, approve=True)
    assert str(refused.value) == "Nobody approves their own request."
    own.refresh_from_db()
    assert own.decision == Decision.PENDING


def test_admin_decides_own_request_when_nobody_else_can(make_ticket, engineer, centre):
    # given: a desk whose only possible decider is the administrator (no manager, no supervisor)
    User.objects.filter(role=Role.MANAGER).update(is_active=False)
    admin = UserFactory(username="solo-admin", role=Role.ADMIN, centre=centre)
    team = TeamFactory(name="无主管组", centre=centre, supervisor=None)
    team.members.add(engineer)
    ticket = services.accept(make_ticket(team=team, assignee=engineer), by=engineer)
    own = services.request_approval(ticket, by=admin, risk=Risk.REINSTALL, plan="重装操作系统")
    # when
    services.decide_risk(own, by=admin, approve=True)
    # then
    own.refresh_from_db()
    assert (own.decision, own.decided_by) == (Decision.APPROVED, admin)


def test_consent_after_approval_lets_the_engineer_proceed(approval, supervisor, engineer, clock):
    # given
    services.decide_risk(approval, by=supervisor, approve=True)
    clock.move_to(NOW + timedelta(minutes=15), tick=False)
    # when
    consented = services.record_consent(approval, by=engineer, given_by=" 张主任 ", note="书面同意书已签")
    # then
    approval.refresh_from_db()
    assert consented == approval
    assert (approval.consent_by, approval.consent_at, approval.consent_note) == (
        "张主任",
        NOW + timedelta(minutes=15),
        "书面同意书已签",
    )
    assert approval.may_proceed


def test_consent_refused_while_approval_pending(approval, engineer, working):
    # given: the supervisor has not decided yet
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.record_consent(approval, by=engineer, given_by="张主任")
    # then
    assert str(refused.value) == (
        "The supervisor has not approved this action yet: record the consent after the approval."
    )
    approval.refresh_from_db()
    assert (approval.consent_by, approval.consent_at) == ("", None)
    assert not approval.may_proceed
    assert state(working) == before


def test_approval_without_consent_is_not_enough(approval, supervisor):
    services.decide_risk(approval, by=supervisor, approve=True)
    approval.refresh_from_db()
    assert not approval.may_proceed


def test_consent_refused_on_a_refused_action(approval, supervisor, engineer, working):
    # given
    services.decide_risk(approval, by=supervisor, approve=False, reason="风险太大")
    before = state(working)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.record_consent(approval, by=engineer, given_by="张主任")
    # then
    assert str(refused.value) == "This risky action was refused: there is nothing to consent to."
    approval.refresh_from_db()
    assert (approval.consent_by, approval.consent_at) == ("", None)
    assert not approval.may_proceed
    assert state(working) == before


def test_second_consent_does_not_overwrite_the_first(approval, supervisor, engineer, working, clock):
    # given: the approved action, consented by 张主任
    services.decide_risk(approval, by=supervisor, approve=True)
    services.record_consent(approval, by=engineer, given_by="张主任", note="书面同意书已签")
    before = state(working)
    clock.move_to(NOW + timedelta(hours=1), tick=False)
    # when: someone records another consent
    with pytest.raises(services.TicketError) as refused:
        services.record_consent(approval, by=supervisor, given_by="李科长", note="口头同意")
    # then: the first consent stands
    assert str(refused.value) == "The customer's consent is already recorded (张主任); it is recorded once."
    approval.refresh_from_db()
    assert (approval.consent_by, approval.consent_at, approval.consent_note) == (
        "张主任",
        NOW,
        "书面同意书已签",
    )
    assert state(working) == before


def test_consent_names_who_gave_it(approval, supervisor, engineer, working):
    services.decide_risk(approval, by=supervisor, approve=True)
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.record_consent(approval, by=engineer, given_by="")
    assert str(refused.value) == "Name the customer's representative who consented."
    approval.refresh_from_db()
    assert (approval.consent_by, approval.consent_at) == ("", None)
    assert state(working) == before


def test_timeline_shows_request_decision_and_consent(approval, supervisor, engineer, working):
    # when
    services.decide_risk(approval, by=supervisor, approve=True)
    services.record_consent(approval, by=engineer, given_by="张主任", note="已签字")
    # then
    events = [(e.kind, e.actor, e.note) for e in working.events.all()]
    assert events[2:] == [
        (Event.APPROVAL_REQUESTED, engineer, "Restart of a database: 重启数据库以释放死锁"),
        (Event.APPROVAL_DECIDED, supervisor, "Restart of a database: Approved."),
        (Event.CONSENT_RECORDED, engineer, "Restart of a database: 张主任. 已签字"),
    ]
    working.refresh_from_db()
    assert working.version == 5


# Change requests


@pytest.fixture
def change_ticket(make_ticket, team, engineer):
    return make_ticket(kind=Kind.CHANGE, level=None, title="增加异地备份", team=team, assignee=engineer)


def test_change_request_is_submitted_for_the_department_leader(change_ticket, engineer):
    # when
    change = services.submit_change(change_ticket, by=engineer, effort_days=3, impact=Impact.MINOR)
    # then
    assert (change.effort_days, change.impact, change.decision) == (
        Decimal("3.0"),
        Impact.MINOR,
        Decision.PENDING,
    )
    assert not change.needs_company_leader
    event = change_ticket.events.last()
    assert (event.kind, event.note) == (
        Event.CHANGE_REQUESTED,
        "3.0 working days, Minor impact: for the department leader to approve.",
    )


def test_large_change_is_for_a_company_leader(change_ticket, agent):
    change = services.submit_change(change_ticket, by=agent, effort_days="10", impact=Impact.MAJOR)
    assert change.needs_company_leader
    assert change_ticket.events.last().note == (
        "10.0 working days, Major impact: for a company leader to approve."
    )


def test_a_fault_does_not_go_through_change_approval(working, engineer):
    before = state(working)
    with pytest.raises(services.TicketError) as refused:
        services.submit_change(working, by=engineer, effort_days=3, impact=Impact.MINOR)
    assert str(refused.value) == "Only a change request goes through change approval."
    assert state(working) == before
    assert ChangeRequest.objects.count() == 0


@pytest.mark.parametrize(
    "effort, message",
    [
        pytest.param("abc", "Effort is a number of working days.", id="abc"),
        pytest.param(0, "Effort is a number of working days above zero.", id="zero"),
        pytest.param(-1, "Effort is a number of working days above zero.", id="negative"),
        pytest.param("20000", "Effort is a number of working days above zero.", id="absurdly large"),
    ],
)
def test_effort_must_be_a_positive_number(change_ticket, engineer, effort, message):
    before = state(change_ticket)
    with pytest.raises(services.TicketError) as refused:
        services.submit_change(change_ticket, by=engineer, effort_days=effort, impact=Impact.MINOR)
    assert str(refused.value) == message
    assert state(change_ticket) == before
    assert ChangeRequest.objects.count() == 0


@pytest.mark.parametrize("effort", ["nan", "0.01"])
def test_effort_that_is_not_a_positive_tenth_is_refused(change_ticket, engineer, effort):
    before = state(change_ticket)
    with pytest.raises(services.TicketError):
        services.submit_change(change_ticket, by=engineer, effort_days=effort, impact=Impact.MINOR)
    assert state(change_ticket) == before
    assert ChangeRequest.objects.count() == 0


def test_change_needs_a_known_impact(change_ticket, engineer):
    before = state(change_ticket)
    with pytest.raises(services.TicketError) as refused:
        services.submit_change(change_ticket, by=engineer, effort_days=3, impact="huge")
    assert str(refused.value) == "Choose the impact: minor, important or major."
    assert state(change_ticket) == before


def test_change_is_submitted_once(change_ticket, engineer):
    services.submit_change(change_ticket, by=engineer, effort_days=3, impact=Impact.MINOR)
    before = state(change_ticket)
    with pytest.raises(services.TicketError) as refused:
        services.submit_change(change_ticket, by=engineer, effort_days=5, impact=Impact.MINOR)
    assert str(refused.value) == "This change request is already submitted."
    assert state(change_ticket) == before
    assert ChangeRequest.objects.get().effort_days == Decimal("3.0")


def test_refused_change_may_be_submitted_again(change_ticket, engineer, supervisor):
    first = services.submit_change(change_ticket, by=engineer, effort_days=3, impact=Impact.MINOR)
    services.decide_change(first, by=supervisor, approve=False, reason="方案不完整")
    again = services.submit_change(change_ticket, by=engineer, effort_days=4, impact=Impact.IMPORTANT)
    assert (again.effort_days, again.decision) == (Decimal("4.0"), Decision.PENDING)
    assert ChangeRequest.objects.count() == 1


@pytest.fixture
def small_change(change_ticket, engineer):
    return services.submit_change(change_ticket, by=engineer, effort_days=3, impact=Impact.MINOR)


@pytest.fixture
def large_change(change_ticket, engineer):
    return services.submit_change(change_ticket, by=engineer, effort_days=10, impact=Impact.MAJOR)


@pytest.mark.parametrize(
    "persona, may",
    [
        ("supervisor", True),
        ("manager", True),
        ("admin_user", True),
        ("engineer", False),
        ("other_engineer", False),
        ("agent", False),
        ("alice", False),
    ],
)
def test_who_may_decide_a_small_change(request, small_change, persona, may):
    assert services.may_decide_change(request.getfixturevalue(persona), small_change) is may


@pytest.mark.parametrize(
    "persona, may",
    [("supervisor", False), ("manager", True), ("admin_user", True), ("engineer", False)],
)
def test_who_may_decide_a_large_change(request, large_change, persona, may):
    assert services.may_decide_change(request.getfixturevalue(persona), large_change) is may


def test_supervisor_approves_a_small_change(small_change, supervisor, change_ticket):
    # when
    services.decide_change(small_change, by=supervisor, approve=True, reason="影响小，同意")
    # then
    small_change.refresh_from_db()
    assert (small_change.decision, small_change.decided_by, small_change.decided_at) == (
        Decision.APPROVED,
        supervisor,
        NOW,
    )
    assert small_change.reason == "影响小，同意"
    event = change_ticket.events.last()
    assert (event.kind, event.actor, event.note) == (
        Event.CHANGE_DECIDED,
        supervisor,
        "Approved: 影响小，同意",
    )


def test_supervisor_may_not_decide_a_large_change(large_change, supervisor, change_ticket):
    before = state(change_ticket)
    with pytest.raises(PermissionDenied) as refused:
        services.decide_change(large_change, by=supervisor, approve=True, reason="同意")
    assert str(refused.value) == "A change of 10.0 working days is approved by a company leader."
    large_change.refresh_from_db()
    assert (large_change.decision, large_change.decided_by) == (Decision.PENDING, None)
    assert state(change_ticket) == before


def test_manager_approves_a_large_change(large_change, manager):
    services.decide_change(large_change, by=manager, approve=True, reason="列入年度计划")
    large_change.refresh_from_db()
    assert (large_change.decision, large_change.decided_by) == (Decision.APPROVED, manager)


@pytest.mark.parametrize("persona", ["engineer", "other_engineer", "agent", "alice"])
def test_others_may_not_decide_a_change(request, small_change, change_ticket, persona):
    before = state(change_ticket)
    with pytest.raises(PermissionDenied) as refused:
        services.decide_change(small_change, by=request.getfixturevalue(persona), approve=True, reason="同意")
    assert str(refused.value) == "Only the department leader or a manager approves this change."
    small_change.refresh_from_db()
    assert small_change.decision == Decision.PENDING
    assert state(change_ticket) == before


def test_supervisor_cannot_approve_own_change_request(change_ticket, supervisor, manager):
    # given: the team supervisor submits a small change himself
    change = services.submit_change(change_ticket, by=supervisor, effort_days=3, impact=Impact.MINOR)
    before = state(change_ticket)
    # when
    with pytest.raises(services.TicketError) as refused:
        services.decide_change(change, by=supervisor, approve=True, reason="同意")
    # then: refused, and a manager decides instead
    assert str(refused.value) == "Nobody approves their own request."
    change.refresh_from_db()
    assert (change.decision, change.decided_by) == (Decision.PENDING, None)
    assert state(change_ticket) == before
    services.decide_change(change, by=manager, approve=True, reason="同意")
    change.refresh_from_db()
    assert (change.decision, change.decided_by) == (Decision.APPROVED, manager)


@pytest.mark.parametrize("approve", [True, False])
def test_change_decision_needs_a_reason(small_change, supervisor, change_ticket, approve):
    before = state(change_ticket)
    with pytest.raises(services.TicketError) as refused:
        services.decide_change(small_change, by=supervisor, approve=approve, reason=" ")
    assert str(refused.value) == "Give the reason for the decision."
    small_change.refresh_from_db()
    assert small_change.decision == Decision.PENDING
    assert state(change_ticket) == before


def test_decided_change_is_not_decided_again(small_change, supervisor, manager, change_ticket):
    services.decide_change(small_change, by=supervisor, approve=True, reason="同意")
    before = state(change_ticket)
    with pytest.raises(services.TicketError) as refused:
        services.decide_change(small_change, by=manager, approve=False, reason="不同意")
    assert str(refused.value) == "This change request was already decided."
    small_change.refresh_from_db()
    assert (small_change.decision, small_change.decided_by) == (Decision.APPROVED, supervisor)
    assert state(change_ticket) == before


# Fault handling reports

REPORT = {
    "fault_class": "硬件故障",
    "cause": "电源模块老化",
    "method": "更换电源模块",
    "loss": "停机2小时",
}


@pytest.fixture
def resolve(engineer):
    def resolve(ticket):
        services.accept(ticket, by=engineer)
        return services.resolve(ticket, by=engineer, resolution="更换电源模块后恢复")

    return resolve


@pytest.mark.parametrize("level", [Level.I, Level.II])
def test_report_for_a_resolved_level_i_or_ii_fault(make_ticket, team, engineer, resolve, level):
    # given
    ticket = resolve(make_ticket(level=level, team=team, assignee=engineer))
    # when
    report = services.write_fault_report(ticket, by=engineer, **REPORT)
    # then
    report.refresh_from_db()
    assert (report.ticket, report.written_by, report.written_at) == (ticket, engineer, NOW)
    assert (report.fault_class, report.cause, report.method, report.loss) == tuple(REPORT.values())
    event = ticket.events.last()
    assert (event.kind, event.note) == (Event.REPORT_WRITTEN, "硬件故障")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_report_may_be_written_after_closing(ticket, resolve, engineer, agent):
    services.confirm(resolve(ticket), by=agent)
    services.write_fault_report(ticket, by=engineer, **REPORT)
    assert FaultReport.objects.get().ticket == ticket


def test_writing_again_amends_the_same_report(ticket, resolve, engineer, supervisor, clock):
    # given
    first = services.write_fault_report(resolve(ticket), by=engineer, **REPORT)
    clock.move_to(NOW + timedelta(hours=2), tick=False)
    # when
    second = services.write_fault_report(ticket, by=supervisor, **REPORT | {"cause": "电源模块批次缺陷"})
    # then
    assert second.pk == first.pk
    report = FaultReport.objects.get()
    assert (report.cause, report.written_by, report.written_at, report.updated_at) == (
        "电源模块批次缺陷",
        supervisor,
        NOW,
        NOW + timedelta(hours=2),
    )
    assert ticket.events.filter(kind=Event.REPORT_WRITTEN).count() == 2


def test_no_report_for_a_level_iii_fault(make_ticket, team, engineer, resolve):
    ticket = resolve(make_ticket(level=Level.III, team=team, assignee=engineer))
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.write_fault_report(ticket, by=engineer, **REPORT)
    assert str(refused.value) == "Fault handling reports are written for Level I and II faults."
    assert state(ticket) == before
    assert FaultReport.objects.count() == 0


def test_no_report_before_resolution(working, engineer):
    before = state(working)
    with pytest.raises(services.TransitionError) as refused:
        services.write_fault_report(working, by=engineer, **REPORT)
    assert str(refused.value) == (
        "A ticket that is “In progress” cannot take “Write the fault report”. Allowed now: "
        "Start travel、Log work、Wait for the customer、Wait for parts、Give a workaround、"
        "Analyse、Request approval、Resolve、Change the billing、Comment."
    )
    assert state(working) == before
    assert FaultReport.objects.count() == 0


def test_report_needs_every_part(ticket, resolve, engineer):
    ticket = resolve(ticket)
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.write_fault_report(ticket, by=engineer, **REPORT | {"loss": ""})
    assert str(refused.value) == "Describe the loss, or write “none”."
    assert state(ticket) == before
    assert FaultReport.objects.count() == 0


def test_report_is_written_by_engineers_on_the_ticket(ticket, resolve, other_engineer):
    ticket = resolve(ticket)
    before = state(ticket)
    with pytest.raises(PermissionDenied):
        services.write_fault_report(ticket, by=other_engineer, **REPORT)
    assert state(ticket) == before
    assert FaultReport.objects.count() == 0
