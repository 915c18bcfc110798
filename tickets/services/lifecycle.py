"""The acts of a ticket's life after intake, one function each, one transaction and one timeline row."""

import uuid
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Team

from .. import deadlines, notify
from ..choices import Event, Kind, ProblemType, Score, Status, WorkMethod
from ..models import ServiceRating, Ticket, TimelineEvent, Visit, WorkLog
from ..uploads import UploadRefused, check_signature
from .core import (
    TicketError,
    begin,
    finish,
    require,
    status_change,
    team_for_assignee,
    within_reopen_window,
)


def _close_open_visit(ticket: Ticket, now, *, note: str = "") -> int:
    """
    Leaving the site by any way (waiting, resolving, handing the ticket on) ends the visit, so
    that the next can begin; `note` says why on the visit. Returns how many visits it ended.
    """
    fields = {"departed_at": now, "note": note} if note else {"departed_at": now}
    return ticket.visits.filter(departed_at__isnull=True).update(**fields)


def _end_visit_on_reassignment(ticket: Ticket, note: str) -> str:
    """A ticket handed on goes back to "assigned": its visit under way ends, and the timeline says so."""
    left = _("Visit ended: left on reassignment.")
    if _close_open_visit(ticket, timezone.now(), note=left):
        return f"{note.strip()} {left}".strip()
    return note


@transaction.atomic
def answer(ticket: Ticket, *, by, answer: str, expected_version=None) -> Ticket:
    """Answer a consultation on the spot and close it."""
    ticket = begin(ticket, "answer", by, expected_version=expected_version)
    if ticket.kind != Kind.CONSULTATION:
        raise TicketError(
            _("Only a consultation can be answered on the spot; this is a %(kind)s.")
            % {"kind": ticket.get_kind_display()}
        )
    now = timezone.now()
    text = require(answer, _("Write the answer given to the caller."))
    changes = {"resolution": text, "responded_at": ticket.responded_at or now, "resolved_at": now}
    finish(
        ticket,
        Event.ANSWERED,
        by,
        changes=changes | {"closed_at": now, **status_change("answer")},
        note=text,
    )
    deadlines.resolved(ticket, now)
    deadlines.closed(ticket)
    return ticket


@transaction.atomic
def assign(
    ticket: Ticket, *, by, team: Team | None, assignee=None, note: str = "", expected_version=None
) -> Ticket:
    """Give the ticket to a team and, optionally, one of its engineers (assign or reassign)."""
    ticket = begin(ticket, "assign", by, expected_version=expected_version)
    if team is None and assignee is None:
        raise TicketError(_("Choose a team or an engineer."))
    target = team_for_assignee(assignee, team=team, current_team=ticket.team, centre=ticket.centre)
    changes = {"team": target, "assignee": assignee, **status_change("assign")}
    if target is not None and (team is not None or target.pk != ticket.team_id):
        changes["tier"] = target.tier
        changes["centre"] = ticket.centre or target.centre
    note = _end_visit_on_reassignment(ticket, note)
    finish(ticket, Event.ASSIGNED, by, changes=changes, note=note)
    notify.assigned(ticket, by)
    return ticket


@transaction.atomic
def accept(ticket: Ticket, *, by, expected_version=None) -> Ticket:
    """The engineer takes the ticket: it is theirs, and the first response is given."""
    ticket = begin(ticket, "accept", by, expected_version=expected_version)
    now = timezone.now()
    changes = {
        "assignee": by,
        "responded_at": ticket.responded_at or now,
        **status_change("accept"),
    }
    finish(ticket, Event.ACCEPTED, by, changes=changes)
    deadlines.responded(ticket, now)
    return ticket


@transaction.atomic
def respond(ticket: Ticket, *, by, note: str, expected_version=None) -> Ticket:
    """Record the first response to the customer (a call back, a message)."""
    ticket = begin(ticket, "respond", by, expected_version=expected_version)
    text = require(note, _("Say how the customer was answered."))
    finish(
        ticket,
        Event.RESPONDED,
        by,
        changes={"responded_at": ticket.responded_at or timezone.now()},
        note=text,
    )
    deadlines.responded(ticket, ticket.responded_at)
    return ticket


@transaction.atomic
def start_travel(ticket: Ticket, *, by, expected_version=None) -> Ticket:
    """The engineer sets off for the site: a visit begins."""
    ticket = begin(ticket, "start_travel", by, expected_version=expected_version)
    if ticket.visits.filter(departed_at__isnull=True).exists():
        raise TicketError(_("A visit is already under way: record the arrival or the departure first."))
    now = timezone.now()
    Visit.objects.create(ticket=ticket, engineer=by, travel_started_at=now)
    changes = {
        "travel_started_at": ticket.travel_started_at or now,
        **status_change("start_travel"),
    }
    finish(ticket, Event.TRAVEL_STARTED, by, changes=changes, at=now)
    return ticket


@transaction.atomic
def record_arrival(ticket: Ticket, *, by, expected_version=None) -> Ticket:
    """The engineer is on site."""
    ticket = begin(ticket, "arrive", by, expected_version=expected_version)
    visit = ticket.visits.filter(arrived_at__isnull=True, departed_at__isnull=True).last()
    if visit is None:
        raise TicketError(_("Start travel before recording the arrival."))
    now = timezone.now()
    visit.arrived_at = now
    visit.save(update_fields=["arrived_at"])
    changes = {"arrived_at": ticket.arrived_at or now, **status_change("arrive")}
    finish(ticket, Event.ARRIVED, by, changes=changes, at=now)
    deadlines.arrived(ticket, now)
    return ticket


@transaction.atomic
def record_departure(
    ticket: Ticket,
    *,
    by,
    signed_off_by: str = "",
    note: str = "",
    signature: bytes = b"",
    expected_version=None,
) -> Ticket:
    """
    The engineer leaves the site, with the customer's sign-off when given: the typed name and the
    signature drawn on the screen (PNG bytes), kept with the visit under a random file name.
    """
    ticket = begin(ticket, "depart", by, expected_version=expected_version)
    if signature:
        try:
            check_signature(signature)
        except UploadRefused as refused:
            raise TicketError(refused.message) from None
    visit = ticket.visits.filter(arrived_at__isnull=False, departed_at__isnull=True).last()
    visit.departed_at = timezone.now()
    visit.signed_off_by = signed_off_by.strip()
    visit.note = note.strip()
    if signature:
        # Written before the commit: a rollback leaves a file no row names, which is never served.
        visit.signature.save(f"{uuid.uuid4().hex}.png", ContentFile(signature), save=False)
    visit.save(update_fields=["departed_at", "signed_off_by", "note", "signature"])
    finish(ticket, Event.DEPARTED, by, changes=status_change("depart"), note=note.strip())
    return ticket


@transaction.atomic
def log_work(ticket: Ticket, *, by, minutes: int, method: str, note: str, expected_version=None) -> WorkLog:
    """Record time spent on the ticket and how (phone, remote, on site)."""
    ticket = begin(ticket, "log_work", by, expected_version=expected_version)
    if not isinstance(minutes, int) or minutes <= 0 or minutes > 24 * 60:
        raise TicketError(_("Time spent must be between 1 minute and 24 hours."))
    if method not in WorkMethod.values:
        raise TicketError(_("Choose how the work was done."))
    text = require(note, _("Say what was done."))
    work = WorkLog.objects.create(ticket=ticket, engineer=by, minutes=minutes, method=method, note=text)
    # The engineers' own record, like the page's "work logged": never shown to the customer.
    finish(
        ticket,
        Event.WORK_LOGGED,
        by,
        changes={},
        note=f"{WorkMethod(method).label} · {minutes} min · {text}",
        is_internal=True,
    )
    return work


@transaction.atomic
def pause(ticket: Ticket, *, by, reason: str, expected_version=None) -> Ticket:
    """Wait for the customer (the deadline clock stops while the ticket waits)."""
    ticket = begin(ticket, "pause", by, expected_version=expected_version)
    text = require(reason, _("Say what the customer must do or give."))
    _close_open_visit(ticket, timezone.now())
    finish(ticket, Event.PAUSED, by, changes=status_change("pause"), note=text)
    deadlines.paused(ticket, ticket.updated_at)
    return ticket


@transaction.atomic
def resume(ticket: Ticket, *, by, note: str = "", expected_version=None) -> Ticket:
    ticket = begin(ticket, "resume", by, expected_version=expected_version)
    finish(ticket, Event.RESUMED, by, changes=status_change("resume"), note=note.strip())
    return ticket


@transaction.atomic
def wait_for_parts(ticket: Ticket, *, by, note: str, expected_version=None) -> Ticket:
    ticket = begin(ticket, "wait_for_parts", by, expected_version=expected_version)
    text = require(note, _("Say which part is awaited."))
    _close_open_visit(ticket, timezone.now())
    finish(ticket, Event.WAITING_PARTS, by, changes=status_change("wait_for_parts"), note=text)
    return ticket


@transaction.atomic
def give_workaround(ticket: Ticket, *, by, workaround: str, expected_version=None) -> Ticket:
    """A temporary way round the fault, so that the customer's business goes on."""
    ticket = begin(ticket, "give_workaround", by, expected_version=expected_version)
    text = require(workaround, _("Describe the workaround."))
    changes = {"workaround": text, "workaround_at": ticket.workaround_at or timezone.now()}
    finish(ticket, Event.WORKAROUND, by, changes=changes, note=text)
    deadlines.workaround_given(ticket, ticket.workaround_at)
    return ticket


@transaction.atomic
def analyse(ticket: Ticket, *, by, problem_type: str, note: str, expected_version=None) -> Ticket:
    """Classify a defect; an operational problem turns out to be a consultation."""
    ticket = begin(ticket, "analyse", by, expected_version=expected_version)
    if problem_type not in ProblemType.values:
        raise TicketError(_("Choose a technical, business or operational problem."))
    text = require(note, _("Write what the analysis found."))
    changes = {"problem_type": problem_type}
    if problem_type == ProblemType.OPERATIONAL:
        changes |= {"kind": Kind.CONSULTATION, "level": None}
    finish(ticket, Event.ANALYSED, by, changes=changes, note=text)
    return ticket


@transaction.atomic
def resolve(ticket: Ticket, *, by, resolution: str, root_cause: str = "", expected_version=None) -> Ticket:
    """The fault is fixed: the customer is asked to confirm."""
    ticket = begin(ticket, "resolve", by, expected_version=expected_version)
    if ticket.visits.filter(arrived_at__isnull=False, departed_at__isnull=True).exists():
        raise TicketError(_("Record the departure from the site before resolving."))
    text = require(resolution, _("Describe the resolution."))
    # Fixed before the engineer got there: the trip ends here.
    _close_open_visit(ticket, timezone.now())
    changes = {
        "resolution": text,
        "root_cause": root_cause.strip(),
        "resolved_at": timezone.now(),
        "confirmed_at": None,
        "closed_at": None,
        **status_change("resolve"),
    }
    finish(ticket, Event.RESOLVED, by, changes=changes, note=text)
    notify.resolved(ticket, by)
    deadlines.resolved(ticket, ticket.resolved_at)
    return ticket


@transaction.atomic
def confirm(
    ticket: Ticket,
    *,
    by,
    note: str = "",
    score: int | None = None,
    comment: str = "",
    expected_version=None,
) -> Ticket:
    """
    The customer accepts the resolution, in the portal or by word to the agent (recorded as such),
    and rates the service: 5 very satisfied … 1 very dissatisfied, 0 not applicable. A customer
    must give the score; the desk, confirming on the customer's word, may leave it out (the
    comment is then the note of the confirmation).
    """
    ticket = begin(ticket, "confirm", by, expected_version=expected_version)
    is_customer = by.role == Role.CUSTOMER
    if score is None and is_customer:
        raise TicketError(_("How was the service? Choose a score from 5 to 0."))
    if score is not None and (isinstance(score, bool) or score not in Score.values):
        raise TicketError(_("The score is a whole number from 0 (not applicable) to 5 (very satisfied)."))
    now = timezone.now()
    changes = {
        "confirmed_at": now,
        "closed_at": now,
        "confirmed_by_customer": is_customer,
        **status_change("confirm"),
    }
    comment = comment.strip()
    text = note.strip() if score is not None or not comment else f"{note.strip()} {comment}".strip()
    if not is_customer:
        text = (_("Confirmed on the customer's word.") + " " + text).strip()
    confirmed = finish(ticket, Event.CONFIRMED, by, changes=changes, note=text)
    if score is not None:
        # One rating per ticket: confirming again after a reopening replaces it (the timeline keeps both).
        rating, _created = ServiceRating.objects.update_or_create(
            ticket=ticket, defaults={"score": score, "comment": comment, "rated_by": by, "rated_at": now}
        )
        rated = f"{score} · {rating.score_label}" + (f"\n{comment}" if comment else "")
        TimelineEvent.objects.create(
            ticket=ticket, kind=Event.RATED, actor=by, created_at=confirmed.created_at, note=rated
        )
    deadlines.closed(ticket)
    notify.closed(ticket, by, text)
    return ticket


@transaction.atomic
def reopen(ticket: Ticket, *, by, reason: str, expected_version=None) -> Ticket:
    """The fix did not hold: back to work, within 30 days of closing."""
    ticket = begin(ticket, "reopen", by, expected_version=expected_version)
    if not within_reopen_window(ticket):
        raise TicketError(_("This ticket closed more than 30 days ago and is final: file a new request."))
    text = require(reason, _("Say why the resolution does not hold."))
    changes = {
        "resolved_at": None,
        "confirmed_at": None,
        "closed_at": None,
        **status_change("reopen"),
    }
    finish(ticket, Event.REOPENED, by, changes=changes, note=text)
    notify.reopened(ticket, by, text)
    deadlines.reopened(ticket, ticket.updated_at)
    return ticket


@transaction.atomic
def cancel(ticket: Ticket, *, by, reason: str, expected_version=None) -> Ticket:
    ticket = begin(ticket, "cancel", by, expected_version=expected_version)
    text = require(reason, _("Say why the ticket is cancelled."))
    _close_open_visit(ticket, timezone.now())  # nobody stays on site for a cancelled ticket
    finish(
        ticket,
        Event.CANCELLED,
        by,
        changes={"closed_at": timezone.now(), **status_change("cancel")},
        note=text,
    )
    deadlines.closed(ticket)
    notify.closed(ticket, by, text)
    return ticket


AUTO_CLOSE_AFTER = timedelta(days=30)


def auto_close(*, now=None) -> int:
    """Close resolutions left unconfirmed for 30 days; the customer is told and may reopen for 30 more."""
    now = now or timezone.now()
    due = Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lte=now - AUTO_CLOSE_AFTER)
    return sum(_auto_close_one(pk, now) for pk in due.values_list("pk", flat=True))


@transaction.atomic
def _auto_close_one(pk: int, now) -> int:
    ticket = Ticket.objects.select_for_update().filter(pk=pk, status=Status.RESOLVED).first()
    if ticket is None:
        return 0
    note = _("Closed automatically: the resolution was not confirmed within 30 days.")
    finish(
        ticket,
        Event.AUTO_CLOSED,
        None,
        changes={"status": Status.CLOSED, "closed_at": now},
        note=note,
        at=now,
    )
    deadlines.closed(ticket)
    notify.auto_closed(ticket)
    return 1


@transaction.atomic
def escalate(ticket: Ticket, *, by, reason: str, expected_version=None) -> Ticket:
    """Hand the ticket to the next support tier's team of its centre by hand, and tell them."""
    ticket = begin(ticket, "escalate", by, expected_version=expected_version)
    text = require(reason, _("Say why the ticket goes up a tier."))
    tier = ticket.tier + 1
    centre = ticket.centre_id or (ticket.team.centre_id if ticket.team_id else None)
    team = Team.objects.filter(centre=centre, tier=tier).order_by("name").first() if centre else None
    changes = {"tier": tier, "assignee": None, **status_change("escalate")}
    if team is not None:
        changes["team"] = team
    text = _end_visit_on_reassignment(ticket, text)
    finish(ticket, Event.ESCALATED, by, changes=changes, note=text)
    people = list(team.members.filter(is_active=True)) if team else []
    if ticket.centre_id and ticket.centre.manager_id:
        people.append(ticket.centre.manager)
    notify.escalated_by_hand(ticket, by, people, text)
    return ticket
