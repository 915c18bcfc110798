"""
Only steps that will be accepted are offered: a ticket in every reachable state, seen by every
role, and every step its page offers posted through the page's act URL with minimal valid data.
None is refused and each moves the ticket as the step says; the steps not offered are refused.
"""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role, Tier
from customers.choices import Billing
from tests.factories import TeamFactory, UserFactory
from tickets import services
from tickets.acts import ACTS
from tickets.choices import Impact, Kind, Level, ProblemType, Risk, WorkMethod
from tickets.forms import ACT_FORMS
from tickets.models import Ticket
from tickets.selectors import visible_tickets
from tickets.views.detail import ACT_SERVICES

pytestmark = pytest.mark.django_db

ROLES = ["agent", "engineer", "supervisor", "other_engineer", "manager", "admin_user", "alice"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def tier_2_team(centre):
    """The centre's next tier, so that escalating a tier-1 ticket has somewhere to go."""
    expert = UserFactory(username="expert", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(name="二线专家组", centre=centre, tier=Tier.DEDICATED, supervisor=expert)
    team.members.add(expert)
    return team


def _assigned(world, **details):
    return world["make_ticket"](team=world["team"], assignee=world["engineer"], **details)


def _accepted(world, **details):
    return services.accept(_assigned(world, **details), by=world["engineer"])


def _resolved(world):
    return services.resolve(_accepted(world), by=world["engineer"], resolution="更换电源模块")


def _closed(world):
    return services.confirm(_resolved(world), by=world["agent"], note="客户电话确认")


def _closed_long_ago(world):
    ticket = _closed(world)
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - timedelta(days=31))
    return ticket


def _travelling(world):
    return services.start_travel(_accepted(world, on_site_required=True), by=world["engineer"])


def _on_site(world):
    return services.record_arrival(_travelling(world), by=world["engineer"])


def _change(world):
    return _accepted(world, kind=Kind.CHANGE, level=None, title="增加报表字段")


def _change_pending(world):
    ticket = _change(world)
    services.submit_change(ticket, by=world["engineer"], effort_days="3", impact=Impact.MINOR)
    return ticket


def _change_refused(world):
    ticket = _change_pending(world)
    services.decide_change(ticket.change_request, by=world["manager"], approve=False, reason="范围不清")
    return ticket


def _at_top_tier(world):
    ticket = _accepted(world)
    Ticket.objects.filter(pk=ticket.pk).update(tier=Tier.EXPERT)
    return ticket


def _to_be_confirmed(world):
    details = services.CallDetails(
        organisation=None,
        title="来电设备无法开机",
        level=Level.III,
        caller_name="王先生",
        caller_phone="13900000000",
    )
    return services.log_call(details, by=world["agent"])


# Every state a ticket reaches, and the variants on which the offered steps depend.
STATES = {
    "new": lambda w: w["make_ticket"](),
    "new consultation": lambda w: w["make_ticket"](kind=Kind.CONSULTATION, level=None, title="如何导出日志"),
    "customer to be confirmed": _to_be_confirmed,
    "assigned to the team": lambda w: w["make_ticket"](team=w["team"]),
    "assigned": _assigned,
    "assigned, responded": lambda w: services.respond(_assigned(w), by=w["agent"], note="已电话回复"),
    "in progress": _accepted,
    "in progress consultation": lambda w: _accepted(w, kind=Kind.CONSULTATION, level=None),
    "in progress Level I": lambda w: _accepted(w, level=Level.I),
    "in progress at the top tier": _at_top_tier,
    "travelling": _travelling,
    "on site": _on_site,
    "back from the site": lambda w: services.record_departure(_on_site(w), by=w["engineer"]),
    "waiting for the customer": lambda w: services.pause(_accepted(w), by=w["engineer"], reason="等日志"),
    "waiting for parts": lambda w: services.wait_for_parts(_accepted(w), by=w["engineer"], note="电源模块"),
    "change request": _change,
    "change request pending": _change_pending,
    "change request refused": _change_refused,
    "resolved": _resolved,
    "closed": _closed,
    "closed 31 days ago": _closed_long_ago,
    "reopened": lambda w: services.reopen(_closed(w), by=w["agent"], reason="故障复现"),
    "cancelled": lambda w: services.cancel(_assigned(w), by=w["agent"], reason="客户撤销"),
}


def form_data(name: str, ticket: Ticket, world) -> dict:
    """The least a person fills in for each step (what the page's form asks)."""
    other_billing = next(value for value in Billing.values if value != ticket.billing)
    return {
        "answer": {"answer": "已电话指导客户操作"},
        "assign": {"team": world["team"].pk, "assignee": world["engineer"].pk},
        "accept": {},
        "respond": {"note": "已电话回复客户"},
        "start_travel": {},
        "arrive": {},
        "depart": {"signed_off_by": "李主任"},
        "log_work": {"minutes": "30", "method": WorkMethod.ON_SITE, "note": "检查电源"},
        "pause": {"reason": "等待客户提供日志"},
        "resume": {"note": ""},
        "wait_for_parts": {"note": "电源模块"},
        "give_workaround": {"workaround": "切换到备用链路"},
        "deliver_emergency_plan": {"plan": "启用备用机房"},
        "analyse": {"problem_type": ProblemType.TECHNICAL, "note": "固件缺陷"},
        "request_approval": {"risk": Risk.RESTART_SERVER, "plan": "夜间重启服务器"},
        "submit_change": {"effort_days": "3", "impact": Impact.MINOR},
        "resolve": {"resolution": "更换电源模块"},
        "confirm": {"note": "", "score": "5", "comment": "很及时"},
        "reopen": {"reason": "故障复现"},
        "cancel": {"reason": "客户撤销"},
        "escalate": {"reason": "需要二线支持"},
        "set_billing": {"billing": other_billing, "reason": "合同已过期"},
        "identify_customer": {"organisation": world["alice"].contact.organisation.pk},
    }[name] | {"version": ticket.version}


@pytest.fixture
def world(
    request, make_ticket, team, tier_2_team, agent, engineer, other_engineer, manager, admin_user, alice
):
    return {
        "make_ticket": make_ticket,
        "team": team,
        "agent": agent,
        "engineer": engineer,
        "supervisor": team.supervisor,
        "other_engineer": other_engineer,
        "manager": manager,
        "admin_user": admin_user,
        "alice": alice,
    }


def offered_on_page(client, ticket) -> set[str]:
    response = client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    return set(re.findall(rf"/tickets/{ticket.number}/act/([a-z_]+)/", response.content.decode()))


class Undo(Exception):
    """Raised to roll one step back, so that every step is tried on the same state."""


def post_and_undo(client, ticket, name, data, check) -> None:
    try:
        with transaction.atomic():
            response = client.post(f"/tickets/{ticket.number}/act/{name}/", data)
            check(response, Ticket.objects.get(pk=ticket.pk))
            raise Undo
    except Undo:
        pass


def refused_by_service(name: str, ticket: Ticket, user, data: dict) -> bool:
    """Whether the step's service refuses it, given the form's cleaned data (no page to render)."""
    form = ACT_FORMS[name](data)
    assert form.is_valid(), (name, form.errors)
    fields = dict(form.cleaned_data)
    version = fields.pop("version")
    try:
        with transaction.atomic():
            ACT_SERVICES[name](Ticket.objects.get(pk=ticket.pk), by=user, expected_version=version, **fields)
            raise Undo
    except Undo:
        return False
    except (services.TicketError, PermissionDenied):
        return True


@pytest.mark.parametrize("state", STATES)
def test_every_offered_step_is_accepted_and_every_other_refused(client, world, state):
    # given: the ticket in this state
    ticket = Ticket.objects.get(pk=STATES[state](world).pk)
    for role in ROLES:
        user = world[role]
        client.force_login(user)
        if not visible_tickets(user).filter(pk=ticket.pk).exists():
            # Who does not see the ticket is offered nothing at all: an engineer of another team
            # (or of none yet), a customer of another organisation (the one to be confirmed).
            assert role in ("engineer", "supervisor", "other_engineer", "alice"), (state, role)
            assert role != "alice" or state == "customer to be confirmed"
            assert client.get(f"/tickets/{ticket.number}/").status_code == 404
            continue

        # when: the page is shown to this person
        offered = offered_on_page(client, ticket)

        # then: every offered step goes through the page and moves the ticket as it says
        for name in sorted(offered):
            act = ACTS[name]

            def accepted(response, after, name=name, act=act, role=role):
                assert response.status_code == 302, (state, role, name, response.status_code)
                assert after.version == ticket.version + 1, (state, role, name)
                assert after.status == (act.target or ticket.status), (state, role, name)

            post_and_undo(client, ticket, name, form_data(name, ticket, world), accepted)

        # and: every step not offered is refused (a later response is the exception: not offered
        # once the first was given, it is still recorded when the API's call backs send it)
        for name in sorted(set(ACT_SERVICES) - offered - {"respond"}):
            assert refused_by_service(name, ticket, user, form_data(name, ticket, world)), (state, role, name)
    assert role == "alice"


def test_every_step_of_the_page_has_minimal_data_here(world, make_ticket):
    """A step added to the page must be added to this walk too."""
    ticket = make_ticket()
    for name in ACT_SERVICES:
        assert "version" in form_data(name, ticket, world)


# The converse, where people felt it: a step that would be refused is not offered.


@pytest.mark.parametrize(
    ("state", "role", "step", "message"),
    [
        ("on site", "engineer", "resolve", "Record the departure from the site before resolving."),
        ("travelling", "engineer", "start_travel", "A visit is already under way"),
        ("assigned", "engineer", "assign", "Your role may not"),
        ("assigned", "engineer", "escalate", "Your role may not"),
        ("in progress at the top tier", "supervisor", "escalate", "already with the top tier"),
        ("closed 31 days ago", "alice", "reopen", "closed more than 30 days ago"),
        ("change request pending", "agent", "submit_change", "already submitted"),
        ("resolved", "engineer", "confirm", "Your role may not"),
    ],
)
def test_a_step_that_would_be_refused_is_not_offered(client, world, english, state, role, step, message):
    # given
    ticket = Ticket.objects.get(pk=STATES[state](world).pk)
    client.force_login(world[role])
    # when
    offered = offered_on_page(client, ticket)
    response = client.post(f"/tickets/{ticket.number}/act/{step}/", form_data(step, ticket, world))
    # then
    assert step not in offered
    assert response.status_code == 400
    assert message in response.content.decode()
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.status, after.version) == (ticket.status, ticket.version)


def test_respond_is_offered_until_the_first_response(client, world):
    # given: an assigned ticket nobody has answered yet
    ticket = _assigned(world)
    client.force_login(world["engineer"])
    assert "respond" in offered_on_page(client, ticket)
    # when: the engineer accepts, which is the first response
    ticket = services.accept(ticket, by=world["engineer"])
    # then
    assert ticket.responded_at is not None
    assert "respond" not in offered_on_page(client, ticket)


def test_a_refused_change_may_be_submitted_again(client, world):
    ticket = _change_refused(world)
    client.force_login(world["engineer"])
    assert "submit_change" in offered_on_page(client, ticket)
    response = client.post(
        f"/tickets/{ticket.number}/act/submit_change/",
        {"effort_days": "2", "impact": Impact.MINOR, "version": Ticket.objects.get(pk=ticket.pk).version},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.change_request.decision, str(ticket.change_request.effort_days)) == ("pending", "2.0")
