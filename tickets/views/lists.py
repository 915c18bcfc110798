"""The staff ticket list: the same filter as the API, rendered as a page."""

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.decorators import role_required
from accounts.models import SupportCentre, Team

from .. import selectors
from ..choices import Kind, Level, Status, Urgency
from ..filters import TicketFilter, UnknownParameter
from .detail import STAFF


@role_required(*STAFF)
def ticket_list(request):
    """Tickets the user may see, filtered and ordered as the query string says."""
    try:
        TicketFilter.check_query(request.GET, also=("page",))
    except UnknownParameter as error:
        return render(request, "tickets/list.html", {"error": error.message, "page": None}, status=400)
    tickets = selectors.visible_tickets(request.user).select_related(
        "organisation", "site", "team", "assignee", "equipment"
    )
    filtered = TicketFilter(request.GET, queryset=tickets)
    if not filtered.is_valid():
        return render(request, "tickets/list.html", {"errors": filtered.errors, "page": None}, status=400)
    queryset = filtered.qs if request.GET.get("ordering") else filtered.qs.order_by("-created_at")
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "params": request.GET,
        "query_string": query.urlencode(),
        "statuses": Status.choices,
        "kinds": Kind.choices,
        "levels": Level.choices,
        "urgencies": Urgency.choices,
        "teams": Team.objects.select_related("centre").order_by("centre__name", "tier", "name"),
        "centres": SupportCentre.objects.order_by("name"),
    }
    return render(request, "tickets/list.html", context)
