"""The engineer's phone-first pages: my tickets by time left, my teams and my duty shifts."""

from datetime import timedelta

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.shortcuts import render
from django.utils import timezone

from accounts.choices import Role
from accounts.decorators import role_required
from accounts.models import Shift
from accounts.selectors import on_duty
from sla.services import target_label

from ..choices import Urgency
from ..filters import with_next_deadline
from ..models import Ticket

URGENCY_ORDER = Case(
    When(urgency=Urgency.VERY_URGENT, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def work_queue(user, now) -> list[Ticket]:
    """
    The engineer's open tickets and their teams' unassigned ones, in one list by time left: the
    next open deadline that falls due first (overdue ones first, the most overdue at the top),
    then the tickets with no running clock; urgency, level and age break ties. Each ticket
    carries `next_due_at`, `next_due_label` and `is_overdue`; one query for the whole list.
    """
    tickets = list(
        with_next_deadline(
            # The teams' ids first: no join that repeats a ticket, so no DISTINCT.
            Ticket.objects.open().filter(
                Q(assignee=user)
                | Q(assignee__isnull=True, team_id__in=user.teams.values_list("pk", flat=True))
            )
        )
        .select_related("organisation", "site", "equipment", "team", "assignee")
        .annotate(urgency_order=URGENCY_ORDER)
        .order_by(F("next_due_at").asc(nulls_last=True), "urgency_order", "level", "created_at", "pk")
    )
    for ticket in tickets:
        ticket.next_due_label = target_label(ticket.next_due_kind) if ticket.next_due_kind else ""
        ticket.is_overdue = ticket.next_due_at is not None and ticket.next_due_at < now
    return tickets


@role_required(Role.ENGINEER)
def my_work(request):
    now = timezone.now()
    user = request.user
    queue = work_queue(user, now)
    context = {
        "queue": queue,
        "mine_count": sum(1 for ticket in queue if ticket.assignee_id == user.pk),
        "unassigned_count": sum(1 for ticket in queue if ticket.assignee_id is None),
        "teams": user.teams.select_related("centre", "supervisor").order_by("tier", "name"),
        "shifts": Shift.objects.filter(user=user, ends_at__gt=now, starts_at__lt=now + timedelta(days=14))
        .select_related("centre")
        .order_by("starts_at"),
        "duty": on_duty(user.centre, now) if user.centre else None,
    }
    return render(request, "tickets/my_work.html", context)
