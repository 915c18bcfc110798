"""The SLA queue: warned and breached tickets, the least time left first, for managers and supervisors."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.choices import Role
from accounts.decorators import role_required
from accounts.models import SupportCentre, Team
from sla.choices import State
from sla.models import Deadline

from .. import selectors
from ..choices import Level
from ..filters import BadParameterValue, integer_parameter
from ..models import Ticket


@role_required(Role.MANAGER, Role.ADMIN, Role.ENGINEER)
def sla_queue(request):
    user = request.user
    if user.role == Role.ENGINEER and not user.supervised_teams.exists():
        raise PermissionDenied
    tickets = selectors.visible_tickets(user)
    try:
        centre, team, level = (integer_parameter(request.GET, name) for name in ("centre", "team", "level"))
    except BadParameterValue as error:
        return render(
            request, "tickets/queue.html", {**_choices(request), "error": error.message}, status=400
        )
    if centre:
        tickets = tickets.filter(centre=centre)
    if team:
        tickets = tickets.filter(team=team)
    if level:
        tickets = tickets.filter(level=level)
    deadlines = Deadline.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        state__in=[State.WARNED, State.BREACHED],
        paused_at__isnull=True,
        object_id__in=tickets.values("pk"),
    ).order_by("due_at", "pk")
    page = Paginator(deadlines, 50).get_page(request.GET.get("page"))
    by_id = Ticket.objects.select_related("organisation", "team", "assignee", "centre").in_bulk(
        [deadline.object_id for deadline in page]
    )
    rows = [(deadline, by_id[deadline.object_id]) for deadline in page if deadline.object_id in by_id]
    return render(request, "tickets/queue.html", {**_choices(request), "rows": rows, "page": page})


def _choices(request) -> dict:
    """What the filter form offers, and what was asked."""
    return {
        "params": request.GET,
        "centres": SupportCentre.objects.order_by("name"),
        "teams": Team.objects.order_by("centre__name", "tier", "name"),
        "levels": Level.choices,
    }
