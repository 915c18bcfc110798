"""Ticket pages: thin views that parse, check access, call one service and render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.choices import Role
from accounts.decorators import role_required
from sla import services as clock

from .. import limits, selectors, services, uploads
from ..acts import ACTS, allowed_acts, next_step
from ..choices import Event
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
    "identify_customer": services.identify_customer,
}


def _offered_acts(user, ticket):
    acts = [act for act in allowed_acts(user, ticket) if act.name in ACT_FORMS]
    if not within_reopen_window(ticket):
        acts = [act for act in acts if act.name != "reopen"]
    return acts


def act_ids(name: str) -> str:
    """Ids of one act's fields: several act forms share a page, and every label must find its field."""
    return f"{name}-%s"


def _typed(form) -> list[tuple[str, str]]:
    """The text a refused form carried, by field label, to be copied into another step or a comment."""
    return [
        (str(field.label), str(field.value()))
        for field in form
        if field.name != "version" and isinstance(field.value(), str) and field.value().strip()
    ]


def _link_comments(timeline, comments) -> None:
    """
    Each comment is shown once, in the comments section: its timeline row gets `comment`, the
    comment it recorded (same author and visibility, written just before), and links to it.
    """
    unlinked = list(comments)
    for event in timeline:
        if event.kind != Event.COMMENTED:
            continue
        event.comment = next(
            (
                comment
                for comment in unlinked
                if comment.author_id == event.actor_id
                and comment.is_internal == event.is_internal
                and comment.created_at <= event.created_at
            ),
            None,
        )
        if event.comment is not None:
            unlinked.remove(event.comment)


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
    # The step is no longer offered (someone else took it meanwhile): what was typed is shown back.
    typed = _typed(bound) if bound is not None and open_act not in forms else []
    # An engineer's resolved Level I/II fault without its report: writing it is the next step (on a
    # page of its own), and every other step folds under "More steps".
    report_owed = not hasattr(ticket, "fault_report") and any(
        act.name == "write_report" for act in allowed_acts(user, ticket)
    )
    primary = None if report_owed else next_step(acts, ticket)
    timeline = selectors.timeline_for(user, ticket)
    comments = selectors.comments_for(user, ticket)
    _link_comments(timeline, comments)
    deadlines = clock.deadlines_of(ticket)
    return {
        "ticket": ticket,
        "acts": [(act, forms[act.name]) for act in acts],
        "next_step": (primary, forms[primary.name]) if primary else None,
        "more_steps": [(act, forms[act.name]) for act in acts if act is not primary],
        "report_owed": report_owed,
        "open_act": open_act,
        "typed": typed,
        "timeline": timeline,
        "comments": comments,
        "attachments": selectors.attachments_for(user, ticket),
        "visits": selectors.visits_for(user, ticket),
        "work_logs": selectors.work_logs_for(user, ticket),
        "change": getattr(ticket, "change_request", None),
        "report": getattr(ticket, "fault_report", None),
        "emergency_plan": ticket.emergency_plan,
        "complaints": selectors.complaints_about(user, ticket),
        "deadlines": deadlines,
        "open_deadlines": [deadline for deadline in deadlines if deadline.is_open],
        "closed_deadlines": [deadline for deadline in deadlines if not deadline.is_open],
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
    return render(request, _page_or_part(request), context, status=status)


def _page_or_part(request) -> str:
    """htmx swaps the ticket's content in place; a plain request gets the whole page."""
    return "tickets/detail.html#ticket" if request.htmx else "tickets/detail.html"


def _done(request, ticket):
    """
    After a step: the ticket's content with the message, in place, for htmx; otherwise back to
    the page (post, redirect, get). A ticket the step took out of the person's sight (escalated
    beyond their team) sends them to their start page, where the message waits.
    """
    try:
        fresh = selectors.access_ticket(request.user, ticket.number)
    except Http404:
        return HttpResponseClientRedirect(reverse("home")) if request.htmx else redirect("home")
    if request.htmx:
        return render(request, "tickets/detail.html#ticket", detail_context(request, fresh))
    return redirect("tickets:detail", number=fresh.number)


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
    messages.success(request, ACTS[name].done_message(ticket))
    return _done(request, ticket)


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
    return _done(request, ticket)


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
    visits = selectors.visits_for(request.user, ticket)
    signed = [visit for visit in visits if visit.signature or visit.signed_off_by]
    context = {
        "ticket": ticket,
        "report": report,
        "form": form,
        "may_write": may_write,
        "error": error,
        "centre": ticket.centre,  # the site's, else the team's (kept by intake and assignment)
        "times": selectors.promised_times(ticket),
        "parts": selectors.parts_awaited(request.user, ticket),
        "visits": visits,
        # Who handled the fault signs for the desk: the last on site, else the assignee, else the writer.
        "engineer": (visits[-1].engineer if visits else ticket.assignee) or (report and report.written_by),
        "customer_sign_off": signed[-1] if signed else None,
    }
    return render(request, "tickets/fault_report.html", context, status=400 if error else 200)


# Shown inline: images and PDFs only, in a page of their own that may run nothing and load
# nothing but itself (a PDF viewer is an object of the page: `object-src 'self'`).
INLINE_POLICY = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _inline(file, *, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(file, as_attachment=False, filename=filename, content_type=content_type)
    response["Content-Security-Policy"] = INLINE_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(*ALL_ROLES)
def preview(request, pk):
    """
    An image or a PDF shown in the browser, for the thumbnails and a tap on them; access is checked
    as for `download`, and a file whose recorded type or first bytes are not a previewable image or
    PDF goes to `download` instead, as an attachment.
    """
    attachment = selectors.access_attachment(request.user, pk)
    file = attachment.file.open("rb")
    head = file.read(uploads.HEAD_BYTES)
    if not uploads.is_previewable(attachment.content_type, head):
        file.close()
        return redirect("tickets:attachment", pk=attachment.pk)
    file.seek(0)
    return _inline(file, filename=attachment.original_name, content_type=attachment.content_type)


@role_required(*ALL_ROLES)
def visit_signature(request, pk):
    """The customer's signature of one visit, to whoever may see the ticket; a PNG or nothing."""
    visit = selectors.access_visit(request.user, pk)
    if not visit.signature:
        raise Http404
    file = visit.signature.open("rb")
    if not file.read(8).startswith(uploads.PNG_MAGIC):
        file.close()
        raise Http404
    file.seek(0)
    filename = f"signature-{visit.ticket.number}-{visit.pk}.png"
    return _inline(file, filename=filename, content_type="image/png")
