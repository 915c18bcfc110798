"""Who hears about what happens to a ticket. Messages go through the notifications outbox."""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.choices import Role, tier_name
from notifications import services as outbox
from notifications.choices import Channel, RobotEvent

from .choices import Kind, Level, Status
from .models import Ticket

NEW_FAULT_EVENTS = {Level.I: RobotEvent.NEW_LEVEL_1, Level.II: RobotEvent.NEW_LEVEL_2}


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


def _contact_addresses(ticket: Ticket) -> list[str]:
    """The address of the ticket's own contact when they have no portal account."""
    contact = ticket.contact if ticket.contact_id else None
    if contact is None or contact.user_id or not contact.email:
        return []
    return [contact.email]


def _tell_customers(ticket: Ticket, by, *, kind: str, subject: str, body: str) -> None:
    """
    The organisation's customer users (in the application and by e-mail, with the link), and
    by e-mail the ticket's contact without an account (no link: it leads to a sign-in page).
    """
    users = _customers_of(ticket)
    outbox.queue(
        [person for person in users if person != by], kind=kind, subject=subject, body=body, url=_url(ticket)
    )
    # Checked against every customer user, `by` included: one person, one e-mail.
    taken = {person.email.strip().lower() for person in users if person.email}
    addresses = [address for address in _contact_addresses(ticket) if address.strip().lower() not in taken]
    if addresses:
        outbox.queue([], kind=kind, subject=subject, body=body, channels=[Channel.EMAIL], addresses=addresses)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def robot_body(ticket: Ticket, organisation: str) -> str:
    """What a group robot posts under the subject: number and class, title, organisation (plain text)."""
    what = ticket.get_kind_display()
    if ticket.kind == Kind.FAULT and ticket.level:
        what = f"{what} · {ticket.get_level_display()}"
    # One line each: a title can start no heading, list or quote of its own in the robot's markdown.
    return "\n".join([f"{ticket.number} · {what}", _one_line(ticket.title), _one_line(organisation)])


def logged(ticket: Ticket, by) -> None:
    """A new ticket: the customers hear it is logged; a new Level I/II fault goes to the group robots."""
    _tell_customers(
        ticket,
        by,
        kind="ticket.logged",
        subject=_("Your request %(number)s is logged: %(title)s")
        % {"number": ticket.number, "title": ticket.title},
        body=_("%(kind)s%(level)s · %(status)s")
        % {
            "kind": ticket.get_kind_display(),
            "level": f" {ticket.get_level_display()}" if ticket.level else "",
            "status": ticket.get_status_display(),
        },
    )
    event = NEW_FAULT_EVENTS.get(ticket.level) if ticket.kind == Kind.FAULT else None
    if event is None:
        return
    robots = outbox.Subscriptions().hearing(event, centre_id=ticket.centre_id, team_ids=[ticket.team_id])
    if robots:
        outbox.queue_robot(
            robots,
            kind="ticket.logged",
            subject=_("New %(level)s fault %(number)s")
            % {"level": ticket.get_level_display(), "number": ticket.number},
            body=robot_body(ticket, ticket.organisation.name),
            url=_url(ticket),
            dedupe_key=f"ticket-{ticket.pk}-logged",
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
    _tell_customers(
        ticket,
        by,
        kind="ticket.resolved",
        subject=_("Your request %(number)s is resolved: please confirm") % {"number": ticket.number},
        body=ticket.resolution[:500],
    )


def closed(ticket: Ticket, by, note: str = "") -> None:
    """Confirmed (on the customer's word, or by another of its users) or cancelled: the customers hear."""
    if ticket.status == Status.CANCELLED:
        subject = _("Your request %(number)s was cancelled") % {"number": ticket.number}
    else:
        subject = _("Your request %(number)s is closed") % {"number": ticket.number}
    _tell_customers(ticket, by, kind="ticket.closed", subject=subject, body=note[:500])


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
    _tell_customers(
        ticket,
        None,
        kind="ticket.auto_closed",
        subject=_("Your request %(number)s was closed") % {"number": ticket.number},
        body=_(
            "The resolution was not confirmed within 30 days. "
            "If the problem is back, reopen the request within 30 days."
        ),
    )


def escalated_by_hand(ticket: Ticket, by, people, reason: str) -> None:
    outbox.queue(
        [person for person in people if person != by],
        kind="ticket.escalated",
        subject=_("%(number)s escalated to %(tier)s")
        % {"number": ticket.number, "tier": tier_name(ticket.tier)},
        body=reason[:500],
        url=_url(ticket),
    )


def emergency_plan_delivered(ticket: Ticket, by, plan: str, *, revised: bool) -> None:
    """The customers get the emergency plan of their Level I fault (and each revision of it)."""
    if revised:
        subject = _("Emergency plan for %(number)s revised") % {"number": ticket.number}
    else:
        subject = _("Emergency plan for %(number)s") % {"number": ticket.number}
    _tell_customers(ticket, by, kind="ticket.emergency_plan", subject=subject, body=plan[:500])
