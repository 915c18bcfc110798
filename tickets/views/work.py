"""The engineer's phone-first pages: my tickets by urgency, my teams and my duty shifts."""

from datetime import timedelta

from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import render
from django.utils import timezone

from accounts.choices import Role
from accounts.decorators import role_required
from accounts.models import Shift
from accounts.selectors import on_duty

from ..choices import Urgency
from ..models import Ticket

URGENCY_ORDER = Case(
    When(urgency=Urgency.VERY_URGENT, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def work_queue(user):
    """Open tickets assigned to the engineer first, then the teams' unassigned ones, most urgent first."""
    tickets = (
        Ticket.objects.open()
        .filter(Q(assignee=user) | Q(assignee__isnull=True, team__members=user))
        .select_related("organisation", "site", "equipment", "team", "assignee")
        .annotate(urgency_order=URGENCY_ORDER)
        .order_by("urgency_order", "level", "created_at")
        .distinct()
    )
    mine = [ticket for ticket in tickets if ticket.assignee_id == user.pk]
    unassigned = [ticket for ticket in tickets if ticket.assignee_id is None]
    return mine, unassigned


@role_required(Role.ENGINEER)
def my_work(request):
    now = timezone.now()
    user = request.user
    mine, unassigned = work_queue(user)
    context = {
        "mine": mine,
        "unassigned": unassigned,
        "teams": user.teams.select_related("centre", "supervisor").order_by("tier", "name"),
        "shifts": Shift.objects.filter(user=user, ends_at__gt=now, starts_at__lt=now + timedelta(days=14))
        .select_related("centre")
        .order_by("starts_at"),
        "duty": on_duty(user.centre, now) if user.centre else None,
    }
    return render(request, "tickets/my_work.html", context)
