"""
Fixtures for the integration tests: a customer world whose people have e-mail addresses, tickets
logged through the services, and deadlines moved into the past.

These tests run with `django_db(transaction=True)`: every row they write is committed, so other
connections (threads, a worker process) see it, and the database is emptied after each test. That
emptying removes the SLA policies the `sla` data migration loads, so `sla_defaults` puts them back.
"""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.choices import Role, Tier
from customers.choices import Coverage
from sla.choices import State
from sla.models import Deadline, Policy
from tests.factories import (
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Kind, Level

RESPONSE = "ticket.response"


@pytest.fixture
def sla_defaults(transactional_db):
    """The calendars, policies and escalation rules of sla 0002 and 0006, loaded again if emptied."""
    if not Policy.objects.exists():
        importlib.import_module("sla.migrations.0002_defaults").create(apps, None)
        importlib.import_module("sla.migrations.0006_level_3_arrival").create(apps, None)


@pytest.fixture
def engineer(transactional_db, centre):
    """The tier-1 engineer; overrides the shared persona to give it an e-mail address."""
    return UserFactory(username="engineer", role=Role.ENGINEER, centre=centre, email="engineer@example.cn")


@pytest.fixture
def team(centre, engineer):
    """The tier-1 team of the centre: `engineer` and its supervisor, both reachable by e-mail."""
    supervisor = UserFactory(
        username="supervisor", role=Role.ENGINEER, centre=centre, email="supervisor@example.cn"
    )
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, supervisor)
    return team


@pytest.fixture
def expert_team(centre):
    """The tier-2 team a breached ticket moves to, with members reachable by e-mail."""
    lead = UserFactory(username="lead", role=Role.ENGINEER, centre=centre, email="lead@example.cn")
    expert = UserFactory(username="expert", role=Role.ENGINEER, centre=centre, email="expert@example.cn")
    team = TeamFactory(name="南京二线专家组", centre=centre, tier=Tier.DEDICATED, supervisor=lead)
    team.members.add(lead, expert)
    return team


@pytest.fixture
def device(sla_defaults, centre):
    """Equipment under a round-the-clock contract in force today, at a site of `centre`."""
    organisation = OrganisationFactory(name="甲单位")
    site = SiteFactory(organisation=organisation, centre=centre, name="本部机房")
    today = timezone.localdate()
    contract = ContractFactory(
        organisation=organisation,
        number="HT-INT-0001",
        coverage=Coverage.FULL,
        starts_on=today - timedelta(days=365),
        ends_on=today + timedelta(days=365),
    )
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-INT-0001")


@pytest.fixture
def make_ticket(agent, device, team, engineer, expert_team):
    """Log a call through the service, assigned to `engineer` of `team`; keywords override details."""

    def make(*, by=None, assign=True, **details):
        fields = {
            "organisation": device.site.organisation,
            "title": "核心交换机宕机",
            "description": "全部业务中断",
            "kind": Kind.FAULT,
            "level": Level.I,
            "site": device.site,
            "equipment": device,
            "contract": device.contract,
        } | details
        return services.log_call(
            services.CallDetails(**fields),
            by=by or agent,
            team=team if assign else None,
            assignee=engineer if assign else None,
        )

    return make


@pytest.fixture
def lapse():
    """
    Move deadlines of `kind` into the past, as if the sweep had not yet looked at them: stage 0,
    pending, next check at the warning time. `breached` puts the due time in the past too (the
    sweep warns and escalates at level 1); otherwise only the warning time has passed. `warned`
    (with `breached`): the warning was sent already, only level 1 is left to do.
    """

    def move(tickets, *, kind=RESPONSE, breached=True, warned=False, now=None) -> list[int]:
        now = now or timezone.now()
        warn_at = now - timedelta(minutes=20)
        # One minute overdue: level 1 is due, level 2 (half the target later) is not yet.
        due_at = now - timedelta(minutes=1) if breached else now + timedelta(hours=1)
        deadlines = Deadline.objects.filter(object_id__in=[ticket.pk for ticket in tickets], kind=kind)
        ids = list(deadlines.values_list("pk", flat=True))
        assert len(ids) == len(tickets), "every ticket must carry one deadline of this kind"
        if warned:  # as if an earlier sweep had warned: next comes level 1, at the due time
            stage, state, next_check_at = 1, State.WARNED, due_at
        else:
            stage, state, next_check_at = 0, State.PENDING, warn_at
        Deadline.objects.filter(pk__in=ids).update(
            stage=stage, state=state, warn_at=warn_at, due_at=due_at, next_check_at=next_check_at
        )
        return ids

    return move
