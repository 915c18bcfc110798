"""What a ticket records for the customer besides its status: the emergency plan and the billing."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import Billing

from .. import deadlines, notify
from ..choices import Event
from ..models import EmergencyPlan, Ticket
from .core import TicketError, begin, finish, require
from .messages import _check_files, _store


@transaction.atomic
def deliver_emergency_plan(
    ticket: Ticket, *, by, plan: str, files=(), expected_version=None
) -> EmergencyPlan:
    """
    Give the customer the emergency plan of a Level I fault, with its files (shown to the
    customer). The first delivery meets the emergency-plan deadline; a later one revises the plan,
    and the earlier stays in the timeline.
    """
    ticket = begin(ticket, "deliver_emergency_plan", by, expected_version=expected_version)
    text = require(plan, _("Write the emergency plan."))
    checked = _check_files(list(files))
    now = timezone.now()
    revised = ticket.emergency_plans.exists()
    delivered = EmergencyPlan.objects.create(ticket=ticket, plan=text, delivered_by=by, delivered_at=now)
    stored = _store(ticket, by, checked, comment=None, is_internal=False, emergency_plan=delivered)
    names = "、".join(attachment.original_name for attachment in stored)
    finish(ticket, Event.EMERGENCY_PLAN, by, changes={}, note=f"{text}\n{names}".strip(), at=now)
    notify.emergency_plan_delivered(ticket, by, text, revised=revised)
    deadlines.emergency_plan_delivered(ticket, now)
    return delivered


@transaction.atomic
def set_billing(ticket: Ticket, *, by, billing: str, reason: str, expected_version=None) -> Ticket:
    """Correct how the work is paid for (covered by contract or warranty, charged per call or per year)."""
    ticket = begin(ticket, "set_billing", by, expected_version=expected_version)
    if billing not in Billing.values:
        raise TicketError(_("Choose how the work is paid for."))
    if billing == ticket.billing:
        raise TicketError(
            _("The ticket is already “%(billing)s”.") % {"billing": ticket.get_billing_display()}
        )
    text = require(reason, _("Say why the billing changes."))
    finish(ticket, Event.BILLING_CHANGED, by, changes={"billing": billing}, note=text)
    return ticket
