"""How tickets come in: a call logged by the hotline, or a request filed on the portal."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Team, User
from customers.choices import FaultArea
from customers.models import Contact, Contract, Equipment, Organisation, Site
from customers.services import Reason, contract_state, judge

from .. import deadlines, notify
from ..choices import CUSTOMER_KINDS, Channel, Event, Kind, Level, Status, Urgency
from ..models import Ticket, TicketCounter, TimelineEvent
from .core import TicketError, begin, finish, require, require_engineer, team_for_assignee

# The one organisation of calls whose customer is not known yet; its name is data, kept stable.
PLACEHOLDER_NAME = "待确认客户"


@dataclass
class CallDetails:
    """What the caller told the agent (or the customer typed in the portal)."""

    # None: the customer is to be confirmed (the call goes to the placeholder organisation).
    organisation: Organisation | None
    title: str
    description: str = ""
    kind: str = Kind.FAULT
    level: int | None = None
    urgency: str = Urgency.GENERAL
    channel: str = Channel.PHONE
    site: Site | None = None
    contact: Contact | None = None
    equipment: Equipment | None = None
    contract: Contract | None = None
    on_site_required: bool = False
    # What a fault concerns (hardware or system): the warranty of that part may decide the billing.
    fault_area: str = ""
    # What a complaint is about: one of the organisation's tickets, or an engineer.
    about_ticket: Ticket | None = None
    about_engineer: User | None = None
    # Who called, as they said it: kept on the ticket of a customer to be confirmed.
    caller_name: str = ""
    caller_phone: str = ""


def next_number(year: int) -> str:
    """SD-<year>-<six digits>, unique and without gaps: the counter row is updated in place."""
    TicketCounter.objects.get_or_create(year=year)
    TicketCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = TicketCounter.objects.get(year=year).last
    return f"SD-{year}-{last:06d}"


def _check(details: CallDetails) -> None:
    """Every record the call names belongs to the caller's organisation; the class fits the level."""
    organisation = details.organisation
    for record, owner in [
        (details.site, details.site and details.site.organisation_id),
        (details.contact, details.contact and details.contact.organisation_id),
        (details.contract, details.contract and details.contract.organisation_id),
        (details.equipment, details.equipment and details.equipment.site.organisation_id),
    ]:
        if record is not None and owner != organisation.pk:
            raise TicketError(
                _("%(record)s does not belong to %(organisation)s.")
                % {"record": record, "organisation": organisation}
            )
    if details.equipment and details.site and details.equipment.site_id != details.site.pk:
        raise TicketError(
            _("Equipment %(serial)s is not at %(site)s.")
            % {"serial": details.equipment.serial_number, "site": details.site.name}
        )
    if details.kind not in Kind.values:
        raise TicketError(_("Choose the class of the call."))
    if details.kind == Kind.FAULT and details.level not in Level.values:
        raise TicketError(_("A fault needs a level, I to IV."))
    if details.urgency not in Urgency.values or details.channel not in Channel.values:
        raise TicketError(_("Choose the urgency and the channel."))
    if details.fault_area and (details.kind != Kind.FAULT or details.fault_area not in FaultArea.values):
        raise TicketError(_("Say whether a fault concerns the hardware or the system; other calls do not."))
    _check_complaint(details)
    if details.contract and contract_state(details.contract, timezone.localdate()) != Reason.COVERED:
        raise TicketError(
            _("Contract %(number)s does not cover service today: log the call as paid service (no contract).")
            % {"number": details.contract.number}
        )


def _check_complaint(details: CallDetails) -> None:
    """A complaint may name one of its organisation's tickets and an engineer; other calls name neither."""
    if details.kind != Kind.COMPLAINT and (details.about_ticket or details.about_engineer):
        raise TicketError(_("Only a complaint names the ticket or the engineer it is about."))
    about = details.about_ticket
    if about is not None and about.organisation_id != details.organisation.pk:
        # Said alike for a ticket of another organisation and one that does not exist.
        raise TicketError(
            _("There is no ticket %(number)s of %(organisation)s.")
            % {"number": about.number, "organisation": details.organisation}
        )
    if details.about_engineer is not None:
        require_engineer(details.about_engineer)


def billing_of(details: CallDetails) -> str:
    """How the call's work is paid for: the entitlement of its contract, equipment and fault area today."""
    on = timezone.localdate()
    return judge(details.contract, details.equipment, fault_area=details.fault_area, on=on).billing


def _create(details: CallDetails, by, *, team: Team | None, assignee) -> Ticket:
    _check(details)
    title = require(details.title, _("Give the call a short title."))
    if len(title) > 200:
        raise TicketError(_("Keep the title under 200 characters."))
    site = details.site or (details.equipment.site if details.equipment else None)
    team = team_for_assignee(assignee, team=team, current_team=None, centre=site.centre if site else None)
    now = timezone.now()
    ticket = Ticket.objects.create(
        number=next_number(timezone.localdate(now).year),
        organisation=details.organisation,
        site=site,
        contact=details.contact,
        contract=details.contract,
        equipment=details.equipment,
        centre=site.centre if site else (team.centre if team else None),
        channel=details.channel,
        kind=details.kind,
        level=details.level if details.kind == Kind.FAULT else None,
        urgency=details.urgency,
        title=title,
        description=details.description.strip(),
        status=Status.ASSIGNED if (team or assignee) else Status.NEW,
        tier=team.tier if team else 1,
        team=team,
        assignee=assignee,
        logged_by=by,
        created_at=now,
        on_site_required=details.on_site_required,
        fault_area=details.fault_area if details.kind == Kind.FAULT else "",
        billing=billing_of(details),
        about_ticket=details.about_ticket,
        about_engineer=details.about_engineer,
        caller_name=details.caller_name.strip(),
        caller_phone=details.caller_phone.strip(),
    )
    deadlines.open_for_new_ticket(ticket)
    after = {"status": ticket.status}
    if team:
        after["team"] = team.name
    if assignee:
        after["assignee"] = str(assignee)
    # A customer's own request reads "Submitted on the portal"; the hotline's, "Call logged".
    kind = Event.FILED if by.role == Role.CUSTOMER else Event.LOGGED
    TimelineEvent.objects.create(ticket=ticket, kind=kind, actor=by, created_at=now, after=after)
    notify.logged(ticket, by)
    if team or assignee:
        notify.assigned(ticket, by)
    return ticket


@transaction.atomic
def log_call(details: CallDetails, *, by, team: Team | None = None, assignee=None) -> Ticket:
    """
    The hotline logs a call; with a team (and engineer) it is assigned at once. Without an
    organisation the customer is to be confirmed (`identify_customer` names it later).
    """
    if by.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise TicketError(_("Only the hotline logs calls."))
    if details.organisation is None:
        _to_be_confirmed(details)
    elif details.organisation.is_placeholder:
        raise TicketError(
            _("Log a call of a customer to be confirmed as such, with the caller's name or phone.")
        )
    return _create(details, by, team=team, assignee=assignee)


def placeholder_organisation() -> Organisation:
    """The one "customer to be confirmed", made on first use (the unique constraint settles a race)."""
    try:
        with transaction.atomic():
            organisation, _created = Organisation.objects.get_or_create(
                is_placeholder=True, defaults={"name": PLACEHOLDER_NAME}
            )
    except IntegrityError:
        # Made meanwhile by another request; or (from before this rule) a real customer bears the
        # name: the placeholder then takes a name of its own.
        organisation = Organisation.objects.filter(is_placeholder=True).first()
        if organisation is None:
            organisation = Organisation.objects.create(is_placeholder=True, name=f"{PLACEHOLDER_NAME} (#0)")
    return organisation


def _to_be_confirmed(details: CallDetails) -> None:
    """
    A caller not on file is logged for triage under the customer to be confirmed: the ticket keeps
    the caller's name and phone until the desk identifies the customer.
    """
    if not (details.caller_name.strip() or details.caller_phone.strip()):
        raise TicketError(_("Write down the caller's name or phone, so that the desk can call back."))
    if details.site or details.contact or details.equipment or details.contract:
        raise TicketError(
            _("A call of a customer to be confirmed names no site, contact, equipment or contract.")
        )
    details.organisation = placeholder_organisation()


def _customer_name(text: str, message: str, max_length: int) -> str:
    text = require(text, message)
    if len(text) > max_length:
        raise TicketError(_("Keep it under %(count)s characters.") % {"count": max_length})
    return text


@transaction.atomic
def add_contact(organisation: Organisation, *, by, name: str, phone: str = "") -> Contact:
    """The hotline adds the caller to an organisation on file: from now on they are found by phone or name."""
    if by.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise TicketError(_("Only the hotline adds callers."))
    if organisation.is_placeholder:
        raise TicketError(
            _("The customer to be confirmed has no contacts: add the caller to a real customer.")
        )
    name = _customer_name(name, _("Write the caller's name."), 100)
    phone = (phone or "").strip()
    if len(phone) > 32:
        raise TicketError(_("Keep the phone under 32 characters."))
    return Contact.objects.create(organisation=organisation, name=name, phone=phone)


@transaction.atomic
def add_customer(*, by, organisation_name: str, contact_name: str, phone: str = "") -> Contact:
    """A new customer on the line: its organisation and the caller as its first contact."""
    if by.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise TicketError(_("Only the hotline adds customers."))
    name = _customer_name(organisation_name, _("Write the customer's name."), 200)
    if name.casefold() in (PLACEHOLDER_NAME.casefold(), str(_("Customer to be confirmed")).casefold()):
        raise TicketError(_("Log the call as “customer to be confirmed” instead: name a real customer here."))
    already = _("%(organisation)s is already a customer: find it and add the caller to it.")
    existing = Organisation.objects.filter(name__iexact=name).first()
    if existing is not None:
        raise TicketError(already % {"organisation": existing})
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(name=name)
    except IntegrityError:  # another agent added it a moment ago
        raise TicketError(already % {"organisation": name}) from None
    return add_contact(organisation, by=by, name=contact_name, phone=phone)


def _contract_in_force(organisation: Organisation, equipment: Equipment | None) -> Contract | None:
    """The equipment's contract if in force; without equipment, the organisation's only one in force."""
    today = timezone.localdate()
    if equipment is not None:
        contract = equipment.contract
        return contract if contract and contract_state(contract, today) == Reason.COVERED else None
    in_force = [c for c in organisation.contracts.all() if contract_state(c, today) == Reason.COVERED]
    return in_force[0] if len(in_force) == 1 else None


@transaction.atomic
def identify_customer(
    ticket: Ticket,
    *,
    by,
    organisation: Organisation,
    contact: Contact | None = None,
    serial_number: str = "",
    expected_version=None,
) -> Ticket:
    """
    Move a call of the customer to be confirmed to the real customer (with the caller as its
    contact and the equipment by serial, when known): site, centre, contract and billing follow.
    """
    ticket = begin(ticket, "identify_customer", by, expected_version=expected_version)
    if organisation is None or organisation.is_placeholder:
        raise TicketError(_("Choose the customer the call came from."))
    if contact is not None and contact.organisation_id != organisation.pk:
        raise TicketError(
            _("%(record)s does not belong to %(organisation)s.")
            % {"record": contact, "organisation": organisation}
        )
    equipment = None
    serial_number = (serial_number or "").strip()
    if serial_number:
        equipment = (
            Equipment.objects.select_related("site__centre", "contract")
            .filter(serial_number__iexact=serial_number, site__organisation=organisation)
            .first()
        )
        if equipment is None:
            # Said alike for an unknown serial and one of another organisation.
            raise TicketError(
                _("%(organisation)s has no equipment with serial number %(serial)s.")
                % {"organisation": organisation, "serial": serial_number}
            )
    contract = _contract_in_force(organisation, equipment)
    changes = {"organisation": organisation, "contact": contact, "equipment": equipment, "contract": contract}
    if equipment is not None:
        changes |= {"site": equipment.site, "centre": equipment.site.centre}
    changes["billing"] = judge(
        contract, equipment, fault_area=ticket.fault_area, on=timezone.localdate()
    ).billing
    finish(ticket, Event.CUSTOMER_IDENTIFIED, by, changes=changes)
    return ticket


def customer_request_problems(organisation: Organisation, *, kind, site, equipment) -> dict[str, str]:
    """
    What a customer's request may not be, by field: the one rule of the portal's form, the API's
    serializer and `file_request`, so that neither way in accepts what the other refuses.
    Whether the site and equipment are the organisation's own is checked where they are chosen.
    """
    from customers.selectors import hotlines_for

    problems = {}
    if kind not in CUSTOMER_KINDS:
        numbers = " / ".join(hotline.number for hotline in hotlines_for(organisation))
        problems["kind"] = (
            _("A change request is agreed with the service desk: call the hotline %(number)s.")
            % {"number": numbers}
            if numbers
            else _("A change request is agreed with the service desk: call the hotline.")
        )
    if site is None and organisation.sites.exists():
        problems["site"] = _("Choose the site of the request.")
    if site is not None and equipment is not None and equipment.site_id != site.pk:
        problems["equipment"] = _("This equipment is at another site.")
    return problems


@transaction.atomic
def file_request(details: CallDetails, *, by) -> Ticket:
    """A customer files a request on the portal for their own organisation."""
    from customers.selectors import organisation_of

    organisation = organisation_of(by) if by.role == Role.CUSTOMER else None
    if organisation is None or organisation != details.organisation:
        raise TicketError(_("Requests are filed for your own organisation only."))
    details.channel = Channel.PORTAL
    details.contact = getattr(by, "contact", None)
    _check(details)
    problems = customer_request_problems(
        organisation, kind=details.kind, site=details.site, equipment=details.equipment
    )
    if problems:
        raise TicketError(" ".join(problems.values()))
    if details.contract is None and details.equipment and details.equipment.contract:
        contract = details.equipment.contract
        if contract_state(contract, timezone.localdate()) == Reason.COVERED:
            details.contract = contract
    return _create(details, by, team=None, assignee=None)


@transaction.atomic
def answer_call(details: CallDetails, *, by, answer: str) -> Ticket:
    """A consultation answered while the caller is on the line: logged and closed in one go."""
    from .lifecycle import answer as answer_ticket

    if details.kind != Kind.CONSULTATION:
        raise TicketError(_("Only a consultation can be answered on the spot."))
    ticket = log_call(details, by=by)
    return answer_ticket(ticket, by=by, answer=answer)


@transaction.atomic
def file_request_with_files(details: CallDetails, *, by, files=(), staged=()) -> Ticket:
    """
    A portal request and its attachments: the files chosen now and those `staged` (kept from a
    refused form, `StagedUpload` rows of `by` only). All of it is filed, or none of it; the staged
    rows (and their files) are gone once they are the ticket's.
    """
    from .messages import attach
    from .staging import unstage

    staged = list(staged)
    if any(upload.owner_id != by.pk for upload in staged):
        raise TicketError(_("A kept file of someone else cannot be attached."))
    ticket = file_request(details, by=by)
    with unstage(staged) as kept:
        if files or kept:
            attach(ticket, by=by, files=[*kept, *files])
            ticket.refresh_from_db()
    return ticket
