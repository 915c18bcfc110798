"""
What the ticket API reads and writes. Reads are shaped per role by the selectors; writes accept
exactly the fields the caller's role may set and refuse any other field by name.
"""

from django.core.validators import MaxLengthValidator
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import Role
from accounts.models import Team, User
from customers.choices import Billing, FaultArea
from customers.models import Contact, Contract, Equipment, Organisation, Site

from . import limits
from .acts import allowed_acts
from .choices import (
    CUSTOMER_KIND_CHOICES,
    Channel,
    Event,
    Kind,
    Level,
    ProblemType,
    Risk,
    Urgency,
    WorkMethod,
)
from .models import (
    Attachment,
    Comment,
    EmergencyPlan,
    ServiceRating,
    Ticket,
    TimelineEvent,
    Visit,
    WorkLog,
)
from .selectors import attachments_for, comments_for, complaints_about, timeline_for, visible_tickets
from .services.intake import customer_request_problems
from .uploads import SIGNATURE_FIELD_MAX, UploadRefused, signature_png

# Reads


class NamedSerializer(serializers.Serializer):
    """Any record shown by its id and name (organisation, site, team, contact)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class EquipmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    serial_number = serializers.CharField(read_only=True)
    model_name = serializers.CharField(read_only=True)


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "is_internal", "created_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        url = reverse("tickets:attachment", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class EmergencyPlanSerializer(serializers.ModelSerializer):
    delivered_by = PersonSerializer(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = EmergencyPlan
        fields = ["plan", "delivered_by", "delivered_at", "attachments"]
        read_only_fields = fields


class CommentSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "is_internal", "created_at", "attachments"]
        read_only_fields = fields


class TimelineEventSerializer(serializers.ModelSerializer):
    # Named `event`, not `kind`, so the schema's enum of events is not confused with ticket classes.
    event = serializers.ChoiceField(source="kind", choices=Event.choices, read_only=True)
    event_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "event", "event_display", "actor", "created_at", "note", "before", "after"]
        read_only_fields = fields


class WorkLogSerializer(serializers.ModelSerializer):
    engineer = PersonSerializer(read_only=True)

    class Meta:
        model = WorkLog
        fields = ["id", "engineer", "method", "minutes", "note", "created_at"]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    engineer = PersonSerializer(read_only=True)
    signature_url = serializers.SerializerMethodField(
        help_text=gettext_lazy("The customer's signature drawn at departure (a PNG), or null.")
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "engineer",
            "travel_started_at",
            "arrived_at",
            "departed_at",
            "signed_off_by",
            "signature_url",
            "note",
        ]
        read_only_fields = fields

    def get_signature_url(self, visit) -> str | None:
        if not visit.signature:
            return None
        url = reverse("tickets:visit_signature", args=[visit.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class RatingSerializer(serializers.ModelSerializer):
    rated_by = PersonSerializer(read_only=True)

    class Meta:
        model = ServiceRating
        fields = ["score", "comment", "rated_by", "rated_at"]
        read_only_fields = fields


class TicketListSerializer(serializers.ModelSerializer):
    organisation = NamedSerializer(read_only=True)
    site = NamedSerializer(read_only=True, allow_null=True)
    team = NamedSerializer(read_only=True, allow_null=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    is_paid_service = serializers.BooleanField(read_only=True)
    tier = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The support tier working on it: for staff; null for customers."),
    )

    def to_representation(self, ticket):
        data = super().to_representation(ticket)
        request = self.context.get("request")
        if request is not None and request.user.is_customer:
            # The support tier is the desk's own word: customers are not shown it.
            data["tier"] = None
        return data

    class Meta:
        model = Ticket
        fields = [
            "number",
            "title",
            "organisation",
            "site",
            "kind",
            "level",
            "urgency",
            "status",
            "tier",
            "team",
            "assignee",
            "created_at",
            "updated_at",
            "version",
            "is_paid_service",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketListSerializer):
    """
    One ticket with its history, as the caller's role may see it: customers get no internal
    comments, events or files, and nobody gets who logged the call.
    """

    contact = NamedSerializer(read_only=True, allow_null=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True, allow_null=True)
    equipment = EquipmentSerializer(read_only=True, allow_null=True)
    centre = NamedSerializer(read_only=True, allow_null=True)
    problem_type = serializers.ChoiceField(
        choices=ProblemType.choices,
        allow_blank=True,
        read_only=True,
        help_text=gettext_lazy("Empty until the defect is analysed."),
    )
    fault_area = serializers.ChoiceField(
        choices=FaultArea.choices,
        allow_blank=True,
        read_only=True,
        help_text=gettext_lazy("Faults: whether the hardware or the system; empty when not known."),
    )
    billing = serializers.ChoiceField(
        choices=Billing.choices,
        read_only=True,
        help_text=gettext_lazy(
            "Whether the work is covered (contract, warranty) or charged (per call, per year)."
        ),
    )
    about_ticket = serializers.CharField(
        source="about_ticket.number",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("Complaints: the number of the ticket complained about."),
    )
    about_engineer = PersonSerializer(read_only=True, allow_null=True)
    complaints = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Numbers of the complaints about this ticket (for staff; empty for customers)."
        )
    )
    emergency_plan = serializers.SerializerMethodField(
        help_text=gettext_lazy("Level I faults: the emergency plan delivered last, with its files.")
    )
    allowed_acts = serializers.SerializerMethodField()
    rating = RatingSerializer(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("The customer's score of the service, given when confirming; null before."),
    )
    timeline = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta(TicketListSerializer.Meta):
        fields = [
            *TicketListSerializer.Meta.fields,
            "description",
            "channel",
            "contact",
            "contract_number",
            "equipment",
            "centre",
            "responded_at",
            "travel_started_at",
            "arrived_at",
            "workaround_at",
            "resolved_at",
            "confirmed_at",
            "closed_at",
            "confirmed_by_customer",
            "problem_type",
            "workaround",
            "resolution",
            "root_cause",
            "fault_area",
            "billing",
            "about_ticket",
            "about_engineer",
            "complaints",
            "emergency_plan",
            "allowed_acts",
            "rating",
            "timeline",
            "comments",
            "attachments",
        ]
        read_only_fields = fields

    @property
    def user(self):
        return self.context["request"].user

    def get_complaints(self, ticket) -> list[str]:
        return [complaint.number for complaint in complaints_about(self.user, ticket)]

    @extend_schema_field(EmergencyPlanSerializer(allow_null=True))
    def get_emergency_plan(self, ticket):
        plan = ticket.emergency_plan
        return EmergencyPlanSerializer(plan, context=self.context).data if plan else None

    def get_allowed_acts(self, ticket) -> list[str]:
        return [act.name for act in allowed_acts(self.user, ticket)]

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, ticket):
        return TimelineEventSerializer(timeline_for(self.user, ticket), many=True).data

    @extend_schema_field(CommentSerializer(many=True))
    def get_comments(self, ticket):
        return CommentSerializer(comments_for(self.user, ticket), many=True, context=self.context).data

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, ticket):
        files = attachments_for(self.user, ticket)
        return AttachmentSerializer(files, many=True, context=self.context).data


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=gettext_lazy("Why the request was refused."))
    errors = serializers.DictField(
        required=False,
        help_text=gettext_lazy("For a wrong body or query: each refused field with its messages."),
    )


class StaleErrorSerializer(ErrorSerializer):
    current = TicketDetailSerializer(
        help_text=gettext_lazy("The ticket as it is now: read it, then act on its version.")
    )


# Writes


class StrictSerializer(serializers.Serializer):
    """
    Refuses a field it does not declare by name, rather than dropping it without a word; every
    text field without a length of its own takes the limit `tickets.limits` gives its name.
    """

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if isinstance(field, serializers.CharField) and not field.read_only and field.max_length is None:
                field.max_length = limits.text_limit(name)
                message = field.error_messages["max_length"].format(max_length=field.max_length)
                field.validators.append(MaxLengthValidator(field.max_length, message=message))
        return fields

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data.keys()) - writable)
            if unknown:
                message = _("Unknown field, or one you may not set.")
                raise serializers.ValidationError({name: [message] for name in unknown})
            # No value here can hold a NUL character, and PostgreSQL refuses one even in a lookup.
            values = data.lists() if hasattr(data, "lists") else data.items()
            nul = sorted(name for name, value in values if _holds_nul(value))
            if nul:
                message = _("Null characters are not allowed.")
                raise serializers.ValidationError({name: [message] for name in nul})
        return super().to_internal_value(data)


def _holds_nul(value) -> bool:
    """Whether a NUL character is in the value, or in any string nested in it (without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def optional(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(queryset=queryset, default=None, allow_null=True, **kwargs)


def ticket_by_number(not_found: str) -> serializers.SlugRelatedField:
    """An optional ticket named by its number; the caller narrows the queryset to what may be seen."""
    return serializers.SlugRelatedField(
        slug_field="number",
        queryset=Ticket.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": not_found},
    )


class StaffTicketCreateSerializer(StrictSerializer):
    """A call logged by the hotline: any organisation, and a team or engineer at once."""

    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    site = optional(Site.objects.all())
    contact = optional(Contact.objects.all())
    contract = optional(Contract.objects.all())
    equipment = optional(Equipment.objects.select_related("site", "contract"))
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.FAULT)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.GENERAL)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    on_site_required = serializers.BooleanField(required=False, default=False)
    fault_area = serializers.ChoiceField(
        choices=FaultArea.choices, required=False, allow_blank=True, default=""
    )
    about_ticket = ticket_by_number(gettext_lazy("There is no ticket {value} you may see."))
    about_engineer = optional(User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True))
    team = optional(Team.objects.all())
    assignee = optional(User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["about_ticket"].queryset = visible_tickets(request.user)


class CustomerTicketCreateSerializer(StrictSerializer):
    """
    A request filed on the portal: always for the customer's own organisation, so only their
    own sites and equipment are accepted, and nothing about who works on it. What the portal's
    form refuses is refused here by the same rule (`customer_request_problems`).
    """

    # The same answer for another organisation's record as for none at all: nothing leaks.
    site = optional(
        Site.objects.none(),
        error_messages={"does_not_exist": gettext_lazy("There is no site {pk_value} in your organisation.")},
    )
    equipment = optional(
        Equipment.objects.none(),
        error_messages={
            "does_not_exist": gettext_lazy("There is no equipment {pk_value} in your organisation.")
        },
    )
    kind = serializers.ChoiceField(
        choices=CUSTOMER_KIND_CHOICES,
        default=Kind.FAULT,
    )
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.GENERAL)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    fault_area = serializers.ChoiceField(
        choices=FaultArea.choices, required=False, allow_blank=True, default=""
    )
    # The same answer for another organisation's ticket as for none at all.
    about_ticket = ticket_by_number(gettext_lazy("There is no ticket {value} in your organisation."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organisation = self.context.get("organisation")
        self.fields["about_ticket"].queryset = Ticket.objects.filter(organisation=organisation)
        self.fields["site"].queryset = Site.objects.filter(organisation=organisation)
        self.fields["equipment"].queryset = Equipment.objects.filter(
            site__organisation=organisation
        ).select_related("site", "contract")

    def validate(self, attrs):
        problems = customer_request_problems(
            self.context.get("organisation"),
            kind=attrs.get("kind"),
            site=attrs.get("site"),
            equipment=attrs.get("equipment"),
        )
        if problems:
            raise serializers.ValidationError({field: [message] for field, message in problems.items()})
        return attrs


class ActSerializer(StrictSerializer):
    """Every act names the version of the ticket the caller read; a changed ticket answers 409."""

    version = serializers.IntegerField(min_value=1)


class AcceptSerializer(ActSerializer):
    pass


class RespondSerializer(ActSerializer):
    note = serializers.CharField()


class StartTravelSerializer(ActSerializer):
    pass


class ArriveSerializer(ActSerializer):
    pass


class DepartSerializer(ActSerializer):
    signed_off_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    signature = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=SIGNATURE_FIELD_MAX,
        trim_whitespace=True,
        help_text=gettext_lazy("The customer's signature drawn on the screen: a PNG data URL."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_signature(self, value: str) -> bytes:
        try:
            return signature_png(value)
        except UploadRefused as refused:
            raise serializers.ValidationError(refused.message) from None


class LogWorkSerializer(ActSerializer):
    minutes = serializers.IntegerField()
    method = serializers.ChoiceField(choices=WorkMethod.choices)
    note = serializers.CharField()


class PauseSerializer(ActSerializer):
    reason = serializers.CharField()


class ResumeSerializer(ActSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class WaitForPartsSerializer(ActSerializer):
    note = serializers.CharField()


class GiveWorkaroundSerializer(ActSerializer):
    workaround = serializers.CharField()


class AnalyseSerializer(ActSerializer):
    problem_type = serializers.ChoiceField(choices=ProblemType.choices)
    note = serializers.CharField()


class ResolveSerializer(ActSerializer):
    resolution = serializers.CharField()
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")


SCORE_REFUSED = gettext_lazy("The score is a whole number from 0 (not applicable) to 5 (very satisfied).")


class ConfirmSerializer(ActSerializer):
    """The customer confirms with a score (required of them); the desk may confirm without one."""

    note = serializers.CharField(required=False, allow_blank=True, default="")
    score = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=5,
        help_text=gettext_lazy(
            "How was the service: 5 very satisfied … 1 very dissatisfied, 0 not applicable. "
            "Required when a customer confirms."
        ),
        error_messages={"invalid": SCORE_REFUSED, "min_value": SCORE_REFUSED, "max_value": SCORE_REFUSED},
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("A word on the service, kept with the score."),
    )


class ReopenSerializer(ActSerializer):
    reason = serializers.CharField()


class CancelSerializer(ActSerializer):
    reason = serializers.CharField()


class EscalateSerializer(ActSerializer):
    reason = serializers.CharField()


class AnswerSerializer(ActSerializer):
    answer = serializers.CharField()


class AssignSerializer(ActSerializer):
    team = optional(Team.objects.all())
    assignee = optional(User.objects.filter(role__in=[Role.ENGINEER, Role.MANAGER], is_active=True))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverEmergencyPlanSerializer(ActSerializer):
    plan = serializers.CharField()
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class SetBillingSerializer(ActSerializer):
    billing = serializers.ChoiceField(choices=Billing.choices)
    reason = serializers.CharField()


class IdentifyCustomerSerializer(ActSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_placeholder=False)
    )
    contact = optional(Contact.objects.filter(organisation__is_placeholder=False))
    serial_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class CommentCreateSerializer(ActSerializer):
    body = serializers.CharField()
    is_internal = serializers.BooleanField(default=False)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class AttachSerializer(ActSerializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    is_internal = serializers.BooleanField(default=False)


class RequestApprovalSerializer(ActSerializer):
    risk = serializers.ChoiceField(choices=Risk.choices)
    plan = serializers.CharField()


class FaultReportSerializer(ActSerializer):
    fault_class = serializers.CharField(max_length=100)
    cause = serializers.CharField()
    method = serializers.CharField()
    loss = serializers.CharField()
