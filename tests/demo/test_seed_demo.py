"""The demo tickets: a working service desk, built through the services, and loaded once."""

import logging
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Min
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Shift, SupportCentre, Team, User
from customers.choices import ContractStatus
from customers.models import Contact, Contract, Equipment, Organisation, Site
from sla.models import Deadline, SpecialDay
from tickets.choices import OPEN_STATUSES, Decision, Event, Kind, Level, Status, Urgency
from tickets.models import (
    ChangeRequest,
    Comment,
    EmergencyPlan,
    FaultReport,
    RiskApproval,
    Ticket,
    TimelineEvent,
    WorkLog,
)

pytestmark = pytest.mark.django_db


MODELS = [User, SupportCentre, Team, Shift, Organisation, Site, Contact, Contract, Equipment, Ticket]


def snapshot():
    return {model.__name__: sorted(map(repr, model.objects.values())) for model in MODELS}


def test_seed_demo_refuses_production_without_force():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_builds_a_working_desk(caplog, capsys):
    """One test, two loads: loading the demo is slow, so both the content and idempotence are here."""
    with caplog.at_level(logging.WARNING, logger="demo.tickets"):
        call_command("seed_demo", force=True)

    # People and customers, and one login printed per role.
    assert SupportCentre.objects.count() == 3
    assert set(Team.objects.values_list("tier", flat=True)) == {1, 2, 3}
    assert User.objects.filter(role=Role.ENGINEER).count() >= 20
    assert Organisation.objects.count() == 30
    assert 190 <= Equipment.objects.count() <= 230
    assert Contract.objects.filter(status=ContractStatus.SUSPENDED).count() == 1
    assert Contract.objects.filter(status=ContractStatus.EXPIRED).exists()
    assert Shift.objects.exists()
    assert SpecialDay.objects.exists()
    assert User.objects.filter(is_company_leader=True).exists()
    out = capsys.readouterr().out
    for username in ["agent", "engineer", "manager", "admin", "customer"]:
        assert f"  {username} " in out
    assert not [record.getMessage() for record in caplog.records if record.name == "demo.tickets"]
    assert 250 <= Ticket.objects.count() <= 350

    # Every status, class, level, urgency; many channels and organisations.
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Kind.values)
    levels = Ticket.objects.filter(kind=Kind.FAULT).values_list("level", flat=True)
    assert set(levels) == set(Level.values)
    assert set(Ticket.objects.values_list("urgency", flat=True)) == set(Urgency.values)
    assert set(Ticket.objects.values_list("channel", flat=True)) >= {"phone", "email", "portal"}
    assert Ticket.objects.values("organisation").distinct().count() >= 25

    # Decisions, reports and messages.
    approvals = RiskApproval.objects.all()
    assert approvals.filter(decision=Decision.APPROVED, consent_at__isnull=False).exists()
    assert approvals.filter(decision=Decision.PENDING).exists()
    assert approvals.filter(decision=Decision.REFUSED).exists()
    changes = ChangeRequest.objects.all()
    assert changes.filter(effort_days__lt=10).exists()
    assert changes.filter(effort_days__gte=10).exists()
    assert set(changes.values_list("decision", flat=True)) == set(Decision.values)
    assert FaultReport.objects.filter(ticket__level__in=[Level.I, Level.II]).count() >= 3
    events = Counter(TimelineEvent.objects.values_list("kind", flat=True))
    for kind in [Event.COMMENTED, Event.WORK_LOGGED, Event.ARRIVED, Event.REOPENED, Event.CONFIRMED]:
        assert events[kind] > 0, kind
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.filter(author__username__in=["customer", "customer2"]).exists()

    # Level I faults show their emergency plans; equipment both warranties; complaints their subject.
    plans = EmergencyPlan.objects.all()
    assert plans.exists()
    assert set(plans.values_list("ticket__level", flat=True)) == {Level.I}
    assert not plans.filter(delivered_at__lt=F("ticket__created_at")).exists()
    assert not plans.filter(delivered_at__gt=timezone.now()).exists()
    assert Equipment.objects.filter(
        hardware_warranty_ends_on__isnull=False, system_warranty_ends_on__isnull=False
    ).exists()
    assert Ticket.objects.filter(kind=Kind.COMPLAINT, about_ticket__isnull=False).exists()
    assert {"contract", "per_call"} <= set(Ticket.objects.values_list("billing", flat=True))

    # The demo customers see a resolved ticket to confirm and an open one.
    for username in ["customer", "customer2"]:
        tickets = Ticket.objects.filter(organisation=User.objects.get(username=username).contact.organisation)
        assert tickets.filter(status=Status.RESOLVED).exists(), username
        assert tickets.filter(status__in=OPEN_STATUSES).exists(), username
    assert TimelineEvent.objects.filter(kind=Event.CONFIRMED, actor__username="customer").exists()

    # The demo engineer's "My work" is full, urgent work included.
    mine = Ticket.objects.filter(assignee__username="engineer", status__in=OPEN_STATUSES)
    assert mine.count() >= 3
    assert mine.filter(urgency__in=[Urgency.URGENT, Urgency.VERY_URGENT]).exists()
    assert mine.filter(status=Status.ON_SITE).exists()

    # Teams of the site's centre, assignees of the team.
    for ticket in Ticket.objects.filter(team__isnull=False).select_related("team", "site"):
        assert ticket.team.centre_id == ticket.site.centre_id, ticket.number
        if ticket.assignee_id:
            assert ticket.team.members.filter(pk=ticket.assignee_id).exists(), ticket.number

    # Timelines start with the call and never before it; numbers are unique.
    tickets = Ticket.objects.annotate(events_count=Count("events"), first=Min("events__created_at"))
    for ticket in tickets:
        assert ticket.events_count >= 1, ticket.number
        assert ticket.first >= ticket.created_at, ticket.number
    assert not TimelineEvent.objects.filter(created_at__lt=F("ticket__created_at")).exists()
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))

    # Spread over the last 90 days, with nothing in the future: comments and work logs (dated by
    # their model's default) moved with their tickets, deadlines dated from the calls.
    now = timezone.now()
    ages = [(now - logged).days for logged in Ticket.objects.values_list("created_at", flat=True)]
    assert min(ages) == 0
    assert 60 <= max(ages) <= 92
    assert not TimelineEvent.objects.filter(created_at__gt=now).exists()
    for model in [Comment, WorkLog]:
        assert not model.objects.filter(created_at__lt=F("ticket__created_at")).exists()
        assert model.objects.filter(created_at__lt=now - timedelta(days=30)).exists()
    started = Deadline.objects.filter(kind="ticket.response").values_list("object_id", "started_at")
    logged = dict(Ticket.objects.values_list("pk", "created_at"))
    assert started and all(at == logged[pk] for pk, at in started)

    # Loading again changes nothing (tickets are made once; the rest is brought to the same state).
    first = snapshot()
    call_command("seed_demo", force=True)
    assert snapshot() == first
