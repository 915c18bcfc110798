"""
The ticket lifecycle as a table: for each act, the statuses it may start from, the status it
leads to (None: unchanged), and who may perform it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.choices import Role, tier_name

from .choices import OPEN_STATUSES, Decision, Kind, Level, Status
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
    # Said once the act succeeded, as a person would say it; "%(tier)s" is the ticket's tier then.
    done: str = ""

    def done_message(self, ticket: Ticket) -> str:
        """What the person is told once the act succeeded on `ticket` (reloaded for its new tier)."""
        if "%(tier)s" not in self.done:
            return str(self.done)
        ticket.refresh_from_db(fields=["tier"])
        return self.done % {"tier": tier_name(ticket.tier)}


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
            done=_("Answered and closed."),
        ),
        Act(
            "assign",
            _("Assign"),
            frozenset(OPEN_STATUSES),
            S.ASSIGNED,
            DESK | {Role.ENGINEER},
            done=_("Assigned."),
        ),
        Act(
            "accept",
            _("Accept"),
            frozenset({S.ASSIGNED, S.REOPENED}),
            S.IN_PROGRESS,
            FIELD,
            done=_("You have the ticket."),
        ),
        Act(
            "respond",
            _("Respond"),
            frozenset(OPEN_STATUSES),
            None,
            STAFF,
            # Offered for the first response only (accepting gives it too): a later call back is
            # a comment on the page; the API still records it as a response.
            applies=lambda ticket: ticket.responded_at is None,
            done=_("Response recorded."),
        ),
        Act(
            "start_travel",
            _("Start travel"),
            frozenset({S.IN_PROGRESS, S.WAITING_PARTS}),
            S.IN_PROGRESS,
            FIELD,
            applies=lambda ticket: not ticket.visits.filter(departed_at__isnull=True).exists(),
            done=_("On your way. Travel safely."),
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
            done=_("Arrived on site."),
        ),
        Act(
            "depart",
            _("Leave the site"),
            frozenset({S.ON_SITE}),
            S.IN_PROGRESS,
            FIELD,
            done=_("Left the site."),
        ),
        Act(
            "log_work",
            _("Log work"),
            frozenset({S.IN_PROGRESS, S.ON_SITE, S.WAITING_PARTS, S.WAITING_CUSTOMER}),
            None,
            FIELD,
            done=_("Work logged."),
        ),
        Act(
            "pause",
            _("Wait for the customer"),
            frozenset({S.IN_PROGRESS, S.ON_SITE}),
            S.WAITING_CUSTOMER,
            FIELD,
            done=_("Waiting for the customer: the deadline clock is stopped."),
        ),
        Act(
            "resume",
            _("Resume"),
            frozenset({S.WAITING_CUSTOMER, S.WAITING_PARTS}),
            S.IN_PROGRESS,
            FIELD,
            done=_("Back at work."),
        ),
        Act(
            "wait_for_parts",
            _("Wait for parts"),
            frozenset({S.IN_PROGRESS, S.ON_SITE}),
            S.WAITING_PARTS,
            FIELD,
            done=_("Waiting for parts."),
        ),
        Act("give_workaround", _("Give a workaround"), WORKING, None, FIELD, done=_("Workaround given.")),
        Act(
            "deliver_emergency_plan",
            _("Deliver the emergency plan"),
            frozenset(OPEN_STATUSES),
            None,
            FIELD,
            applies=lambda ticket: ticket.kind == Kind.FAULT and ticket.level == Level.I,
            refusal=_("An emergency plan is delivered for Level I faults only."),
            done=_("Emergency plan delivered: the customer has been told."),
        ),
        Act(
            "analyse",
            _("Analyse"),
            frozenset({S.IN_PROGRESS, S.ON_SITE}),
            None,
            FIELD,
            done=_("Analysis recorded."),
        ),
        Act(
            "submit_change",
            _("Submit for change approval"),
            frozenset(OPEN_STATUSES),
            None,
            STAFF,
            # A refused change may be put up again, amended; a pending or approved one may not.
            applies=lambda ticket: (
                ticket.kind == Kind.CHANGE
                and (
                    not hasattr(ticket, "change_request")
                    or ticket.change_request.decision == Decision.REFUSED
                )
            ),
            done=_("Submitted for change approval."),
        ),
        Act(
            "request_approval",
            _("Request approval"),
            WORKING | {S.WAITING_CUSTOMER},
            None,
            FIELD,
            done=_("Approval requested: someone else who may decide will answer."),
        ),
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
            done=_("Resolved: the customer is asked to confirm."),
        ),
        Act(
            "write_report",
            _("Write the fault report"),
            frozenset({S.RESOLVED, S.CLOSED}),
            None,
            FIELD,
            applies=lambda ticket: ticket.kind == Kind.FAULT and ticket.level in (Level.I, Level.II),
            done=_("Fault report saved."),
        ),
        Act(
            "confirm",
            _("Confirm the resolution"),
            frozenset({S.RESOLVED}),
            S.CLOSED,
            DESK | {Role.CUSTOMER},
            done=_("Confirmed. Thank you."),
        ),
        Act(
            "reopen",
            _("Reopen"),
            frozenset({S.RESOLVED, S.CLOSED}),
            S.REOPENED,
            DESK | {Role.CUSTOMER},
            done=_("Reopened: the ticket is back with the team."),
        ),
        Act(
            "escalate",
            _("Escalate to the next tier"),
            frozenset(OPEN_STATUSES),
            S.ASSIGNED,
            frozenset({Role.MANAGER, Role.ADMIN, Role.ENGINEER}),
            applies=lambda ticket: ticket.tier < 3,
            refusal=_("The ticket is already with the top tier, the product and technical experts."),
            done=_("Escalated to %(tier)s."),
        ),
        Act(
            "identify_customer",
            _("Identify the customer"),
            frozenset(OPEN_STATUSES),
            None,
            DESK,
            applies=lambda ticket: ticket.organisation.is_placeholder,
            refusal=_("The customer of this ticket is already known."),
            done=_("Customer identified."),
        ),
        Act("cancel", _("Cancel"), frozenset(OPEN_STATUSES), S.CANCELLED, DESK, done=_("Ticket cancelled.")),
        Act(
            "set_billing",
            _("Change the billing"),
            frozenset(Status.values) - {S.CANCELLED},
            None,
            STAFF,
            done=_("Billing changed."),
        ),
        Act(
            "comment",
            _("Comment"),
            frozenset(Status.values) - {S.CANCELLED},
            None,
            STAFF | {Role.CUSTOMER},
            engineer_must_be_on_ticket=False,
            done=_("Comment added."),
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


# The likely next step, most pressing first: the page shows the first one offered as one large
# button and folds the rest. Confirming ends the customer's wait; an engineer takes the ticket,
# then travels, arrives, leaves the site and resolves; the desk answers, assigns and responds.
NEXT_STEP_ORDER = (
    "confirm",
    "accept",
    "arrive",
    "depart",
    "start_travel",
    "resume",
    "resolve",
    # A call of a customer to be confirmed: the desk names the customer first.
    "identify_customer",
    "answer",
    "assign",
    "respond",
)


def next_step(acts: list[Act], ticket: Ticket) -> Act | None:
    """
    The one step the person most likely takes now among those offered, or None. Travel comes
    first only while the ticket still needs someone on site; once there and back, resolving does.
    """
    offered = {act.name: act for act in acts}
    needs_visit = ticket.on_site_required and ticket.arrived_at is None
    for name in NEXT_STEP_ORDER:
        if name == "start_travel" and not needs_visit:
            continue
        if name in offered:
            return offered[name]
    return None
