"""The hotline intake console: find the caller, check the entitlement, log the call."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role, Tier
from accounts.decorators import role_required
from accounts.models import Team
from accounts.selectors import on_duty
from customers import selectors as customer_selectors
from customers.models import Contact, Organisation
from customers.services import check_entitlement

from .. import selectors, services
from ..choices import LEVEL_DESCRIPTIONS
from ..filters import BadParameterValue, integer_parameter
from ..forms import IntakeForm

DESK = (Role.AGENT, Role.MANAGER, Role.ADMIN)


def _caller(params):
    """What the GET parameters say about the caller: entitlement, organisation, equipment, contact."""
    contact_pk = integer_parameter(params, "contact")
    organisation_pk = integer_parameter(params, "organisation")
    serial, number = params.get("serial", "").strip(), params.get("contract", "").strip()
    entitlement = (
        check_entitlement(contract_number=number, serial_number=serial) if serial or number else None
    )
    contact = (
        Contact.objects.filter(pk=contact_pk).select_related("organisation").first() if contact_pk else None
    )
    organisation = entitlement.organisation if entitlement else None
    if organisation is None and contact:
        organisation = contact.organisation
    if organisation is None and organisation_pk:
        organisation = Organisation.objects.filter(pk=organisation_pk).first()
    return entitlement, organisation, contact


def _suggestion(site):
    """The tier-1 team of the site's centre and its engineer on duty now, if any."""
    if site is None:
        return None, None, None
    team = Team.objects.filter(centre=site.centre_id, tier=Tier.LOCAL).order_by("name").first()
    duty = on_duty(site.centre, timezone.now())
    engineer = duty.primary if team and not duty.is_fallback and duty.primary in team.members.all() else None
    return team, engineer, duty


@role_required(*DESK)
def intake(request):
    query = request.GET.get("q", "").strip()
    hits = customer_selectors.find_caller(query) if len(query) >= 2 else None
    if request.htmx and request.htmx.target == "caller-results":
        return render(request, "tickets/intake.html#results", {"query": query, "hits": hits})
    if request.method == "POST":
        return _log(request)

    try:
        entitlement, organisation, contact = _caller(request.GET)
    except BadParameterValue as error:
        context = {**_context(request, None, None, None, None, None), "error": error.message}
        return render(request, "tickets/intake.html", context, status=400)
    equipment = entitlement.equipment if entitlement else None
    site = equipment.site if equipment else None
    team, engineer, duty = _suggestion(site)
    form = None
    if organisation:
        form = IntakeForm(
            organisation=organisation,
            initial={
                "organisation": organisation.pk,
                "contact": contact,
                "site": site,
                "equipment": equipment,
                "contract_number": entitlement.contract.number
                if entitlement and entitlement.is_covered
                else "",
                "team": team,
                "assignee": engineer,
            },
        )
    return render(
        request,
        "tickets/intake.html",
        _context(request, form, entitlement, organisation, equipment, duty),
    )


def _context(request, form, entitlement, organisation, equipment, duty):
    logged = selectors.visible_tickets(request.user).filter(number=request.GET.get("logged", "")).first()
    return {
        "logged": logged,
        "query": request.GET.get("q", ""),
        "serial": request.GET.get("serial", ""),
        "contract": request.GET.get("contract", ""),
        "hits": None,
        "entitlement": entitlement,
        "organisation": organisation,
        "form": form,
        "duty": duty,
        "duplicates": selectors.open_tickets_for_equipment(request.user, equipment.pk)[:5]
        if equipment
        else [],
        "level_descriptions": LEVEL_DESCRIPTIONS,
    }


def _log(request):
    form = IntakeForm(request.POST)
    if not form.is_valid():
        return _refused(request, form, _("Check the highlighted fields."))
    data = form.cleaned_data
    equipment = data["equipment"]
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
        site=data["site"],
        contact=data["contact"],
        equipment=equipment,
        contract=contract,
        on_site_required=data["on_site_required"],
        fault_area=data["fault_area"],
        about_ticket=data["about_ticket"],
        about_engineer=data["about_engineer"],
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
    organisation = form.cleaned_data.get("organisation") if hasattr(form, "cleaned_data") else None
    equipment = form.cleaned_data.get("equipment") if hasattr(form, "cleaned_data") else None
    context = _context(request, form, None, organisation, equipment, None)
    context["error"] = error
    return render(request, "tickets/intake.html", context, status=400)
