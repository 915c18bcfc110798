"""The machinery every act shares: lock, check, change, record."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Team

from .. import deadlines
from ..acts import ACTS, allowed_acts, may
from ..choices import Event, Status
from ..models import Ticket, TimelineEvent

REOPEN_WINDOW = timedelta(days=30)


class TicketError(Exception):
    """A refused act: the message says why and what to do instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransitionError(TicketError):
    pass


class StaleTicket(TicketError):
    """Someone else changed the ticket since the caller read it."""

    def __init__(self, current: Ticket):
        super().__init__(
            _("Ticket %(number)s was changed by someone else (now version %(version)s, status %(status)s).")
            % {
                "number": current.number,
                "version": current.version,
                "status": current.get_status_display(),
            }
        )
        self.current = current


def allowed_for(user, ticket: Ticket) -> list[str]:
    """What this user may do to the ticket as it stands: the same acts the page offers."""
    return [str(act.label) for act in allowed_acts(user, ticket)]


def begin(ticket: Ticket, act_name: str, by, *, expected_version: int | None = None) -> Ticket:
    """Lock the ticket's row and check the version, the status and the actor's right to act."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("team").get(pk=ticket.pk)
    if expected_version is not None and ticket.version != expected_version:
        raise StaleTicket(ticket)
    act = ACTS[act_name]
    if ticket.status not in act.sources:
        raise TransitionError(
            _("A ticket that is “%(status)s” cannot take “%(act)s”. Allowed now: %(allowed)s.")
            % {
                "status": ticket.get_status_display(),
                "act": act.label,
                "allowed": "、".join(allowed_for(by, ticket)) or _("nothing"),
            }
        )
    if not may(by, act_name, ticket):
        raise PermissionDenied(_("Your role may not “%(act)s” this ticket.") % {"act": act.label})
    if act.refusal and not act.applies(ticket):
        raise TicketError(str(act.refusal))
    return ticket


def display(ticket: Ticket, field: str) -> str:
    """
    A field's value for the timeline. Choices are kept as their codes and named when the page is
    shown, in the reader's language; records (team, assignee) by their names; times in local time.
    """
    value = getattr(ticket, field)
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def finish(
    ticket: Ticket,
    event: Event,
    by,
    *,
    changes: dict,
    note: str = "",
    is_internal: bool = False,
    at=None,
) -> TimelineEvent:
    """Apply `changes`, bump the version, save only what changed, and write one timeline row."""
    before = {field: display(ticket, field) for field in changes}
    was_waiting = ticket.status == Status.WAITING_CUSTOMER
    for field, value in changes.items():
        setattr(ticket, field, value)
    after = {field: display(ticket, field) for field in changes}
    ticket.version += 1
    ticket.save(update_fields=[*changes, "version", "updated_at"])
    # Leaving "waiting for the customer" by any act (resume, reassign, escalate) restarts the clock.
    if was_waiting and ticket.status != Status.WAITING_CUSTOMER:
        deadlines.resumed(ticket, ticket.updated_at)
    return TimelineEvent.objects.create(
        ticket=ticket,
        kind=event,
        actor=by,
        created_at=at or timezone.now(),
        note=note,
        before={key: value for key, value in before.items() if value != after[key]},
        after={key: value for key, value in after.items() if value != before[key]},
        is_internal=is_internal,
    )


def status_change(act_name: str) -> dict:
    target = ACTS[act_name].target
    return {"status": target} if target else {}


def require_engineer(person) -> None:
    """Only engineers (and managers, who also work tickets) are put on a ticket or complained about."""
    if person.role not in (Role.ENGINEER, Role.MANAGER):
        raise TicketError(_("%(person)s is not an engineer.") % {"person": person})


def team_for_assignee(assignee, *, team: Team | None, current_team: Team | None, centre) -> Team | None:
    """
    The team a ticket goes to when given to `team` and/or `assignee`. The engineer is one of the
    named team; with no team named, one of the ticket's team or, when it has none, of a team of
    its support centre (which the ticket then goes to). Anyone else is refused.
    """
    if assignee is None:
        return team
    require_engineer(assignee)
    if team is not None:
        if not team.members.filter(pk=assignee.pk).exists():
            raise TicketError(
                _("%(person)s is not a member of %(team)s.") % {"person": assignee, "team": team}
            )
        return team
    if current_team is not None:
        if not current_team.members.filter(pk=assignee.pk).exists():
            raise TicketError(
                _("%(person)s is not a member of %(team)s, the ticket's team: choose their team as well.")
                % {"person": assignee, "team": current_team}
            )
        return current_team
    if centre is None:
        raise TicketError(_("Choose the team as well: the ticket has no support centre yet."))
    own = Team.objects.filter(centre=centre, members=assignee).order_by("tier", "name").first()
    if own is None:
        raise TicketError(
            _("%(person)s is not a member of any team of %(centre)s.")
            % {"person": assignee, "centre": centre}
        )
    return own


def require(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TicketError(message)
    return text


def within_reopen_window(ticket: Ticket, now=None) -> bool:
    if ticket.status != Status.CLOSED:
        return True
    return ticket.closed_at is not None and (now or timezone.now()) - ticket.closed_at <= REOPEN_WINDOW
