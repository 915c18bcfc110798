"""
The promises a ticket carries (response, arrival, workaround, resolution, report, emergency plan)
and what the sweep does when one lapses. The clock itself lives in `sla`.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Tier
from accounts.models import Team, User
from accounts.selectors import on_duty
from notifications import services as outbox
from sla import services as clock
from sla.businesstime import is_open
from sla.choices import Recipient, Subject, Target
from sla.models import Deadline, Policy

from .choices import Event, Kind, Level
from .models import Ticket, TimelineEvent

PREFIX = "ticket"
T = Target
SUBJECT_BY_LEVEL = {
    Level.I: Subject.LEVEL_1,
    Level.II: Subject.LEVEL_2,
    Level.III: Subject.LEVEL_3,
    Level.IV: Subject.LEVEL_4,
}


def kind(target: str) -> str:
    return f"{PREFIX}.{target}"


def policy_of(ticket: Ticket) -> Policy | None:
    return clock.policy_for(ticket.contract.coverage if ticket.contract_id else None)


def subject_of(ticket: Ticket) -> str:
    if ticket.kind == Kind.FAULT:
        return SUBJECT_BY_LEVEL[ticket.level]
    if ticket.kind == Kind.COMPLAINT:
        return Subject.COMPLAINT
    return Subject.NON_FAULT


def travel_of(ticket: Ticket) -> timedelta:
    site = ticket.site
    if site is None or site.zone != "remote":
        return timedelta()
    return timedelta(minutes=site.travel_minutes)


def open_for_new_ticket(ticket: Ticket) -> None:
    """Logging a call starts the clock on every promise the contract makes for it."""
    targets = [T.RESPONSE, T.RESOLUTION]
    if ticket.kind == Kind.FAULT:
        targets.append(T.WORKAROUND)
        if ticket.on_site_required:
            targets.append(T.ARRIVAL)
        if ticket.level == Level.I:
            targets.append(T.EMERGENCY_PLAN)
    _open(ticket, targets, start=ticket.created_at)


def _open(ticket: Ticket, targets, *, start) -> None:
    clock.open_deadlines(
        ticket,
        prefix=PREFIX,
        policy=policy_of(ticket),
        subject=subject_of(ticket),
        targets=targets,
        start=start,
        travel=travel_of(ticket),
    )


def responded(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.RESPONSE)], at=at)


def arrived(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.ARRIVAL)], at=at)


def workaround_given(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.WORKAROUND)], at=at)


def resolved(ticket: Ticket, at) -> None:
    """Resolution meets what is still open, and a Level I/II fault now owes its report."""
    targets = [T.RESPONSE, T.ARRIVAL, T.WORKAROUND, T.RESOLUTION, T.EMERGENCY_PLAN]
    clock.meet(ticket, [kind(target) for target in targets], at=at)
    report_owed = Deadline.objects.for_object(ticket).open().filter(kind=kind(T.REPORT)).exists()
    if ticket.kind == Kind.FAULT and ticket.level in (Level.I, Level.II) and not report_owed:
        _open(ticket, [T.REPORT], start=at)


def report_written(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.REPORT)], at=at)


def reopened(ticket: Ticket, at) -> None:
    _open(ticket, [T.RESOLUTION], start=at)


def paused(ticket: Ticket, at) -> None:
    clock.pause(ticket, at=at)


def resumed(ticket: Ticket, at) -> None:
    clock.resume(ticket, at=at)


def closed(ticket: Ticket) -> None:
    """A closed or cancelled ticket owes nothing more (a report already due stays due)."""
    clock.cancel(
        ticket, [kind(t) for t in (T.RESPONSE, T.ARRIVAL, T.WORKAROUND, T.RESOLUTION, T.EMERGENCY_PLAN)]
    )


class TicketEscalation:
    """What a lapsed ticket deadline means: tell people, and on breach move the ticket up a tier."""

    def warn(self, deadline, rule, *, now) -> list:
        ticket = Ticket.objects.select_related("team__supervisor", "assignee", "site__centre").get(
            pk=deadline.object_id
        )
        people = self._people(ticket, rule, now, default=[Recipient.ASSIGNEE, Recipient.TEAM_SUPERVISOR])
        TimelineEvent.objects.create(
            ticket=ticket,
            kind=Event.SLA_WARNING,
            created_at=now,
            note=_("%(target)s due at %(due)s.")
            % {
                "target": deadline.label(),
                "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M"),
            },
            is_internal=True,
        )
        self._tell(ticket, people, deadline, level=0)
        return people

    def escalate(self, deadline, level, rule, *, now) -> list:
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("team", "site__centre")
            .get(pk=deadline.object_id)
        )
        before = {"tier": str(ticket.tier), "team": ticket.team.name if ticket.team else ""}
        # The supervisor told is the one of the team that let the deadline lapse.
        supervisor = ticket.team.supervisor if ticket.team_id and ticket.team.supervisor_id else None
        moved = self._move_up(ticket, to_tier=min(level + 1, Tier.EXPERT))
        people = self._people(
            ticket,
            rule,
            now,
            default=[Recipient.NEXT_TIER_TEAM, Recipient.TEAM_SUPERVISOR],
            supervisor=supervisor,
        )
        after = {"tier": str(ticket.tier), "team": ticket.team.name if ticket.team else ""}
        TimelineEvent.objects.create(
            ticket=ticket,
            kind=Event.ESCALATED,
            created_at=now,
            note=_("%(target)s overdue since %(due)s: escalation level %(level)s.")
            % {
                "target": deadline.label(),
                "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M"),
                "level": level,
            },
            before={key: value for key, value in before.items() if moved and value != after[key]},
            after={key: value for key, value in after.items() if moved and value != before[key]},
        )
        self._tell(ticket, people, deadline, level=level)
        return people

    def _move_up(self, ticket: Ticket, *, to_tier: int) -> bool:
        """
        Hand the ticket to the tier the escalation level calls for (level 1 → tier 2, level 2 →
        tier 3), to that tier's team of its centre. Several lapsed deadlines of one ticket move it
        once per level, not once each.
        """
        if ticket.tier >= to_tier:
            return False
        centre = ticket.centre_id or (ticket.team.centre_id if ticket.team_id else None)
        team = Team.objects.filter(centre=centre, tier=to_tier).order_by("name").first() if centre else None
        ticket.tier = to_tier
        fields = ["tier", "version", "updated_at"]
        # The engineer on it keeps working; the next tier's team is told and may take it over.
        if team is not None:
            ticket.team = team
            fields.append("team")
        ticket.version += 1
        ticket.save(update_fields=fields)
        return True

    def _people(self, ticket: Ticket, rule, now, *, default, supervisor=None) -> list[User]:
        """Resolve the rule's recipients for this ticket; after hours the duty roster joins in."""
        wanted = list(rule.recipients) if rule else default
        people: list[User] = []
        if supervisor is not None and Recipient.TEAM_SUPERVISOR in wanted:
            wanted.remove(Recipient.TEAM_SUPERVISOR)
            people.append(supervisor)
        centre = ticket.site.centre if ticket.site_id else (ticket.team.centre if ticket.team_id else None)
        for recipient in wanted:
            people.extend(self._resolve(ticket, recipient, centre, now))
        if rule is not None:
            people.extend(rule.people.all())
        if centre is not None and not self._business_hours(ticket, now):
            duty = on_duty(centre, now)
            people.extend(duty.people[:1])
        return list(dict.fromkeys(person for person in people if person and person.is_active))

    def _resolve(self, ticket, recipient, centre, now) -> list[User]:
        if recipient == Recipient.ASSIGNEE:
            return [ticket.assignee] if ticket.assignee_id else []
        if recipient == Recipient.TEAM_SUPERVISOR:
            return [ticket.team.supervisor] if ticket.team_id and ticket.team.supervisor_id else []
        if recipient == Recipient.NEXT_TIER_TEAM:
            return list(ticket.team.members.all()) if ticket.team_id else []
        if recipient == Recipient.DUTY_ENGINEER:
            return on_duty(centre, now).people[:1] if centre else []
        if recipient == Recipient.CENTRE_MANAGER:
            return [centre.manager] if centre and centre.manager_id else []
        if recipient == Recipient.COMPANY_LEADER:
            if ticket.level != Level.I:
                return [centre.manager] if centre and centre.manager_id else []
            return list(User.objects.filter(is_company_leader=True, is_active=True))
        return []

    def _business_hours(self, ticket: Ticket, now) -> bool:
        """Whether `now` is inside the standard working week (the default policy's calendar)."""
        policy = clock.policy_for(None)
        return policy is None or is_open(now, policy.calendar.schedule())

    def _tell(self, ticket: Ticket, people, deadline, *, level: int) -> None:
        if level == 0:
            subject = _("%(number)s: %(target)s due soon") % {
                "number": ticket.number,
                "target": deadline.label(),
            }
        else:
            subject = _("%(number)s: %(target)s overdue, escalated to level %(level)s") % {
                "number": ticket.number,
                "target": deadline.label(),
                "level": level,
            }
        outbox.queue(
            people,
            kind="ticket.sla_warning" if level == 0 else "ticket.escalated",
            subject=subject,
            body=f"{ticket.title} · {ticket.organisation}",
            url=f"/tickets/{ticket.number}/",
            dedupe_key=f"deadline-{deadline.pk}-{level}",
        )
