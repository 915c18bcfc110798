"""The hotline intake console: find the caller, check the entitlement, log the call."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.decorators import role_required
from accounts.models import Team
from accounts.selectors import on_duty
from customers import selectors as customer_selectors
from customers.models import Contact, Equipment, Organisation
from customers.services import check_entitlement

from .. import selectors, services
from ..choices import LEVEL_DESCRIPTIONS, OPEN_STATUSES
from ..filters import BadParameterValue, integer_parameter
from ..forms import IntakeForm, NewContactForm, NewCustomerForm

DESK = (Role.AGENT, Role.MANAGER, Role.ADMIN)
HISTORY_CLOSED = 5


class CallerError(Exception):
    """The console's parameters name something that is not there: said plainly, nothing chosen."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Caller:
    """Who is on the line, as far as the console knows: entitlement, organisation, device, contact."""

    entitlement: object = None
    organisation: Organisation | None = None
    equipment: Equipment | None = None
    contact: Contact | None = None
    devices: list = field(default_factory=list)
    to_be_confirmed: bool = False

    @property
    def site(self):
        if self.equipment is not None:
            return self.equipment.site
        sites = {device.site for device in self.devices}
        return sites.pop() if len(sites) == 1 else None


def _organisation(params) -> Organisation | None:
    pk = integer_parameter(params, "organisation")
    if pk is None:
        return None
    organisation = Organisation.objects.filter(pk=pk, is_placeholder=False).first()
    if organisation is None:
        raise CallerError(_("There is no such customer: find the caller again."))
    return organisation


def _contact(params) -> Contact | None:
    pk = integer_parameter(params, "contact")
    if pk is None:
        return None
    contact = (
        Contact.objects.filter(pk=pk, organisation__is_placeholder=False)
        .select_related("organisation")
        .first()
    )
    if contact is None:
        raise CallerError(_("There is no such contact: find the caller again."))
    return contact


def _caller(params) -> Caller:
    """
    What the GET parameters say about the caller. A serial or contract number is checked as read
    out; a contact or organisation alone gets its organisation's entitlement, and its only device
    is chosen as if by serial.
    """
    if params.get("unconfirmed"):
        return Caller(to_be_confirmed=True)
    contact, organisation = _contact(params), _organisation(params)
    serial, number = params.get("serial", "").strip(), params.get("contract", "").strip()
    caller = Caller(contact=contact)
    if serial or number:
        caller.entitlement = check_entitlement(contract_number=number, serial_number=serial)
        caller.organisation = caller.entitlement.organisation
        caller.equipment = caller.entitlement.equipment if caller.organisation else None
    else:
        caller.organisation = organisation or (contact.organisation if contact else None)
    if caller.organisation is None:
        return caller
    if contact is not None and contact.organisation_id != caller.organisation.pk:
        raise CallerError(
            _("%(contact)s is not a contact of %(organisation)s.")
            % {"contact": contact.name, "organisation": caller.organisation}
        )
    if caller.equipment is None:
        caller.devices = list(customer_selectors.equipment_for(caller.organisation).order_by("site__name"))
        if len(caller.devices) == 1 and not number:
            caller.equipment = caller.devices[0]
            caller.entitlement = check_entitlement(serial_number=caller.equipment.serial_number)
        elif caller.entitlement is None:
            caller.entitlement = customer_selectors.organisation_entitlement(caller.organisation)
    caller.contact = customer_selectors.caller_contact(caller.organisation, contact)
    return caller


@role_required(*DESK)
def intake(request):
    query = request.GET.get("q", "").strip()
    hits = customer_selectors.find_caller(query) if len(query) >= 2 else None
    if request.htmx and request.htmx.target == "caller-results":
        return render(request, "tickets/intake.html#results", _search_context(query, hits))
    if request.method == "POST":
        return _log(request)

    try:
        caller = _caller(request.GET)
    except (BadParameterValue, CallerError) as error:
        context = _context(request, None, Caller())
        context["error"] = error.message
        return render(request, "tickets/intake.html", context, status=400)
    form = None
    # A caller not on file goes, for a start, to the agent's own centre.
    centre = caller.site.centre if caller.site else (request.user.centre if caller.to_be_confirmed else None)
    team, engineer, duty, suggested = selectors.intake_suggestion(centre, timezone.now())
    if caller.organisation or caller.to_be_confirmed:
        entitlement = caller.entitlement
        form = IntakeForm(
            organisation=caller.organisation,
            centre=centre,
            team=team,
            on_duty=selectors.duty_people(duty),
            initial={
                "organisation": caller.organisation.pk if caller.organisation else None,
                "to_be_confirmed": caller.to_be_confirmed,
                "caller_name": request.GET.get("caller_name", "").strip()[:100],
                "caller_phone": request.GET.get("caller_phone", "").strip()[:32],
                "contact": caller.contact,
                "site": caller.site,
                "equipment": caller.equipment,
                "contract_number": entitlement.contract.number
                if entitlement and entitlement.in_force and entitlement.contract
                else "",
                "team": team,
                "assignee": engineer,
            },
        )
    context = _context(request, form, caller)
    context |= {"duty": duty, "suggested": engineer if suggested else None}
    return render(request, "tickets/intake.html", context)


def _search_context(query, hits):
    """The search results and the ways on from them: a new contact, a new customer, to be confirmed."""
    phone_like = bool(query) and all(char.isdigit() or char in "+- ()" for char in query)
    organisations = hits.found_organisations if hits else []
    return {
        "query": query,
        "hits": hits,
        "contact_form": NewContactForm(
            prefix="new-contact", initial=_said(query, phone_like, "name", "phone")
        )
        if organisations
        else None,
        "found_organisations": organisations,
        "customer_form": NewCustomerForm(
            prefix="new-customer", initial=_said(query, phone_like, "contact_name", "phone")
        ),
        "caller_name": "" if phone_like else query,
        "caller_phone": query if phone_like else "",
    }


def _said(query, phone_like, name_field, phone_field):
    """What the agent typed in the search box, as the new caller's name or phone."""
    return {phone_field: query} if phone_like else {name_field: query}


def _history(user, organisation):
    """The organisation's open tickets and its latest closed ones."""
    if organisation is None:
        return [], []
    tickets = selectors.visible_tickets(user).filter(organisation=organisation).order_by("-created_at")
    open_tickets = list(tickets.filter(status__in=OPEN_STATUSES)[:20])
    return open_tickets, list(tickets.exclude(status__in=OPEN_STATUSES)[:HISTORY_CLOSED])


def _context(request, form, caller: Caller):
    logged = selectors.visible_tickets(request.user).filter(number=request.GET.get("logged", "")).first()
    query = request.GET.get("q", "").strip()
    open_tickets, closed_tickets = _history(request.user, caller.organisation)
    return {
        **_search_context(query, None),
        "logged": logged,
        "serial": request.GET.get("serial", ""),
        "contract": request.GET.get("contract", ""),
        "caller": caller,
        "entitlement": caller.entitlement,
        "organisation": caller.organisation,
        "form": form,
        "duty": None,
        "suggested": None,
        "devices": caller.devices if caller.equipment is None else [],
        "open_tickets": open_tickets,
        "closed_tickets": closed_tickets,
        "duplicates": selectors.open_tickets_for_equipment(request.user, caller.equipment.pk)[:5]
        if caller.equipment
        else [],
        "add_contact_form": NewContactForm(
            prefix="add-contact", initial={"organisation": caller.organisation.pk}
        )
        if caller.organisation
        else None,
        "level_descriptions": LEVEL_DESCRIPTIONS,
    }


def _log(request):
    form = IntakeForm(request.POST)
    if not form.is_valid():
        return _refused(request, form, _("Check the highlighted fields."))
    data = form.cleaned_data
    equipment = data.get("equipment")
    # The contract is checked again now: only one in force on this equipment counts (a
    # warranty-only one too, whose terms say how the work outside the warranty is charged).
    entitlement = check_entitlement(
        contract_number=data["contract_number"],
        serial_number=equipment.serial_number if equipment else "",
        fault_area=data["fault_area"],
    )
    contract = entitlement.contract if entitlement.in_force else None
    details = services.CallDetails(
        organisation=data["organisation"],
        title=data["title"],
        description=data["description"],
        kind=data["kind"],
        level=data["level"],
        urgency=data["urgency"],
        channel=data["channel"],
        site=data.get("site"),
        contact=data.get("contact"),
        equipment=equipment,
        contract=contract,
        on_site_required=data["on_site_required"],
        fault_area=data["fault_area"],
        about_ticket=data["about_ticket"],
        about_engineer=data["about_engineer"],
        caller_name=data.get("caller_name", ""),
        caller_phone=data.get("caller_phone", ""),
    )
    try:
        if request.POST.get("action") == "answer":
            ticket = services.answer_call(details, by=request.user, answer=data["answer"])
        else:
            ticket = services.log_call(details, by=request.user, team=data["team"], assignee=data["assignee"])
    except services.TicketError as error:
        return _refused(request, form, error.message)
    return redirect(f"{reverse('tickets:intake')}?logged={ticket.number}")


def _refused(request, form, error):
    """The call form again, as typed, with what to fix; the caller's panel as it was."""
    data = getattr(form, "cleaned_data", {})
    caller = Caller(
        organisation=data.get("organisation"),
        equipment=data.get("equipment"),
        to_be_confirmed=bool(data.get("to_be_confirmed")),
    )
    context = _context(request, form, caller)
    context["error"] = error
    return render(request, "tickets/intake.html", context, status=400)


def _back_to_console(contact: Contact, params) -> str:
    """The console with the new contact as the caller, keeping the serial or contract being checked."""
    query = {"contact": contact.pk}
    for name in ("serial", "contract"):
        if params.get(name, "").strip():
            query[name] = params[name].strip()
    return f"{reverse('tickets:intake')}?{urlencode(query)}"


@role_required(*DESK)
def add_contact(request):
    """Add the caller to an organisation found on the console; they become the call's contact."""
    if request.method != "POST":
        return redirect("tickets:intake")
    form = NewContactForm(request.POST, prefix="add-contact")
    if not form.is_valid():
        return _not_added(request, form)
    try:
        contact = services.add_contact(
            form.cleaned_data["organisation"],
            by=request.user,
            name=form.cleaned_data["name"],
            phone=form.cleaned_data["phone"],
        )
    except services.TicketError as error:
        return _not_added(request, form, error.message)
    return redirect(_back_to_console(contact, request.POST))


@role_required(*DESK)
def add_customer(request):
    """A new customer: its organisation and the caller, then the call form for it."""
    if request.method != "POST":
        return redirect("tickets:intake")
    form = NewCustomerForm(request.POST, prefix="new-customer")
    if not form.is_valid():
        return _not_added(request, form, customer=True)
    try:
        contact = services.add_customer(by=request.user, **form.cleaned_data)
    except services.TicketError as error:
        return _not_added(request, form, error.message, customer=True)
    return redirect(_back_to_console(contact, {}))


def _not_added(request, form, error=None, *, customer=False):
    """The console again with the refused form open and what the agent typed kept."""
    organisation = None
    if not customer:
        organisation = form.cleaned_data.get("organisation") if hasattr(form, "cleaned_data") else None
    context = _context(request, None, Caller(organisation=organisation))
    if customer:
        context["customer_form"], context["customer_open"] = form, True
    elif organisation is not None:
        context["add_contact_form"], context["add_contact_open"] = form, True
    messages = [message for errors in form.errors.values() for message in errors]
    context["error"] = error or " ".join(messages) or _("Check the highlighted fields.")
    return render(request, "tickets/intake.html", context, status=400)


@role_required(*DESK)
def engineer_options(request):
    """The engineer options of one team, for the call form's engineer list (htmx)."""
    try:
        pk = integer_parameter(request.GET, "team")
    except BadParameterValue as error:
        return HttpResponseBadRequest(error.message)
    team = Team.objects.filter(pk=pk).select_related("centre").first() if pk else None
    if pk and team is None:
        raise Http404
    duty = on_duty(team.centre, timezone.now()) if team else None
    engineer, _suggested = selectors.engineer_for(team, duty)
    form = IntakeForm(team=team, on_duty=selectors.duty_people(duty), initial={"assignee": engineer})
    return render(request, "tickets/intake.html#engineer-options", {"field": form["assignee"]})
