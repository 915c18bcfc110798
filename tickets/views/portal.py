"""The customer portal: the organisation's requests, a new request, and the record itself."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.decorators import role_required
from customers.selectors import access_organisation

from .. import limits, selectors, services
from ..choices import OPEN_STATUSES, Status
from ..forms import PortalRequestForm


@role_required(Role.CUSTOMER)
def portal(request):
    """The organisation's requests, newest first, searchable by number, title or serial number."""
    organisation = access_organisation(request.user)
    tickets = selectors.visible_tickets(request.user).select_related("organisation", "site", "equipment")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        tickets = tickets.filter(
            Q(number__icontains=query)
            | Q(title__icontains=query)
            | Q(equipment__serial_number__icontains=query)
        )
    state = request.GET.get("state", "open")
    if state == "open":
        tickets = tickets.filter(status__in=[*OPEN_STATUSES, Status.RESOLVED])
    elif state == "closed":
        tickets = tickets.filter(status__in=[Status.CLOSED, Status.CANCELLED])
    page = Paginator(tickets.order_by("-created_at"), 20).get_page(request.GET.get("page"))
    to_confirm = selectors.visible_tickets(request.user).filter(status=Status.RESOLVED).count()
    context = {
        "organisation": organisation,
        "page": page,
        "query": query,
        "state": state,
        "to_confirm": to_confirm,
        "query_string": urlencode({"q": query, "state": state}),
    }
    return render(request, "tickets/portal.html", context)


@role_required(Role.CUSTOMER)
def new_request(request):
    organisation = access_organisation(request.user)
    form = PortalRequestForm(request.POST or None, request.FILES or None, organisation=organisation)
    error, refused_status = None, 400
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        details = services.CallDetails(
            organisation=organisation,
            title=data["title"],
            description=data["description"],
            kind=data["kind"],
            level=data["level"],
            urgency=data["urgency"],
            site=data["site"],
            equipment=data["equipment"],
            fault_area=data["fault_area"],
            about_ticket=data["about_ticket"],
        )
        try:
            with limits.quota(request.user, tickets=1, uploads=len(data["files"])):
                ticket = services.file_request_with_files(details, by=request.user, files=data["files"])
        except services.TicketError as refused:
            error = refused.message
        except limits.QuotaExceeded as refused:
            error, refused_status = refused.message, 429
        else:
            messages.success(
                request,
                _("Request %(number)s filed. We will answer soon.") % {"number": ticket.number},
            )
            return redirect("tickets:detail", number=ticket.number)
    status = refused_status if request.method == "POST" else 200
    return render(request, "tickets/new_request.html", {"form": form, "error": error}, status=status)
