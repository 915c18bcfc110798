"""Who may see which tickets, and the reads the pages need."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.choices import Role, Tier
from accounts.models import Team, User
from accounts.selectors import on_duty
from customers.selectors import organisation_of
from sla import services as clock
from sla.choices import Target

from .choices import OPEN_STATUSES, Event
from .models import Attachment, Comment, Ticket, TimelineEvent, Visit, WorkLog


def team_ids_of(user: User) -> list[int]:
    """The teams an engineer is a member of or supervises."""
    return sorted(set(Team.objects.filter(Q(members=user) | Q(supervisor=user)).values_list("pk", flat=True)))


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
        # The person's teams first (a few ids), then tickets by indexed columns: no join that
        # could repeat a ticket, so no DISTINCT over the whole table.
        return tickets.filter(Q(assignee=user) | Q(team_id__in=team_ids_of(user)))
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
    if not user.is_customer:
        return list(events)
    # Nor the desk's own words: escalations between support tiers, and the tier a change moved it to.
    events = list(events.filter(is_internal=False).exclude(kind__in=[Event.WORK_LOGGED, Event.ESCALATED]))
    for event in events:
        event.before = {name: value for name, value in event.before.items() if name != "tier"}
        event.after = {name: value for name, value in event.after.items() if name != "tier"}
    return events


def work_logs_for(user: User, ticket: Ticket) -> list[WorkLog]:
    """Time spent and what was done: the engineers' record, which customers do not see."""
    if user.is_customer:
        return []
    return list(ticket.work_logs.select_related("engineer"))


def visits_for(user: User, ticket: Ticket) -> list[Visit]:
    """The trips to the site: when, who, and the customer's sign-off, for everyone on the ticket."""
    return list(ticket.visits.select_related("engineer"))


def access_visit(user: User, pk: int) -> Visit:
    """A visit of a ticket `user` may see (its signature is shown wherever the visit is); else 404."""
    try:
        return Visit.objects.select_related("ticket").get(pk=pk, ticket__in=visible_tickets(user))
    except Visit.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class PromisedTime:
    """One promise of the fault report: what was promised (the deadline's due time) and what happened."""

    label: str
    promised: datetime | None
    actual: datetime | None
    state: str


# The report's promises, in the order the work goes, each with the ticket's own record of the act.
REPORT_TARGETS = (
    (Target.RESPONSE, "responded_at"),
    (Target.ARRIVAL, "arrived_at"),
    (Target.WORKAROUND, "workaround_at"),
    (Target.RESOLUTION, "resolved_at"),
)


def promised_times(ticket: Ticket) -> list[PromisedTime]:
    """
    The promised and actual response, arrival, workaround and resolution of the ticket. A reopened
    ticket has several resolution deadlines: the last one counts. A promise never made (no arrival
    for remote work) is left out unless the act happened anyway.
    """
    latest = {deadline.kind: deadline for deadline in sorted(clock.deadlines_of(ticket), key=lambda d: d.pk)}
    rows = []
    for target, field in REPORT_TARGETS:
        deadline = latest.get(f"ticket.{target}")
        actual = getattr(ticket, field) or (deadline.met_at if deadline else None)
        if deadline is None and actual is None:
            continue
        rows.append(
            PromisedTime(
                label=str(target.label),
                promised=deadline.due_at if deadline else None,
                actual=actual,
                state=deadline.get_state_display() if deadline else "",
            )
        )
    return rows


def parts_awaited(user: User, ticket: Ticket) -> list[TimelineEvent]:
    """The "wait for parts" steps of the ticket, each naming the part awaited, oldest first."""
    return [event for event in timeline_for(user, ticket) if event.kind == Event.WAITING_PARTS]


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


# The intake's suggestion: who takes a new call


def engineers_with_load(team: Team | None = None) -> QuerySet[User]:
    """Engineers (of `team`, when given) with their open tickets counted, fewest first, for the intake."""
    people = User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True)
    if team is not None:
        people = people.filter(teams=team)
    return people.annotate(
        open_count=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES))
    ).order_by("open_count", "display_name", "username")


def duty_people(duty) -> tuple | list:
    """Who is on duty by the roster (not the centre manager standing in for nobody)."""
    return duty.people if duty and not duty.is_fallback else ()


def engineer_for(team: Team | None, duty) -> tuple[User | None, bool]:
    """The team's engineer on duty now, else the one with the fewest open tickets (suggested: True)."""
    if team is None:
        return None, False
    members = list(engineers_with_load(team))
    on_duty_now = [person for person in duty_people(duty) if person in members]
    if on_duty_now:
        return on_duty_now[0], False
    return (members[0], True) if members else (None, False)


def intake_suggestion(centre, now: datetime):
    """
    The tier-1 team of the centre, who is on duty there, and who to name: its engineer on duty
    now, else its engineer with the fewest open tickets (suggested, `True` as the last value).
    """
    if centre is None:
        return None, None, None, False
    team = Team.objects.filter(centre=centre, tier=Tier.LOCAL).order_by("name").first()
    duty = on_duty(centre, now)
    engineer, suggested = engineer_for(team, duty)
    return team, engineer, duty, suggested
