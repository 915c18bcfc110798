"""How tickets come in: a call logged by the hotline, or a request filed on the portal."""

from dataclasses import dataclass

from django.db import transaction
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
from .core import TicketError, require, require_engineer, team_for_assignee


@dataclass
class CallDetails:
    """What the caller told the agent (or the customer typed in the portal)."""

    organisation: Organisation
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
    )
    deadlines.open_for_new_ticket(ticket)
    after = {"status": ticket.status}
    if team:
        after["team"] = team.name
    if assignee:
        after["assignee"] = str(assignee)
    TimelineEvent.objects.create(ticket=ticket, kind=Event.LOGGED, actor=by, created_at=now, after=after)
    notify.logged(ticket, by)
    if team or assignee:
        notify.assigned(ticket, by)
    return ticket


@transaction.atomic
def log_call(details: CallDetails, *, by, team: Team | None = None, assignee=None) -> Ticket:
    """The hotline logs a call; with a team (and engineer) it is assigned at once."""
    if by.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise TicketError(_("Only the hotline logs calls."))
    return _create(details, by, team=team, assignee=assignee)


def customer_request_problems(organisation: Organisation, *, kind, site, equipment) -> dict[str, str]:
    """
    What a customer's request may not be, by field: the one rule of the portal's form, the API's
    serializer and `file_request`, so that neither way in accepts what the other refuses.
    Whether the site and equipment are the organisation's own is checked where they are chosen.
    """
    problems = {}
    if kind not in CUSTOMER_KINDS:
        problems["kind"] = _("A change request is agreed with the service desk: call the hotline.")
    if site is None and organisation.sites.exists():
        problems["site"] = _("Choose the site the request is about.")
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
def file_request_with_files(details: CallDetails, *, by, files=()) -> Ticket:
    """A portal request and its attachments: all of it is filed, or none of it."""
    from .messages import attach

    ticket = file_request(details, by=by)
    if files:
        attach(ticket, by=by, files=files)
        ticket.refresh_from_db()
    return ticket
