"""Risky actions, change requests and fault handling reports: decisions on the record."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User

from .. import deadlines, notify
from ..choices import Decision, Event, Impact, Kind, Level, Risk
from ..models import ChangeRequest, FaultReport, RiskApproval, Ticket
from .core import TicketError, begin, finish, require


@transaction.atomic
def request_approval(ticket: Ticket, *, by, risk: str, plan: str, expected_version=None) -> RiskApproval:
    """An engineer asks the team supervisor before a restart, a deletion or a reinstall."""
    ticket = begin(ticket, "request_approval", by, expected_version=expected_version)
    if risk not in Risk.values:
        raise TicketError(_("Choose the risky action."))
    text = require(plan, _("Say what will be done and why."))
    approval = RiskApproval.objects.create(ticket=ticket, risk=risk, plan=text, requested_by=by)
    finish(ticket, Event.APPROVAL_REQUESTED, by, changes={}, note=f"{Risk(risk).label}: {text}")
    supervisor = ticket.team.supervisor if ticket.team_id else None
    notify.approval_requested(ticket, supervisor, by, str(Risk(risk).label))
    return approval


def _may_decide_risk(user, ticket: Ticket) -> bool:
    if user.role in (Role.MANAGER, Role.ADMIN):
        return True
    return ticket.team_id is not None and ticket.team.supervisor_id == user.pk


def _refuse_own_request(by, requested_by_id: int | None, *, supervisor_id: int | None) -> None:
    """
    Nobody decides their own request: the supervisor, a manager or an administrator decides
    instead. An administrator may decide their own only when nobody else could.
    """
    if requested_by_id is None or requested_by_id != by.pk:
        return
    deciders = Q(role__in=[Role.MANAGER, Role.ADMIN])
    if supervisor_id is not None:
        deciders |= Q(pk=supervisor_id)
    someone_else = User.objects.filter(deciders, is_active=True).exclude(pk=by.pk).exists()
    if by.role == Role.ADMIN and not someone_else:
        return
    raise TicketError(_("Nobody approves their own request."))


@transaction.atomic
def decide_risk(approval: RiskApproval, *, by, approve: bool, reason: str = "") -> RiskApproval:
    """The team supervisor (or a manager) approves or refuses the risky action."""
    approval = (
        RiskApproval.objects.select_for_update(of=("self",))
        .select_related("ticket__team")
        .get(pk=approval.pk)
    )
    ticket = approval.ticket
    if not _may_decide_risk(by, ticket):
        raise PermissionDenied(_("Only the team supervisor or a manager decides on risky actions."))
    supervisor_id = ticket.team.supervisor_id if ticket.team_id else None
    _refuse_own_request(by, approval.requested_by_id, supervisor_id=supervisor_id)
    if approval.decision != Decision.PENDING:
        raise TicketError(_("This request was already decided."))
    if not approve:
        reason = require(reason, _("Give the reason for refusing."))
    approval.decision = Decision.APPROVED if approve else Decision.REFUSED
    approval.decided_by, approval.decided_at, approval.reason = by, timezone.now(), reason.strip()
    approval.save(update_fields=["decision", "decided_by", "decided_at", "reason"])
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    note = f"{approval.get_risk_display()}: {approval.get_decision_display()}. {approval.reason}".strip()
    finish(ticket, Event.APPROVAL_DECIDED, by, changes={}, note=note)
    return approval


@transaction.atomic
def record_consent(approval: RiskApproval, *, by, given_by: str, note: str = "") -> RiskApproval:
    """
    The customer's written consent (name of who signed, when) to a risky action the supervisor
    approved: the customer is asked once the company has agreed, and consents once.
    """
    approval = RiskApproval.objects.select_for_update().get(pk=approval.pk)
    ticket = begin(approval.ticket, "request_approval", by)
    if approval.consent_at is not None:
        raise TicketError(
            _("The customer's consent is already recorded (%(name)s); it is recorded once.")
            % {"name": approval.consent_by}
        )
    if approval.decision == Decision.PENDING:
        raise TicketError(
            _("The supervisor has not approved this action yet: record the consent after the approval.")
        )
    if approval.decision != Decision.APPROVED:
        raise TicketError(_("This risky action was refused: there is nothing to consent to."))
    name = require(given_by, _("Name the customer's representative who consented."))
    approval.consent_by, approval.consent_at, approval.consent_note = (
        name,
        timezone.now(),
        note.strip(),
    )
    approval.save(update_fields=["consent_by", "consent_at", "consent_note"])
    finish(
        ticket,
        Event.CONSENT_RECORDED,
        by,
        changes={},
        note=f"{approval.get_risk_display()}: {name}. {note}".strip(),
    )
    return approval


def _effort(value) -> Decimal:
    try:
        effort = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise TicketError(_("Effort is a number of working days.")) from None
    if not effort.is_finite():
        raise TicketError(_("Effort is a number of working days."))
    effort = effort.quantize(Decimal("0.1"))
    if effort <= 0 or effort > 10000:
        raise TicketError(_("Effort is a number of working days above zero."))
    return effort


@transaction.atomic
def submit_change(ticket: Ticket, *, by, effort_days, impact: str, expected_version=None) -> ChangeRequest:
    """Put a change request ticket up for approval with its effort and impact."""
    ticket = begin(ticket, "submit_change", by, expected_version=expected_version)
    if ticket.kind != Kind.CHANGE:
        raise TicketError(_("Only a change request goes through change approval."))
    if impact not in Impact.values:
        raise TicketError(_("Choose the impact: minor, important or major."))
    if hasattr(ticket, "change_request") and ticket.change_request.decision != Decision.REFUSED:
        raise TicketError(_("This change request is already submitted."))
    ChangeRequest.objects.filter(ticket=ticket).delete()
    change = ChangeRequest.objects.create(ticket=ticket, effort_days=_effort(effort_days), impact=impact)
    approver = _("a company leader") if change.needs_company_leader else _("the department leader")
    note = _("%(days)s working days, %(impact)s impact: for %(approver)s to approve.") % {
        "days": change.effort_days,
        "impact": change.get_impact_display(),
        "approver": approver,
    }
    finish(ticket, Event.CHANGE_REQUESTED, by, changes={}, note=note)
    return change


def may_decide_change(user, change: ChangeRequest) -> bool:
    """Under 10 working days the team supervisor (department leader); from 10 a manager (company leader)."""
    if user.role in (Role.MANAGER, Role.ADMIN):
        return True
    if change.needs_company_leader:
        return False
    team = change.ticket.team
    return team is not None and team.supervisor_id == user.pk


def _submitted_by(change: ChangeRequest) -> int | None:
    """Who put the change up for approval: the actor of its latest submission on the timeline."""
    submission = (
        change.ticket.events.filter(kind=Event.CHANGE_REQUESTED).order_by("-created_at", "-pk").first()
    )
    return submission.actor_id if submission else None


@transaction.atomic
def decide_change(change: ChangeRequest, *, by, approve: bool, reason: str) -> ChangeRequest:
    change = (
        ChangeRequest.objects.select_for_update(of=("self",)).select_related("ticket__team").get(pk=change.pk)
    )
    if not may_decide_change(by, change):
        raise PermissionDenied(
            _("A change of %(days)s working days is approved by a company leader.")
            % {"days": change.effort_days}
            if change.needs_company_leader
            else _("Only the department leader or a manager approves this change.")
        )
    supervisor_id = (
        None
        if change.needs_company_leader or change.ticket.team is None
        else change.ticket.team.supervisor_id
    )
    _refuse_own_request(by, _submitted_by(change), supervisor_id=supervisor_id)
    if change.decision != Decision.PENDING:
        raise TicketError(_("This change request was already decided."))
    text = require(reason, _("Give the reason for the decision."))
    change.decision = Decision.APPROVED if approve else Decision.REFUSED
    change.decided_by, change.decided_at, change.reason = by, timezone.now(), text
    change.save(update_fields=["decision", "decided_by", "decided_at", "reason"])
    ticket = Ticket.objects.select_for_update().get(pk=change.ticket_id)
    finish(
        ticket,
        Event.CHANGE_DECIDED,
        by,
        changes={},
        note=f"{change.get_decision_display()}: {text}",
    )
    return change


@transaction.atomic
def write_fault_report(
    ticket: Ticket, *, by, fault_class: str, cause: str, method: str, loss: str, expected_version=None
) -> FaultReport:
    """The fault handling report for a resolved Level I or II fault (written again to amend it)."""
    ticket = begin(ticket, "write_report", by, expected_version=expected_version)
    if ticket.kind != Kind.FAULT or ticket.level not in (Level.I, Level.II):
        raise TicketError(_("Fault handling reports are written for Level I and II faults."))
    fields = {
        "fault_class": require(fault_class, _("Give the fault class.")),
        "cause": require(cause, _("Describe the cause.")),
        "method": require(method, _("Describe the method used.")),
        "loss": require(loss, _("Describe the loss, or write “none”.")),
    }
    report, created = FaultReport.objects.update_or_create(
        ticket=ticket, defaults=fields | {"written_by": by}
    )
    finish(ticket, Event.REPORT_WRITTEN, by, changes={}, note=fields["fault_class"])
    deadlines.report_written(ticket, report.updated_at)
    return report
