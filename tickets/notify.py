"""Who hears about what happens to a ticket. Messages go through the notifications outbox."""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.choices import Role
from notifications import services as outbox

from .models import Ticket


def _url(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.number])


def _staff_on(ticket: Ticket) -> list:
    """The assignee, else the team's members; and the team's supervisor."""
    people = []
    if ticket.assignee_id:
        people.append(ticket.assignee)
    elif ticket.team_id:
        people.extend(ticket.team.members.filter(is_active=True))
    if ticket.team_id and ticket.team.supervisor_id:
        people.append(ticket.team.supervisor)
    return people


def _customers_of(ticket: Ticket) -> list:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model().objects.filter(
            role=Role.CUSTOMER, is_active=True, contact__organisation=ticket.organisation_id
        )
    )


def assigned(ticket: Ticket, by) -> None:
    recipients = [ticket.assignee] if ticket.assignee_id else _staff_on(ticket)
    outbox.queue(
        [person for person in recipients if person != by],
        kind="ticket.assigned",
        subject=_("Ticket %(number)s assigned to you: %(title)s")
        % {"number": ticket.number, "title": ticket.title},
        body=_("%(organisation)s · %(kind)s%(level)s · %(urgency)s")
        % {
            "organisation": ticket.organisation.name,
            "kind": ticket.get_kind_display(),
            "level": f" {ticket.get_level_display()}" if ticket.level else "",
            "urgency": ticket.get_urgency_display(),
        },
        url=_url(ticket),
    )


def customer_commented(ticket: Ticket, by, body: str) -> None:
    outbox.queue(
        _staff_on(ticket),
        kind="ticket.customer_comment",
        subject=_("Customer comment on %(number)s") % {"number": ticket.number},
        body=f"{by}: {body[:300]}",
        url=_url(ticket),
    )


def staff_commented(ticket: Ticket, by, body: str) -> None:
    outbox.queue(
        _customers_of(ticket),
        kind="ticket.reply",
        subject=_("Reply on your request %(number)s") % {"number": ticket.number},
        body=f"{by}: {body[:300]}",
        url=_url(ticket),
    )


def resolved(ticket: Ticket, by) -> None:
    outbox.queue(
        _customers_of(ticket),
        kind="ticket.resolved",
        subject=_("Your request %(number)s is resolved: please confirm") % {"number": ticket.number},
        body=ticket.resolution[:500],
        url=_url(ticket),
    )


def reopened(ticket: Ticket, by, reason: str) -> None:
    outbox.queue(
        [person for person in _staff_on(ticket) if person != by],
        kind="ticket.reopened",
        subject=_("Ticket %(number)s reopened") % {"number": ticket.number},
        body=reason[:500],
        url=_url(ticket),
    )


def approval_requested(ticket: Ticket, approver, by, what: str) -> None:
    if approver is None:
        return
    outbox.queue(
        [approver],
        kind="ticket.approval",
        subject=_("Approval needed on %(number)s: %(what)s") % {"number": ticket.number, "what": what},
        body=str(by),
        url=_url(ticket),
    )


def auto_closed(ticket: Ticket) -> None:
    outbox.queue(
        _customers_of(ticket),
        kind="ticket.auto_closed",
        subject=_("Your request %(number)s was closed") % {"number": ticket.number},
        body=_(
            "The resolution was not confirmed within 30 days. "
            "If the problem is back, reopen the request within 30 days."
        ),
        url=_url(ticket),
    )


def escalated_by_hand(ticket: Ticket, by, people, reason: str) -> None:
    outbox.queue(
        [person for person in people if person != by],
        kind="ticket.escalated",
        subject=_("%(number)s escalated to tier %(tier)s") % {"number": ticket.number, "tier": ticket.tier},
        body=reason[:500],
        url=_url(ticket),
    )
