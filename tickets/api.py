"""
The ticket API under /api/tickets/: parse, access, call one service, render.

Errors answer as `{"detail": ...}`: a refused act 400 (with the refused fields under `errors`,
`{field: [messages]}`, when the body or the query was wrong), a role that may not act 403, a
ticket the caller may not see 404 (as if it did not exist), a ticket changed since the caller
read it 409 with the ticket as it is now under `current`.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.choices import Role
from customers.selectors import organisation_of
from servicedesk.parsers import JSONParser

from . import limits, services
from .acts import ACTS
from .filters import TicketFilter, UnknownParameter, check_parameters
from .models import Ticket
from .selectors import access_ticket, comments_for, timeline_for, visible_tickets, visits_for, work_logs_for
from .serializers import (
    AcceptSerializer,
    AnalyseSerializer,
    AnswerSerializer,
    ArriveSerializer,
    AssignSerializer,
    AttachSerializer,
    CancelSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    ConfirmSerializer,
    CustomerTicketCreateSerializer,
    DeliverEmergencyPlanSerializer,
    DepartSerializer,
    ErrorSerializer,
    EscalateSerializer,
    FaultReportSerializer,
    GiveWorkaroundSerializer,
    IdentifyCustomerSerializer,
    LogWorkSerializer,
    PauseSerializer,
    ReopenSerializer,
    RequestApprovalSerializer,
    ResolveSerializer,
    RespondSerializer,
    ResumeSerializer,
    SetBillingSerializer,
    StaffTicketCreateSerializer,
    StaleErrorSerializer,
    StartTravelSerializer,
    TicketDetailSerializer,
    TicketListSerializer,
    TimelineEventSerializer,
    VisitSerializer,
    WaitForPartsSerializer,
    WorkLogSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
ACT_RESPONSES = {200: TicketDetailSerializer, **ERRORS, 409: StaleErrorSerializer}
UPLOADS = [MultiPartParser, FormParser]

# Cursor pagination keys each page on the first ordering field alone, so that field must be
# (nearly) unique and never null: level (null for non-faults), urgency and status are not.
CURSOR_ORDERINGS = ("created_at", "updated_at", "number")
DETAIL_RELATIONS = (
    "organisation",
    "site",
    "team",
    "assignee",
    "contact",
    "contract",
    "equipment",
    "centre",
    "about_ticket",
    "about_engineer",
)


class TicketCursorPagination(CursorPagination):
    """Newest first; `?ordering=` picks another cursor-safe order, with the id to break ties."""

    ordering = ("-created_at", "-pk")
    invalid_cursor_message = gettext_lazy("This cursor is not a page of this list: start without it.")

    def decode_cursor(self, request):
        # DRF answers 404 for a cursor it did not issue; it is a bad parameter, not a missing page.
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ParseError(self.invalid_cursor_message) from exc
        # A hand-made cursor decodes, but its position must still be a value of the ordering field.
        if cursor is not None and cursor.position is not None:
            field = Ticket._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                field.to_python(cursor.position)
            except DjangoValidationError as exc:
                raise ParseError(self.invalid_cursor_message) from exc
            if "\x00" in cursor.position:
                raise ParseError(self.invalid_cursor_message)
        return cursor

    def get_ordering(self, request, queryset, view):
        term = request.query_params.get("ordering")
        if not term:
            return self.ordering
        return (term, "-pk" if term.startswith("-") else "pk")


def field_errors(errors) -> dict:
    """A validation error as `{"detail": the first message of each field, "errors": all of them}`."""
    if not isinstance(errors, dict):
        errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}

    def first(messages):
        while isinstance(messages, (list, dict)) and messages:
            messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
        return str(messages)

    lines = [
        first(messages) if name == "non_field_errors" else f"{name}: {first(messages)}"
        for name, messages in errors.items()
    ]
    return {"detail": " ".join(lines), "errors": errors}


def act(name: str, serializer_class, service, **kwargs):
    """
    Make the decorated method (its name and docstring) a POST on one ticket that performs the
    act `name` of `tickets.acts.ACTS` through `service`, with its body and answers documented.
    """

    def decorate(method):
        @functools.wraps(method)
        def endpoint(self, request, number=None):
            return self.perform_act(request, name, serializer_class, service)

        endpoint = action(detail=True, methods=["post"], **kwargs)(endpoint)
        return extend_schema(request=serializer_class, responses=ACT_RESPONSES)(endpoint)

    return decorate


def sub_list(serializer_class):
    """A GET of one ticket's records: neither paginated nor filtered."""

    def decorate(method):
        method = action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])(method)
        responses = {200: serializer_class(many=True), 404: ErrorSerializer}
        return extend_schema(responses=responses)(method)

    return decorate


class TicketViewSet(viewsets.GenericViewSet):
    """Tickets the caller may see; one POST per act, each naming the version it read."""

    lookup_field = "number"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = TicketFilter
    pagination_class = TicketCursorPagination
    serializer_class = TicketDetailSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        tickets = visible_tickets(self.request.user)
        return tickets.select_related("organisation", "site", "team", "assignee")

    def get_object(self) -> Ticket:
        return access_ticket(self.request.user, self.kwargs[self.lookup_field])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action == "list":
            TicketFilter.check_query(request.query_params, also=("cursor", "format"))
            ordering = request.query_params.get("ordering", "")
            if ordering and ordering.lstrip("-") not in CURSOR_ORDERINGS:
                raise ParseError(
                    _("The API lists in pages by a unique order: use ordering=%(choices)s.")
                    % {"choices": ", ".join(f"[-]{name}" for name in CURSOR_ORDERINGS)}
                )
        else:
            check_parameters(request.query_params, known={"format"})

    def handle_exception(self, exc):
        if isinstance(exc, services.StaleTicket):
            current = TicketDetailSerializer(exc.current, context=self.get_serializer_context())
            body = {"detail": exc.message, "current": current.data}
            return Response(body, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, services.TicketError):
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, limits.QuotaExceeded):
            return Response({"detail": exc.message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if isinstance(exc, UnknownParameter):
            exc = ParseError(exc.message)
        if isinstance(exc, ValidationError):
            return Response(field_errors(exc.detail), status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def detail_of(self, ticket: Ticket) -> dict:
        """
        The ticket as it is now. Read again by its key, not through `access_ticket`: an act may
        take it out of the caller's sight (reassigned to another team) after they rightly did it.
        """
        ticket = Ticket.objects.select_related(*DETAIL_RELATIONS).get(pk=ticket.pk)
        return TicketDetailSerializer(ticket, context=self.get_serializer_context()).data

    def perform_act(self, request, act_name, serializer_class, service) -> Response:
        ticket = self.get_object()
        # The service checks again, on the locked row; asking first spares a customer's request
        # for a staff act the reading of its body (and of the team or engineer ids it names).
        if request.user.role not in ACTS[act_name].roles:
            raise PermissionDenied(
                _("Your role may not “%(act)s” this ticket.") % {"act": ACTS[act_name].label}
            )
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        version = fields.pop("version")
        # What a customer creates counts against their hourly quotas (tickets.limits).
        created = {"comments": int(service is services.add_comment), "uploads": len(fields.get("files", ()))}
        with limits.quota(request.user, **created):
            service(ticket, by=request.user, expected_version=version, **fields)
        return Response(self.detail_of(ticket))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=[f"{sign}{name}" for name in CURSOR_ORDERINGS for sign in ("", "-")],
                description=gettext_lazy("One order, by a unique field: the pages are cursor pages."),
            )
        ],
        responses={200: TicketListSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        """The tickets the caller may see, newest first, filtered and in cursor pages."""
        tickets = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = TicketListSerializer(tickets, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(responses={200: TicketDetailSerializer, 404: ErrorSerializer})
    def retrieve(self, request, number=None):
        """One ticket with its timeline, comments, files and the acts the caller may do now."""
        ticket = self.get_object()
        return Response(TicketDetailSerializer(ticket, context=self.get_serializer_context()).data)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="TicketCreate",
            serializers=[StaffTicketCreateSerializer, CustomerTicketCreateSerializer],
            resource_type_field_name=None,
        ),
        responses={201: TicketDetailSerializer, **ERRORS},
    )
    def create(self, request):
        """
        Staff log a call for any organisation (`log_call`); customers file a request for their
        own (`file_request`) and may set only site, equipment, class, level, urgency and text.
        """
        if request.user.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.CUSTOMER):
            raise PermissionDenied(_("Only the hotline logs calls; customers file requests on the portal."))
        context = self.get_serializer_context()
        if request.user.is_customer:
            organisation = organisation_of(request.user)
            if organisation is None:
                raise PermissionDenied(_("Your account belongs to no customer organisation."))
            context["organisation"] = organisation
            serializer = CustomerTicketCreateSerializer(data=request.data, context=context)
            serializer.is_valid(raise_exception=True)
            details = services.CallDetails(organisation=organisation, **serializer.validated_data)
            with limits.quota(request.user, tickets=1):
                ticket = services.file_request(details, by=request.user)
        else:
            serializer = StaffTicketCreateSerializer(data=request.data, context=context)
            serializer.is_valid(raise_exception=True)
            fields = dict(serializer.validated_data)
            team, assignee = fields.pop("team", None), fields.pop("assignee", None)
            details = services.CallDetails(**fields)
            ticket = services.log_call(details, by=request.user, team=team, assignee=assignee)
        return Response(self.detail_of(ticket), status=status.HTTP_201_CREATED)

    # Reads of one ticket's records, as the caller's role may see them.

    @sub_list(CommentSerializer)
    def comments(self, request, number=None):
        """The comments; customers do not see internal notes."""
        comments = comments_for(request.user, self.get_object())
        return Response(CommentSerializer(comments, many=True, context=self.get_serializer_context()).data)

    @sub_list(TimelineEventSerializer)
    def timeline(self, request, number=None):
        """Every change, who and when; customers do not see internal events."""
        return Response(
            TimelineEventSerializer(timeline_for(request.user, self.get_object()), many=True).data
        )

    @sub_list(WorkLogSerializer)
    def work_logs(self, request, number=None):
        """Time spent on the ticket and how: staff only, as on the ticket page (customers get none)."""
        work = work_logs_for(request.user, self.get_object())
        return Response(WorkLogSerializer(work, many=True).data)

    @sub_list(VisitSerializer)
    def visits(self, request, number=None):
        """The on-site visits: travel, arrival, departure and sign-off."""
        visits = visits_for(request.user, self.get_object())
        return Response(VisitSerializer(visits, many=True).data)

    # The acts, named as in `tickets.acts.ACTS` (`comment` and `attach` are its "comment" act,
    # `fault_report` its "write_report").

    @act("assign", AssignSerializer, services.assign)
    def assign(self, request, number=None):
        """Give the ticket to a team and, optionally, one of its engineers."""

    @act("accept", AcceptSerializer, services.accept)
    def accept(self, request, number=None):
        """The engineer takes the ticket."""

    @act("respond", RespondSerializer, services.respond)
    def respond(self, request, number=None):
        """Record the first response to the customer."""

    @act("start_travel", StartTravelSerializer, services.start_travel)
    def start_travel(self, request, number=None):
        """The engineer sets off for the site."""

    @act("arrive", ArriveSerializer, services.record_arrival)
    def arrive(self, request, number=None):
        """The engineer is on site."""

    @act("depart", DepartSerializer, services.record_departure)
    def depart(self, request, number=None):
        """
        The engineer leaves the site, with the customer's sign-off when given: the typed name
        (`signed_off_by`) and the signature drawn on the screen (`signature`, a PNG data URL of
        at most 300 KB), which the visits then link as `signature_url`.
        """

    @act("log_work", LogWorkSerializer, services.log_work)
    def log_work(self, request, number=None):
        """Record time spent on the ticket and how."""

    @act("pause", PauseSerializer, services.pause)
    def pause(self, request, number=None):
        """Wait for the customer: the deadline clock stops."""

    @act("resume", ResumeSerializer, services.resume)
    def resume(self, request, number=None):
        """Back to work after waiting for the customer or for parts."""

    @act("wait_for_parts", WaitForPartsSerializer, services.wait_for_parts)
    def wait_for_parts(self, request, number=None):
        """Wait for a spare part."""

    @act("give_workaround", GiveWorkaroundSerializer, services.give_workaround)
    def give_workaround(self, request, number=None):
        """A temporary way round the fault."""

    @act(
        "deliver_emergency_plan",
        DeliverEmergencyPlanSerializer,
        services.deliver_emergency_plan,
        parser_classes=[*UPLOADS, JSONParser],
    )
    def deliver_emergency_plan(self, request, number=None):
        """The emergency plan of a Level I fault, with files (multipart) for the customer; again to revise."""

    @act("set_billing", SetBillingSerializer, services.set_billing)
    def set_billing(self, request, number=None):
        """Correct whether the work is covered (contract, warranty) or charged (per call, per year)."""

    @act("identify_customer", IdentifyCustomerSerializer, services.identify_customer)
    def identify_customer(self, request, number=None):
        """Name the real customer of a call "to be confirmed": its site, contract and billing follow."""

    @act("analyse", AnalyseSerializer, services.analyse)
    def analyse(self, request, number=None):
        """Classify the problem; an operational one becomes a consultation."""

    @act("request_approval", RequestApprovalSerializer, services.request_approval)
    def request_approval(self, request, number=None):
        """Ask the team supervisor before a restart, a deletion or a reinstall."""

    @act("resolve", ResolveSerializer, services.resolve)
    def resolve(self, request, number=None):
        """The fault is fixed: the customer is asked to confirm."""

    @act("confirm", ConfirmSerializer, services.confirm)
    def confirm(self, request, number=None):
        """Accept the resolution and close the ticket."""

    @act("reopen", ReopenSerializer, services.reopen)
    def reopen(self, request, number=None):
        """The fix did not hold: back to work, within 30 days of closing."""

    @act("cancel", CancelSerializer, services.cancel)
    def cancel(self, request, number=None):
        """Cancel an open ticket."""

    @act("escalate", EscalateSerializer, services.escalate)
    def escalate(self, request, number=None):
        """Hand the ticket to the next support tier's team by hand."""

    @act("answer", AnswerSerializer, services.answer)
    def answer(self, request, number=None):
        """Answer a consultation on the spot and close it."""

    @act("write_report", FaultReportSerializer, services.write_fault_report)
    def fault_report(self, request, number=None):
        """Write (or amend) the fault handling report of a resolved Level I or II fault."""

    @act(
        "comment",
        CommentCreateSerializer,
        services.add_comment,
        parser_classes=[*UPLOADS, JSONParser],
    )
    def comment(self, request, number=None):
        """A message on the ticket, with files (multipart); internal notes are for staff."""

    @act("comment", AttachSerializer, services.attach, parser_classes=UPLOADS)
    def attach(self, request, number=None):
        """Files on the ticket itself (multipart `files`, repeated)."""
