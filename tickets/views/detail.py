"""Ticket pages: thin views that parse, check access, call one service and render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.decorators import role_required
from sla import services as clock

from .. import limits, selectors, services
from ..acts import ACTS, allowed_acts
from ..forms import ACT_FORMS, CommentForm, ConsentForm, DecisionForm, FaultReportForm
from ..models import ChangeRequest, RiskApproval
from ..services.core import within_reopen_window

STAFF = (Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN)
ALL_ROLES = (*STAFF, Role.CUSTOMER)

# The service behind each act of the detail page: the form's fields are its keyword arguments.
ACT_SERVICES = {
    "answer": services.answer,
    "assign": services.assign,
    "accept": services.accept,
    "respond": services.respond,
    "start_travel": services.start_travel,
    "arrive": services.record_arrival,
    "depart": services.record_departure,
    "log_work": services.log_work,
    "pause": services.pause,
    "resume": services.resume,
    "wait_for_parts": services.wait_for_parts,
    "give_workaround": services.give_workaround,
    "deliver_emergency_plan": services.deliver_emergency_plan,
    "analyse": services.analyse,
    "request_approval": services.request_approval,
    "submit_change": services.submit_change,
    "resolve": services.resolve,
    "confirm": services.confirm,
    "reopen": services.reopen,
    "cancel": services.cancel,
    "escalate": services.escalate,
    "set_billing": services.set_billing,
}


def _offered_acts(user, ticket):
    acts = [act for act in allowed_acts(user, ticket) if act.name in ACT_FORMS]
    if not within_reopen_window(ticket):
        acts = [act for act in acts if act.name != "reopen"]
    return acts


def act_ids(name: str) -> str:
    """Ids of one act's fields: several act forms share a page, and every label must find its field."""
    return f"{name}-%s"


def detail_context(request, ticket, *, bound=None, open_act=None, comment_form=None):
    """Everything the detail page shows; `bound` keeps what the user typed in a refused form."""
    user = request.user
    acts = _offered_acts(user, ticket)
    forms = {
        act.name: ACT_FORMS[act.name](initial={"version": ticket.version}, auto_id=act_ids(act.name))
        for act in acts
    }
    if bound is not None and open_act in forms:
        forms[open_act] = bound
    return {
        "ticket": ticket,
        "acts": [(act, forms[act.name]) for act in acts],
        "open_act": open_act,
        "timeline": selectors.timeline_for(user, ticket),
        "comments": selectors.comments_for(user, ticket),
        "attachments": selectors.attachments_for(user, ticket),
        "visits": selectors.visits_for(user, ticket),
        "work_logs": selectors.work_logs_for(user, ticket),
        "change": getattr(ticket, "change_request", None),
        "report": getattr(ticket, "fault_report", None),
        "emergency_plan": ticket.emergency_plan,
        "complaints": selectors.complaints_about(user, ticket),
        "deadlines": clock.deadlines_of(ticket),
        "comment_form": comment_form or CommentForm(initial={"version": ticket.version}),
        "may_comment": ticket.status in ACTS["comment"].sources,
        "approvals": [
            (
                approval,
                DecisionForm(auto_id=f"approval{approval.pk}-%s"),
                ConsentForm(auto_id=f"consent{approval.pk}-%s"),
            )
            for approval in ticket.risk_approvals.select_related("requested_by", "decided_by")
        ],
        "change_form": DecisionForm(auto_id="change-%s"),
    }


@role_required(*ALL_ROLES)
def detail(request, number):
    ticket = selectors.access_ticket(request.user, number)
    return render(request, "tickets/detail.html", detail_context(request, ticket))


def _with_version(form, version):
    """The same typed values, with the version the user has now seen."""
    data = form.data.copy()
    data["version"] = version
    return type(form)(data, auto_id=form.auto_id)


def _refused(request, ticket, error, *, act_form=None, open_act=None, comment_form=None):
    """Show the refusal on the ticket as it is now, keeping what the user typed."""
    fresh = selectors.access_ticket(request.user, ticket.number)
    stale = isinstance(error, services.StaleTicket)
    if stale and act_form is not None:
        act_form = _with_version(act_form, fresh.version)
    if stale and comment_form is not None:
        comment_form = _with_version(comment_form, fresh.version)
    context = detail_context(request, fresh, bound=act_form, open_act=open_act, comment_form=comment_form)
    context["error"] = getattr(error, "message", None) or str(error)
    context["stale"] = stale
    status = 409 if stale else 429 if isinstance(error, limits.QuotaExceeded) else 400
    return render(request, "tickets/detail.html", context, status=status)


@require_POST
@role_required(*ALL_ROLES)
def act(request, number, name):
    """Perform one act from the detail page's buttons."""
    ticket = selectors.access_ticket(request.user, number)
    if name not in ACT_SERVICES:
        raise PermissionDenied
    form = ACT_FORMS[name](request.POST, request.FILES, auto_id=act_ids(name))
    if not form.is_valid():
        return _refused(request, ticket, _("Check the highlighted fields."), act_form=form, open_act=name)
    fields = dict(form.cleaned_data)
    version = fields.pop("version")
    try:
        ACT_SERVICES[name](ticket, by=request.user, expected_version=version, **fields)
    except (services.TicketError, PermissionDenied) as error:
        return _refused(request, ticket, error, act_form=form, open_act=name)
    messages.success(request, _("%(act)s: done.") % {"act": ACTS[name].label})
    return redirect("tickets:detail", number=ticket.number)


@require_POST
@role_required(*ALL_ROLES)
def comment(request, number):
    ticket = selectors.access_ticket(request.user, number)
    form = CommentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, ticket, _("Check the highlighted fields."), comment_form=form)
    try:
        with limits.quota(request.user, comments=1, uploads=len(form.cleaned_data["files"])):
            services.add_comment(
                ticket,
                by=request.user,
                body=form.cleaned_data["body"],
                is_internal=form.cleaned_data["is_internal"] and not request.user.is_customer,
                files=form.cleaned_data["files"],
                expected_version=form.cleaned_data["version"],
            )
    except (services.TicketError, PermissionDenied, limits.QuotaExceeded) as error:
        return _refused(request, ticket, error, comment_form=form)
    messages.success(request, _("Comment added."))
    return redirect("tickets:detail", number=ticket.number)


@role_required(*ALL_ROLES)
def download(request, pk):
    """Files leave only through here: access checked, sent as an attachment, never rendered."""
    attachment = selectors.access_attachment(request.user, pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _decide(request, ticket, record, form_class, service, *, invalid: str, done: str):
    """A decision on a ticket's record (an approval, a consent, a change): parse, call, answer."""
    form = form_class(request.POST)
    if not form.is_valid():
        return _refused(request, ticket, invalid)
    try:
        service(record, by=request.user, **form.cleaned_data)
    except (services.TicketError, PermissionDenied) as error:
        return _refused(request, ticket, error)
    messages.success(request, done)
    return redirect("tickets:detail", number=ticket.number)


@require_POST
@role_required(*STAFF)
def decide_risk(request, number, pk):
    ticket = selectors.access_ticket(request.user, number)
    approval = get_object_or_404(RiskApproval, pk=pk, ticket=ticket)
    return _decide(
        request,
        ticket,
        approval,
        DecisionForm,
        services.decide_risk,
        invalid=_("Choose approve or refuse."),
        done=_("Decision recorded."),
    )


@require_POST
@role_required(*STAFF)
def record_consent(request, number, pk):
    ticket = selectors.access_ticket(request.user, number)
    approval = get_object_or_404(RiskApproval, pk=pk, ticket=ticket)
    return _decide(
        request,
        ticket,
        approval,
        ConsentForm,
        services.record_consent,
        invalid=_("Name who consented."),
        done=_("Customer consent recorded."),
    )


@require_POST
@role_required(*STAFF)
def decide_change(request, number):
    ticket = selectors.access_ticket(request.user, number)
    change = get_object_or_404(ChangeRequest, ticket=ticket)
    return _decide(
        request,
        ticket,
        change,
        DecisionForm,
        services.decide_change,
        invalid=_("Choose approve or refuse."),
        done=_("Decision recorded."),
    )


@role_required(*STAFF)
def fault_report(request, number):
    """The printable fault handling report; the engineers on the ticket write or amend it here."""
    ticket = selectors.access_ticket(request.user, number)
    report = getattr(ticket, "fault_report", None)
    initial = {}
    if report:
        initial = {f: getattr(report, f) for f in ("fault_class", "cause", "method", "loss")}
    form = FaultReportForm(request.POST or None, initial=initial)
    may_write = any(act.name == "write_report" for act in allowed_acts(request.user, ticket))
    error = None
    if request.method == "POST" and may_write and form.is_valid():
        try:
            services.write_fault_report(ticket, by=request.user, **form.cleaned_data)
        except (services.TicketError, PermissionDenied) as refused:
            error = getattr(refused, "message", str(refused))
        else:
            messages.success(request, _("Fault handling report saved."))
            return redirect("tickets:fault_report", number=ticket.number)
    elif request.method == "POST" and not may_write:
        raise PermissionDenied
    context = {
        "ticket": ticket,
        "report": report,
        "form": form,
        "may_write": may_write,
        "error": error,
    }
    return render(request, "tickets/fault_report.html", context, status=400 if error else 200)
