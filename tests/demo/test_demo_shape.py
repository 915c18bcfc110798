"""The demo desk after the sweep has run: a working operation, not a wall of red."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sla import services as clock
from sla.choices import State
from sla.models import Deadline
from tickets.choices import OPEN_STATUSES, Kind, Level
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_after_the_sweep_most_promises_are_kept_and_a_few_are_not():
    # given: the demo as `make run` loads it
    call_command("seed_demo", force=True)

    # when: the sweep runs now, as beat runs it every minute
    clock.sweep(now=timezone.now())

    # then: a few running deadlines are breached and a few warned, most are on time
    running = Counter(Deadline.objects.open().values_list("state", flat=True))
    open_deadlines = sum(running.values())
    assert open_deadlines >= 100
    assert 1 <= running[State.BREACHED] <= 0.15 * open_deadlines
    assert running[State.WARNED] >= 1
    # ... most promises already settled were kept in time
    settled = Deadline.objects.filter(state__in=[State.MET, State.MET_LATE])
    assert settled.filter(state=State.MET).count() >= 0.75 * settled.count()
    # ... exactly one Level I fault has just come in
    recent = Ticket.objects.filter(
        kind=Kind.FAULT, level=Level.I, created_at__gte=timezone.now() - timedelta(minutes=30)
    )
    assert recent.count() == 1
    # ... and the open work is spread over teams, engineers and customers
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    assert open_tickets.exclude(team=None).values("team").distinct().count() >= 6
    assert open_tickets.exclude(assignee=None).values("assignee").distinct().count() >= 10
    assert open_tickets.values("organisation").distinct().count() >= 15
    # ... most of it still with the tier-1 teams: only lapsed tickets went up a tier
    assert open_tickets.filter(tier=1).count() >= 0.7 * open_tickets.count()
