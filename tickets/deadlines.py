"""
The promises a ticket carries (response, arrival, workaround, resolution, report, emergency plan)
and what the sweep does when one lapses. The clock itself lives in `sla`.
"""

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Tier
from accounts.models import SupportCentre, Team, User
from accounts.selectors import on_duty
from customers.models import Organisation, Site
from notifications import services as outbox
from notifications.choices import Channel, RobotEvent
from servicedesk.bulk import insert_rows, update_rows
from sla import services as clock
from sla.businesstime import is_open
from sla.choices import Recipient, Subject, Target
from sla.models import Calendar, Deadline, Policy

from . import notify
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
    """The contract's own policy, else its coverage key's default, else the paid-service default."""
    if ticket.contract_id and ticket.contract.policy_id:
        return ticket.contract.policy
    return clock.policy_for(ticket.contract.coverage if ticket.contract_id else None)


def calendar_of(ticket: Ticket) -> Calendar | None:
    """The contract's own working hours, if it names them (else the policy's)."""
    return ticket.contract.calendar if ticket.contract_id and ticket.contract.calendar_id else None


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
        calendar=calendar_of(ticket),
    )


def responded(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.RESPONSE)], at=at)


def arrived(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.ARRIVAL)], at=at)


def workaround_given(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.WORKAROUND)], at=at)


def emergency_plan_delivered(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.EMERGENCY_PLAN)], at=at)


def resolved(ticket: Ticket, at) -> None:
    """
    Resolution answers the response, workaround and resolution promises. An arrival still owed
    was not needed (fixed remotely) and the emergency plan was not needed (service is back): both
    are cancelled, or recorded as missed where their time had already passed. A Level I/II fault
    now owes its report, counted from this resolution.
    """
    clock.meet(ticket, [kind(T.RESPONSE), kind(T.WORKAROUND), kind(T.RESOLUTION)], at=at)
    clock.cancel(ticket, [kind(T.ARRIVAL), kind(T.EMERGENCY_PLAN)], at=at)
    report_owed = Deadline.objects.for_object(ticket).open().filter(kind=kind(T.REPORT)).exists()
    if ticket.kind == Kind.FAULT and ticket.level in (Level.I, Level.II) and not report_owed:
        _open(ticket, [T.REPORT], start=at)


def report_written(ticket: Ticket, at) -> None:
    clock.meet(ticket, [kind(T.REPORT)], at=at)


def reopened(ticket: Ticket, at) -> None:
    """
    The fault is back: a new resolution is owed. A report still owed for the resolution that did
    not hold is no longer needed (missed if already late); the next resolution owes its own, so a
    report never falls due before the resolution it describes.
    """
    clock.cancel(ticket, [kind(T.REPORT)], at=at)
    _open(ticket, [T.RESOLUTION], start=at)


def paused(ticket: Ticket, at) -> None:
    clock.pause(ticket, at=at)


def resumed(ticket: Ticket, at) -> None:
    clock.resume(ticket, at=at)


def closed(ticket: Ticket, at=None) -> None:
    """A closed or cancelled ticket owes nothing more (a report already due stays due)."""
    clock.cancel(
        ticket,
        [kind(t) for t in (T.RESPONSE, T.ARRIVAL, T.WORKAROUND, T.RESOLUTION, T.EMERGENCY_PLAN)],
        at=at,
    )


class Batch:
    """
    What one sweep batch reads once and writes at once: its tickets (locked), the teams and
    centres with their people, the duty roster per centre, then the changed tickets, timeline
    rows and messages, each written in one statement.
    """

    TICKET_FIELDS = (
        "number",
        "title",
        "kind",
        "level",
        "tier",
        "version",
        "updated_at",
        "organisation",
        "site",
        "centre",
        "team",
        "assignee",
        "logged_by",
    )

    def __init__(self, steps, now):
        self.now = now
        ticket_ids = {step.deadline.object_id for step in steps}
        tickets = Ticket.objects.only(*self.TICKET_FIELDS)
        if any(step.level > 0 for step in steps):
            # Locked in one order, so that two sweep threads never wait on each other in a circle.
            tickets = tickets.select_for_update(of=("self",)).order_by("pk")
        self.tickets = {ticket.pk: ticket for ticket in tickets.filter(pk__in=ticket_ids)}
        # The few engineers and organisations of hundreds of tickets, read once each.
        engineers = User.objects.in_bulk({t.assignee_id for t in self.tickets.values() if t.assignee_id})
        organisations = dict(
            Organisation.objects.filter(
                pk__in={t.organisation_id for t in self.tickets.values()}
            ).values_list("pk", "name")
        )
        for ticket in self.tickets.values():
            ticket.assignee = engineers.get(ticket.assignee_id)
            ticket.organisation_name = organisations.get(ticket.organisation_id, "")
        self.teams = {
            team.pk: team for team in Team.objects.select_related("supervisor").prefetch_related("members")
        }
        self.centres = {centre.pk: centre for centre in SupportCentre.objects.select_related("manager")}
        self.teams_by_tier = {}
        for team in sorted(self.teams.values(), key=lambda team: team.name):
            self.teams_by_tier.setdefault((team.centre_id, team.tier), team)
        self.site_centres = dict(
            Site.objects.filter(pk__in={t.site_id for t in self.tickets.values() if t.site_id}).values_list(
                "pk", "centre_id"
            )
        )
        self._duty = {}
        self._labels, self._members, self._rule_people = {}, {}, {}
        self._leaders = None
        self._fallback = None
        self._agent_centres = None
        self._business_hours = None
        self.changed: dict[int, Ticket] = {}
        self.events: list[dict] = []  # timeline rows
        self.messages: list[outbox.Message] = []
        self.robot_messages: list[outbox.RobotMessage] = []
        self._robots = None
        # The team each ticket was with before the batch moved it: that team's robot hears too.
        self.first_teams = {pk: ticket.team_id for pk, ticket in self.tickets.items()}

    def team(self, ticket: Ticket) -> Team | None:
        return self.teams.get(ticket.team_id)

    def centre(self, ticket: Ticket) -> SupportCentre | None:
        """
        The centre answering for the ticket: its site's, else its team's, else that of the agent
        who logged it (a phone complaint with no site and no team still belongs somewhere).
        """
        centre_id = self.site_centres.get(ticket.site_id) or ticket.centre_id
        if centre_id is None and ticket.team_id:
            centre_id = self.team(ticket).centre_id
        if centre_id is None:
            centre_id = self.agent_centre(ticket)
        return self.centres.get(centre_id)

    def agent_centre(self, ticket: Ticket) -> int | None:
        if self._agent_centres is None:
            loggers = {t.logged_by_id for t in self.tickets.values()}
            self._agent_centres = dict(User.objects.filter(pk__in=loggers).values_list("pk", "centre_id"))
        return self._agent_centres.get(ticket.logged_by_id)

    def desk_fallback(self) -> list[User]:
        """The people marked as the desk's fallback; failing those, the active administrators."""
        if self._fallback is None:
            people = User.objects.filter(is_active=True)
            self._fallback = list(people.filter(is_desk_fallback=True)) or list(
                people.filter(is_superuser=True).order_by("pk")
            )
        return self._fallback

    def on_duty(self, centre: SupportCentre) -> list[User]:
        if centre.pk not in self._duty:
            self._duty[centre.pk] = on_duty(centre, self.now).people[:1]
        return self._duty[centre.pk]

    def company_leaders(self) -> list[User]:
        if self._leaders is None:
            self._leaders = list(User.objects.filter(is_company_leader=True, is_active=True))
        return self._leaders

    def business_hours(self) -> bool:
        """Whether now is inside the standard working week (the default policy's calendar)."""
        if self._business_hours is None:
            policy = clock.policy_for(None)
            self._business_hours = policy is None or is_open(self.now, policy.calendar.schedule())
        return self._business_hours

    def members(self, team: Team) -> list[User]:
        if team.pk not in self._members:
            self._members[team.pk] = list(team.members.all())
        return self._members[team.pk]

    def rule_people(self, rule) -> list[User]:
        if rule.pk not in self._rule_people:
            self._rule_people[rule.pk] = list(rule.people.all())
        return self._rule_people[rule.pk]

    def label(self, deadline) -> str:
        """The deadline's name in the active language (read once per kind)."""
        if deadline.kind not in self._labels:
            self._labels[deadline.kind] = deadline.label()
        return self._labels[deadline.kind]

    def event(self, ticket: Ticket, kind: str, note: str, *, before=None, after=None, is_internal=False):
        """A timeline row by the system (no actor), written with the batch."""
        self.events.append(
            {
                "ticket": ticket.pk,
                "kind": kind,
                "actor": None,
                "created_at": self.now,
                "note": note,
                "before": before or {},
                "after": after or {},
                "is_internal": is_internal,
            }
        )

    def tell_robots(self, ticket: Ticket, message: outbox.Message, level: int) -> None:
        """
        The group robots subscribed to this warning (level 0), breach (1) or later escalation of
        a ticket of their centre or team get the message too. Subscriptions are read once a batch.
        """
        if self._robots is None:
            self._robots = outbox.Subscriptions()
        event = {0: RobotEvent.WARNING, 1: RobotEvent.BREACH}.get(level, RobotEvent.ESCALATION)
        centre = self.centre(ticket)
        robots = self._robots.hearing(
            event,
            centre_id=centre.pk if centre else None,
            team_ids=[self.first_teams.get(ticket.pk), ticket.team_id],
        )
        if robots:
            self.robot_messages.append(
                outbox.RobotMessage(
                    robots,
                    kind=message.kind,
                    subject=message.subject,
                    body=notify.robot_body(ticket, ticket.organisation_name),
                    url=message.url,
                    dedupe_key=message.dedupe_key,
                )
            )

    def write(self) -> None:
        update_rows(Ticket, self.changed.values(), ["tier", "team", "version", "updated_at"])
        insert_rows(TimelineEvent, self.events)
        outbox.queue_many(self.digested(self.messages))
        if self.robot_messages:  # most batches tell no robot: no statement for them
            outbox.queue_robot_many(self.digested(self.robot_messages))

    def digested(self, messages: list[outbox.Message]) -> list[outbox.Message]:
        """
        The batch's messages, except that whoever would get more than SLA_DIGEST_AFTER of one
        kind (a team told of hundreds of tickets after an outage) gets one digest of them
        instead: one in-app message and one e-mail listing the tickets. Who was told of each
        deadline stays recorded on its escalation row either way.
        """
        limit = settings.SLA_DIGEST_AFTER
        counts = Counter((person.pk, message.kind) for message in messages for person in message.recipients)
        crowded = {key for key, count in counts.items() if count > limit}
        if not crowded:
            return messages
        kept, digests = [], {}
        for message in messages:
            direct = []
            for person in message.recipients:
                if (person.pk, message.kind) in crowded:
                    digests.setdefault((person.pk, message.kind), (person, []))[1].append(message)
                else:
                    direct.append(person)
            if direct:
                kept.append(replace(message, recipients=direct))
        return kept + [
            each for (_, kind), (person, covered) in digests.items() for each in digest(person, kind, covered)
        ]


DIGEST_LINES = 50


def digest(person: User, kind: str, messages: list[outbox.Message]) -> list[outbox.Message]:
    """
    One message for `person` (or group robot) that stands for `messages` (all of `kind`),
    listing their subjects. Each subject begins with its ticket's number, which the in-app list
    makes a link; the e-mail gives each ticket's full address under its subject instead.
    """
    if kind == "ticket.sla_warning":
        subject = _("%(count)s ticket deadlines due soon") % {"count": len(messages)}
    else:
        subject = _("%(count)s ticket deadlines overdue and escalated") % {"count": len(messages)}
    lines = [message.subject for message in messages[:DIGEST_LINES]]
    if len(messages) > DIGEST_LINES:
        lines.append(_("… and %(count)s more.") % {"count": len(messages) - DIGEST_LINES})
    # The same batch always makes the same digest: its key names what it stands for.
    covered = hashlib.sha256("|".join(message.dedupe_key for message in messages).encode()).hexdigest()[:32]
    common = {"kind": kind, "subject": subject, "url": "/tickets/", "dedupe_key": f"digest-{covered}"}
    if isinstance(messages[0], outbox.RobotMessage):
        return [outbox.RobotMessage([person], body="\n".join(lines), **common)]
    channels = messages[0].channels
    others = tuple(channel for channel in channels if channel != Channel.EMAIL)
    digests = [outbox.Message([person], body="\n".join(lines), channels=others, **common)] if others else []
    if Channel.EMAIL in channels:
        linked = [
            f"{message.subject}\n{outbox.absolute_url(message.url)}" if message.url else message.subject
            for message in messages[:DIGEST_LINES]
        ] + lines[DIGEST_LINES:]  # "… and 12 more."
        digests.append(
            outbox.Message([person], body="\n\n".join(linked), channels=(Channel.EMAIL,), **common)
        )
    return digests


# Who a lapsed complaint reaches at each level: its team's supervisor, then the centre manager,
# then a company leader — never the technical tiers.
COMPLAINT_PATH = {
    1: [Recipient.TEAM_SUPERVISOR],
    2: [Recipient.CENTRE_MANAGER],
    3: [Recipient.COMPANY_LEADER],
}


def active(people) -> list[User]:
    """The active people among these, each once, in order."""
    return list(dict.fromkeys(person for person in people if person and person.is_active))


class TicketEscalation:
    """What a lapsed ticket deadline means: tell people, and on breach move the ticket up a tier."""

    def act(self, steps, *, now) -> None:
        batch = Batch(steps, now)
        for step in steps:
            if step.deadline.object_id not in batch.tickets:
                continue  # the ticket is gone; its deadlines went with it
            if step.level == 0:
                step.told = self.warn(batch, step.deadline, step.rule, now=now)
            else:
                step.told = self.escalate(batch, step.deadline, step.level, step.rule, now=now)
        batch.write()

    def warn(self, batch: Batch, deadline, rule, *, now) -> list:
        ticket = batch.tickets[deadline.object_id]
        people = self._people(batch, ticket, rule, default=[Recipient.ASSIGNEE, Recipient.TEAM_SUPERVISOR])
        note = _("%(target)s due at %(due)s.") % {
            "target": batch.label(deadline),
            "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M"),
        }
        batch.event(ticket, Event.SLA_WARNING, note, is_internal=True)
        self._tell(batch, ticket, people, deadline, level=0)
        return people

    def escalate(self, batch: Batch, deadline, level, rule, *, now) -> list:
        ticket = batch.tickets[deadline.object_id]
        team = batch.team(ticket)
        before = {"tier": str(ticket.tier), "team": team.name if team else ""}
        # The supervisor told is the one of the team that let the deadline lapse.
        supervisor = team.supervisor if team and team.supervisor_id else None
        if ticket.kind == Kind.COMPLAINT:
            # A complaint rises through management, not up the technical tiers.
            moved = False
            people = self._people(batch, ticket, None, default=COMPLAINT_PATH[level], supervisor=supervisor)
        else:
            moved = self._move_up(batch, ticket, to_tier=min(level + 1, Tier.EXPERT))
            people = self._people(
                batch,
                ticket,
                rule,
                default=[Recipient.NEXT_TIER_TEAM, Recipient.TEAM_SUPERVISOR],
                supervisor=supervisor,
            )
        team = batch.team(ticket)
        after = {"tier": str(ticket.tier), "team": team.name if team else ""}
        note = _("%(target)s overdue since %(due)s: escalation level %(level)s.") % {
            "target": batch.label(deadline),
            "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M"),
            "level": level,
        }
        batch.event(
            ticket,
            Event.ESCALATED,
            note,
            before={key: value for key, value in before.items() if moved and value != after[key]},
            after={key: value for key, value in after.items() if moved and value != before[key]},
        )
        self._tell(batch, ticket, people, deadline, level=level)
        return people

    def _move_up(self, batch: Batch, ticket: Ticket, *, to_tier: int) -> bool:
        """
        Hand the ticket to the tier the escalation level calls for (level 1 → tier 2, level 2 →
        tier 3), to that tier's team of its centre. Several lapsed deadlines of one ticket move it
        once per level, not once each.
        """
        if ticket.tier >= to_tier:
            return False
        centre = ticket.centre_id or (batch.team(ticket).centre_id if ticket.team_id else None)
        team = batch.teams_by_tier.get((centre, to_tier)) if centre else None
        ticket.tier = to_tier
        # The engineer on it keeps working; the next tier's team is told and may take it over.
        if team is not None:
            ticket.team = team
        ticket.version += 1
        ticket.updated_at = batch.now
        batch.changed[ticket.pk] = ticket
        return True

    def _people(self, batch: Batch, ticket: Ticket, rule, *, default, supervisor=None) -> list[User]:
        """
        Resolve the rule's recipients for this ticket; after hours the duty roster joins in. When
        that names nobody (no assignee, no team, no site), the message still reaches someone:
        the team supervisor, else the centre manager (the site's, the team's or the logging
        agent's centre), else the desk's fallback people.
        """
        wanted = list(rule.recipients) if rule else list(default)
        people: list[User] = []
        if supervisor is not None and Recipient.TEAM_SUPERVISOR in wanted:
            wanted.remove(Recipient.TEAM_SUPERVISOR)
            people.append(supervisor)
        centre = batch.centre(ticket)
        for recipient in wanted:
            people.extend(self._resolve(batch, ticket, recipient, centre))
        if rule is not None:
            people.extend(batch.rule_people(rule))
        if centre is not None and not batch.business_hours():
            people.extend(batch.on_duty(centre))
        people = active(people)
        if not people:
            people = self._fallback(batch, ticket, centre, supervisor)
        return people

    def _fallback(self, batch: Batch, ticket: Ticket, centre, supervisor) -> list[User]:
        team = batch.team(ticket)
        for candidates in (
            [supervisor],
            [team.supervisor] if team and team.supervisor_id else [],
            [centre.manager] if centre and centre.manager_id else [],
        ):
            people = active(candidates)
            if people:
                return people
        return active(batch.desk_fallback())

    def _resolve(self, batch: Batch, ticket, recipient, centre) -> list[User]:
        team = batch.team(ticket)
        if recipient == Recipient.ASSIGNEE:
            return [ticket.assignee] if ticket.assignee_id else []
        if recipient == Recipient.TEAM_SUPERVISOR:
            return [team.supervisor] if team and team.supervisor_id else []
        if recipient == Recipient.NEXT_TIER_TEAM:
            return batch.members(team) if team else []
        if recipient == Recipient.DUTY_ENGINEER:
            return batch.on_duty(centre) if centre else []
        if recipient == Recipient.CENTRE_MANAGER:
            return [centre.manager] if centre and centre.manager_id else []
        if recipient == Recipient.COMPANY_LEADER:
            if ticket.level != Level.I and ticket.kind != Kind.COMPLAINT:
                return [centre.manager] if centre and centre.manager_id else []
            return batch.company_leaders()
        return []

    def _tell(self, batch: Batch, ticket: Ticket, people, deadline, *, level: int) -> None:
        if level == 0:
            subject = _("%(number)s: %(target)s due soon") % {
                "number": ticket.number,
                "target": batch.label(deadline),
            }
        else:
            subject = _("%(number)s: %(target)s overdue, escalated to level %(level)s") % {
                "number": ticket.number,
                "target": batch.label(deadline),
                "level": level,
            }
        batch.messages.append(
            outbox.Message(
                people,
                kind="ticket.sla_warning" if level == 0 else "ticket.escalated",
                subject=subject,
                body=f"{ticket.title} · {ticket.organisation_name}",
                url=f"/tickets/{ticket.number}/",
                dedupe_key=f"deadline-{deadline.pk}-{level}",
            )
        )
        batch.tell_robots(ticket, batch.messages[-1], level)
