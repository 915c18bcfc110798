"""The staff ticket list: the same filter as the API, rendered as a page, and saved filters."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import SupportCentre, Team
from sla.services import target_label

from .. import selectors
from ..choices import Kind, Level, Urgency
from ..filters import (
    ALL_OPEN,
    STATUS_CHOICES,
    SavedFilterForm,
    TicketFilter,
    UnknownParameter,
    meaningful,
    query_without_page,
    readable_query,
    saved_filters_of,
    with_next_deadline,
)
from ..models import SavedFilter
from .detail import STAFF

PER_PAGE = 30
# The list's default order, when the query string names none: newest first.
DEFAULT_ORDERING = "-created_at"
# The columns of the table: their sort key (the `ordering` parameter) and heading.
COLUMNS = (
    ("number", gettext_lazy("Number")),
    ("title", gettext_lazy("Title")),
    ("organisation", gettext_lazy("Customer")),
    ("status", gettext_lazy("Status")),
    ("level", gettext_lazy("Level")),
    ("team", gettext_lazy("Team")),
    ("assignee", gettext_lazy("Assignee")),
    ("next_due", gettext_lazy("Time left")),
    ("created_at", gettext_lazy("Logged")),
)
# Parameters that choose what is shown rather than filter it.
NOT_FILTERS = ("ordering", "page")


@role_required(*STAFF)
def ticket_list(request):
    """Tickets the user may see, filtered and ordered as the query string says."""
    return render_list(request, request.GET)


@role_required(*STAFF)
@require_POST
def save_filter(request):
    """Keep the list's current query string under a name; refused names re-show the list."""
    form = SavedFilterForm(request.POST, owner=request.user)
    if form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
            return redirect(list_url(saved.query))
    # The list as it was being saved; a query the form refused shows the whole list instead.
    query = "" if "query" in form.errors else request.POST.get("query", "")
    params = query_without_page(query)
    return render_list(request, params, save_form=form, status=400)


@role_required(*STAFF)
@require_POST
def delete_filter(request, pk: int):
    """Delete one of the user's own saved filters; anyone else's is not found."""
    saved = get_object_or_404(SavedFilter, pk=pk, owner=request.user)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    try:
        back = readable_query(request.POST.get("query", ""))
    except forms.ValidationError:
        back = ""
    return redirect(list_url(back))


def list_url(query: str) -> str:
    return reverse("tickets:list") + (f"?{query}" if query else "")


def render_list(request, params, *, save_form=None, status=200):
    """The list page for the query `params` (a QueryDict), with the user's saved filters."""
    base = {
        "saved_filters": saved_filters_of(request.user),
        "save_form": save_form or SavedFilterForm(owner=request.user),
        "page": None,
    }
    try:
        TicketFilter.check_query(params, also=("page",))
    except UnknownParameter as error:
        return render(request, "tickets/list.html", base | {"error": error.message}, status=400)
    tickets = selectors.visible_tickets(request.user).select_related(
        "organisation", "site", "team", "assignee", "equipment"
    )
    filtered = TicketFilter(params, queryset=with_next_deadline(tickets))
    if not filtered.is_valid():
        return render(request, "tickets/list.html", base | {"errors": filtered.errors}, status=400)
    ordering = params.get("ordering") or DEFAULT_ORDERING
    queryset = filtered.qs if params.get("ordering") else filtered.qs.order_by(DEFAULT_ORDERING, "-pk")
    page = Paginator(queryset, PER_PAGE).get_page(params.get("page"))
    page.object_list = list(page.object_list)
    for ticket in page.object_list:
        ticket.next_due_label = target_label(ticket.next_due_kind) if ticket.next_due_kind else ""
    query = meaningful(params)
    chosen_statuses = params.getlist("status")
    active = [key for key in query if key not in NOT_FILTERS]
    context = base | {
        "page": page,
        "params": params,
        "query_string": query.urlencode(),
        "columns": sort_columns(query, ordering),
        "sort_choices": sort_choices(ordering),
        "ordering": ordering,
        "statuses": STATUS_CHOICES,
        "chosen_statuses": chosen_statuses,
        "chosen_status_labels": [str(label) for value, label in STATUS_CHOICES if value in chosen_statuses],
        "all_open": ALL_OPEN,
        "filters_active": len(active),
        "kinds": Kind.choices,
        "levels": Level.choices,
        "urgencies": Urgency.choices,
        "teams": Team.objects.select_related("centre").order_by("centre__name", "tier", "name"),
        "centres": SupportCentre.objects.order_by("name"),
    }
    return render(request, "tickets/list.html", context, status=status)


def sort_columns(query, ordering: str) -> list[dict]:
    """
    Each column's heading with the link that sorts by it (ascending, or reversed when the list is
    already sorted by it ascending) and its `aria-sort` when the list is sorted by it.
    """
    first = ordering.split(",")[0].strip()
    current, descending = first.lstrip("-"), first.startswith("-")
    columns = []
    for key, label in COLUMNS:
        link = query.copy()
        link.pop("ordering", None)
        link["ordering"] = f"-{key}" if key == current and not descending else key
        sort = ""
        if key == current:
            sort = "descending" if descending else "ascending"
        columns.append({"key": key, "label": label, "href": f"?{link.urlencode()}", "sort": sort})
    return columns


def sort_choices(ordering: str) -> list[tuple[str, str]]:
    """The orders a phone picks from (its table has no headings to click), the current one too."""
    choices = []
    for key, label in COLUMNS:
        choices.append((key, _("%(column)s, ascending") % {"column": label}))
        choices.append((f"-{key}", _("%(column)s, descending") % {"column": label}))
    if ordering not in {value for value, text in choices}:
        choices.append((ordering, _("Custom order")))
    return choices
