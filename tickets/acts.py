"""
The ticket lifecycle as a table: for each act, the statuses it may start from, the status it
leads to (None: unchanged), and who may perform it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.choices import Role

from .choices import OPEN_STATUSES, Kind, Level, Status
from .models import Ticket

S = Status
STAFF = frozenset({Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN})
DESK = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})
FIELD = frozenset({Role.ENGINEER, Role.MANAGER, Role.ADMIN})
WORKING = frozenset({S.IN_PROGRESS, S.ON_SITE, S.WAITING_PARTS})


@dataclass(frozen=True)
class Act:
    name: str
    label: str
    sources: frozenset
    target: Status | None
    roles: frozenset
    # Engineers may act only on tickets assigned to them or to their team.
    engineer_must_be_on_ticket: bool = True
    # Some acts fit one class of ticket only (answering fits a consultation).
    applies: Callable[[Ticket], bool] = lambda ticket: True
    # Said when `applies` is false and the act is tried anyway; acts without one explain in their service.
    refusal: str = ""


ACTS = {
    act.name: act
    for act in [
        Act(
            "answer",
            _("Answer on the spot and close"),
            frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS}),
            S.CLOSED,
            DESK,
            applies=lambda ticket: ticket.kind == Kind.CONSULTATION,
        ),
        Act(
            "assign",
            _("Assign"),
            frozenset(OPEN_STATUSES),
            S.ASSIGNED,
            DESK | {Role.ENGINEER},
        ),
        Act("accept", _("Accept"), frozenset({S.ASSIGNED, S.REOPENED}), S.IN_PROGRESS, FIELD),
        Act("respond", _("Respond"), frozenset(OPEN_STATUSES), None, STAFF),
        Act(
            "start_travel",
            _("Start travel"),
            frozenset({S.IN_PROGRESS, S.WAITING_PARTS}),
            S.IN_PROGRESS,
            FIELD,
            applies=lambda ticket: not ticket.visits.filter(departed_at__isnull=True).exists(),
        ),
        Act(
            "arrive",
            _("Arrived on site"),
            frozenset({S.IN_PROGRESS}),
            S.ON_SITE,
            FIELD,
            applies=lambda ticket: ticket.visits.filter(
                arrived_at__isnull=True, departed_at__isnull=True
            ).exists(),
        ),
        Act("depart", _("Leave the site"), frozenset({S.ON_SITE}), S.IN_PROGRESS, FIELD),
        Act(
            "log_work",
            _("Log work"),
            frozenset({S.IN_PROGRESS, S.ON_SITE, S.WAITING_PARTS, S.WAITING_CUSTOMER}),
            None,
            FIELD,
        ),
        Act(
            "pause",
            _("Wait for the customer"),
            frozenset({S.IN_PROGRESS, S.ON_SITE}),
            S.WAITING_CUSTOMER,
            FIELD,
        ),
        Act(
            "resume",
            _("Resume"),
            frozenset({S.WAITING_CUSTOMER, S.WAITING_PARTS}),
            S.IN_PROGRESS,
            FIELD,
        ),
        Act(
            "wait_for_parts",
            _("Wait for parts"),
            frozenset({S.IN_PROGRESS, S.ON_SITE}),
            S.WAITING_PARTS,
            FIELD,
        ),
        Act("give_workaround", _("Give a workaround"), WORKING, None, FIELD),
        Act(
            "deliver_emergency_plan",
            _("Deliver the emergency plan"),
            frozenset(OPEN_STATUSES),
            None,
            FIELD,
            applies=lambda ticket: ticket.kind == Kind.FAULT and ticket.level == Level.I,
            refusal=_("An emergency plan is delivered for Level I faults only."),
        ),
        Act("analyse", _("Analyse"), frozenset({S.IN_PROGRESS, S.ON_SITE}), None, FIELD),
        Act(
            "submit_change",
            _("Submit for change approval"),
            frozenset(OPEN_STATUSES),
            None,
            STAFF,
            applies=lambda ticket: ticket.kind == Kind.CHANGE and not hasattr(ticket, "change_request"),
        ),
        Act("request_approval", _("Request approval"), WORKING | {S.WAITING_CUSTOMER}, None, FIELD),
        Act(
            "resolve",
            _("Resolve"),
            WORKING,
            S.RESOLVED,
            FIELD,
            # Offered only when it can succeed: an engineer still on site leaves it first.
            applies=lambda ticket: (
                not ticket.visits.filter(arrived_at__isnull=False, departed_at__isnull=True).exists()
            ),
            refusal=_("Record the departure from the site before resolving."),
        ),
        Act(
            "write_report",
            _("Write the fault report"),
            frozenset({S.RESOLVED, S.CLOSED}),
            None,
            FIELD,
            applies=lambda ticket: ticket.kind == Kind.FAULT and ticket.level in (Level.I, Level.II),
        ),
        Act(
            "confirm",
            _("Confirm the resolution"),
            frozenset({S.RESOLVED}),
            S.CLOSED,
            DESK | {Role.CUSTOMER},
        ),
        Act(
            "reopen",
            _("Reopen"),
            frozenset({S.RESOLVED, S.CLOSED}),
            S.REOPENED,
            DESK | {Role.CUSTOMER},
        ),
        Act(
            "escalate",
            _("Escalate to the next tier"),
            frozenset(OPEN_STATUSES),
            S.ASSIGNED,
            frozenset({Role.MANAGER, Role.ADMIN, Role.ENGINEER}),
            applies=lambda ticket: ticket.tier < 3,
            refusal=_("The ticket is already with the top tier, the product and technical experts."),
        ),
        Act("cancel", _("Cancel"), frozenset(OPEN_STATUSES), S.CANCELLED, DESK),
        Act("set_billing", _("Change the billing"), frozenset(Status.values) - {S.CANCELLED}, None, STAFF),
        Act(
            "comment",
            _("Comment"),
            frozenset(Status.values) - {S.CANCELLED},
            None,
            STAFF | {Role.CUSTOMER},
            engineer_must_be_on_ticket=False,
        ),
    ]
}


def is_on_ticket(user, ticket: Ticket) -> bool:
    """The engineer is the assignee, a member of the ticket's team, or its supervisor."""
    if ticket.assignee_id == user.pk:
        return True
    if ticket.team_id is None:
        return False
    return ticket.team.supervisor_id == user.pk or ticket.team.members.filter(pk=user.pk).exists()


def may(user, act_name: str, ticket: Ticket) -> bool:
    """Whether `user`'s role allows the act on this ticket (the status is checked separately)."""
    act = ACTS[act_name]
    if user.role not in act.roles:
        return False
    if user.role == Role.ENGINEER and act.engineer_must_be_on_ticket:
        if act_name in ("assign", "escalate"):
            return ticket.team_id is not None and ticket.team.supervisor_id == user.pk
        return is_on_ticket(user, ticket)
    return True


def allowed_acts(user, ticket: Ticket) -> list[Act]:
    """The acts `user` may perform on the ticket as it stands: what the buttons offer."""
    return [
        act
        for act in ACTS.values()
        if ticket.status in act.sources and act.applies(ticket) and may(user, act.name, ticket)
    ]
