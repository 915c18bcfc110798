"""The customer portal: the organisation's requests, a new request, and the record itself."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.decorators import role_required
from customers.models import Equipment
from customers.selectors import access_organisation, hotlines_for

from .. import limits, selectors, services
from ..choices import OPEN_STATUSES, Status
from ..filters import whole_number
from ..forms import PortalRequestForm
from ..services import staging


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
    elif state == "to_confirm":
        tickets = tickets.filter(status=Status.RESOLVED)
    else:
        state = "all"
    page = Paginator(tickets.order_by("-created_at"), 20).get_page(request.GET.get("page"))
    to_confirm = selectors.visible_tickets(request.user).filter(status=Status.RESOLVED).count()
    context = {
        "organisation": organisation,
        "page": page,
        "query": query,
        "state": state,
        "to_confirm": to_confirm,
        "hotlines": hotlines_for(organisation),
        "query_string": urlencode({"q": query, "state": state}),
    }
    return render(request, "tickets/portal.html", context)


def _prefill(query, organisation) -> dict:
    """`?site=` and `?equipment=` of the organisation's own (a device brings its site); others are ignored."""
    initial = {}
    site = organisation.sites.filter(pk=whole_number(query.get("site"))).first()
    equipment = (
        Equipment.objects.filter(site__organisation=organisation, pk=whole_number(query.get("equipment")))
        .select_related("site")
        .first()
    )
    if equipment is not None and (site is None or site == equipment.site):
        initial.update(site=equipment.site_id, equipment=equipment.pk)
    elif site is not None:
        initial["site"] = site.pk
    return initial


def _new_request_page(request, organisation, form, *, kept=(), error=None, status=200):
    context = {
        "form": form,
        "error": error,
        "kept": kept,
        "hotlines": hotlines_for(organisation),
    }
    return render(request, "tickets/new_request.html", context, status=status)


@role_required(Role.CUSTOMER)
def new_request(request):
    """
    A new request for one of the organisation's sites and devices. A refused form keeps the files
    already chosen (staged for this user) and lists them, so that they need not be chosen again.
    """
    organisation = access_organisation(request.user)
    if request.method != "POST":
        form = PortalRequestForm(initial=_prefill(request.GET, organisation), organisation=organisation)
        return _new_request_page(request, organisation, form)
    # The files kept from the refused form before, less those the person ticked "remove".
    removed = staging.kept_ids(request.POST.getlist("remove"))
    staging.discard(request.user, removed)
    kept = staging.kept_for(request.user, request.POST.getlist("kept"))
    kept = [row for row in kept if row.pk not in removed]
    chosen = request.FILES.getlist("files")
    form = PortalRequestForm(request.POST, request.FILES, organisation=organisation)
    error, status = _("Check the highlighted fields."), 400
    if form.is_valid():
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
            with limits.quota(request.user, tickets=1, uploads=len(data["files"]) + len(kept)):
                ticket = services.file_request_with_files(
                    details, by=request.user, files=data["files"], staged=kept
                )
        except services.TicketError as refused:
            error = refused.message
        except limits.QuotaExceeded as refused:
            error, status = refused.message, 429
        else:
            messages.success(
                request,
                _("Request %(number)s filed. We will answer soon.") % {"number": ticket.number},
            )
            return redirect("tickets:detail", number=ticket.number)
    # Over the hourly quota the files are not kept either: keeping them would bypass it.
    kept, refusals = staging.stage(request.user, chosen if status != 429 else [], kept=kept)
    error = " ".join([error, *refusals])
    return _new_request_page(request, organisation, form, kept=kept, error=error, status=status)
