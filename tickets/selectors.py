"""Who may see which tickets, and the reads the pages need."""

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.choices import Role
from accounts.models import User
from customers.selectors import organisation_of

from .choices import Event
from .models import Attachment, Comment, Ticket, TimelineEvent, Visit, WorkLog


def visible_tickets(user: User) -> QuerySet[Ticket]:
    """
    The tickets `user` may see: agents and administrators all of them, managers their region's
    (and those not yet placed in a region), engineers their own and their teams', customers
    their organisation's.
    """
    tickets = Ticket.objects.all()
    if not user.is_authenticated or not user.is_active:
        return tickets.none()
    if user.role in (Role.ADMIN, Role.AGENT):
        return tickets
    if user.role == Role.MANAGER:
        region = Q(centre__manager=user) | Q(centre__isnull=True)
        if user.centre_id:
            region |= Q(centre=user.centre_id)
        return tickets.filter(region)
    if user.role == Role.ENGINEER:
        return tickets.filter(Q(assignee=user) | Q(team__members=user) | Q(team__supervisor=user)).distinct()
    organisation = organisation_of(user)
    return tickets.filter(organisation=organisation) if organisation else tickets.none()


def access_ticket(user: User, number: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this number if `user` may see it; otherwise 404, as if it did not exist."""
    tickets = visible_tickets(user).select_related(
        "organisation",
        "site__centre",
        "contact",
        "contract",
        "equipment",
        "team__supervisor",
        "assignee",
        "logged_by",
        "about_ticket",
        "about_engineer",
    )
    try:
        return tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise Http404 from None


def _shown_to(user: User, attachments: QuerySet[Attachment]) -> QuerySet[Attachment]:
    """Customers never get internal files, nor files of internal notes."""
    if user.is_customer:
        return attachments.filter(is_internal=False).exclude(comment__is_internal=True)
    return attachments


def attachments_for(user: User, ticket: Ticket) -> list[Attachment]:
    return list(_shown_to(user, ticket.attachments.all()))


def access_attachment(user: User, pk: int) -> Attachment:
    """An attachment of a ticket `user` may see; internal files are for staff only."""
    attachments = _shown_to(user, Attachment.objects.filter(ticket__in=visible_tickets(user)))
    try:
        return attachments.get(pk=pk)
    except Attachment.DoesNotExist:
        raise Http404 from None


def timeline_for(user: User, ticket: Ticket) -> list[TimelineEvent]:
    """
    The ticket's history; customers do not see internal events, nor the work logged (the
    engineers' own notes and time, internal even where recorded before they were marked so).
    """
    events = ticket.events.select_related("actor")
    if user.is_customer:
        events = events.filter(is_internal=False).exclude(kind=Event.WORK_LOGGED)
    return list(events)


def work_logs_for(user: User, ticket: Ticket) -> list[WorkLog]:
    """Time spent and what was done: the engineers' record, which customers do not see."""
    if user.is_customer:
        return []
    return list(ticket.work_logs.select_related("engineer"))


def visits_for(user: User, ticket: Ticket) -> list[Visit]:
    """The trips to the site: when, who, and the customer's sign-off, for everyone on the ticket."""
    return list(ticket.visits.select_related("engineer"))


def comments_for(user: User, ticket: Ticket) -> list[Comment]:
    comments = ticket.comments.select_related("author").prefetch_related("attachments")
    if user.is_customer:
        comments = comments.filter(is_internal=False)
    return list(comments)


def complaints_about(user: User, ticket: Ticket) -> list[Ticket]:
    """Complaints that name this ticket, for staff who may see them; customers are not shown them."""
    if user.is_customer:
        return []
    return list(visible_tickets(user).filter(about_ticket=ticket).order_by("-created_at"))


def open_tickets_for_equipment(user: User, equipment_id: int) -> QuerySet[Ticket]:
    """Open tickets on the same equipment that `user` may see: the intake console warns of a duplicate."""
    return visible_tickets(user).open().filter(equipment_id=equipment_id).order_by("-created_at")
