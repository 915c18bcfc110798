import functools
import hashlib
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.choices import Tier, tier_name
from accounts.models import SupportCentre, Team
from customers.choices import Billing, FaultArea
from customers.models import Contact, Contract, Equipment, Organisation, Site

from .choices import (
    OPEN_STATUSES,
    Channel,
    Decision,
    Event,
    Impact,
    Kind,
    Level,
    ProblemType,
    Risk,
    Score,
    Status,
    Urgency,
    WorkMethod,
)

User = settings.AUTH_USER_MODEL


class TicketCounter(models.Model):
    """The last ticket number handed out in a year: numbers are unique and have no gaps."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def for_equipment(self, equipment):
        return self.filter(equipment=equipment)


class Ticket(models.Model):
    """The after-sales service record (售后服务记录) of one call, from intake to confirmation."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # (organisation, created_at) below serves it
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        # No index: only deleting a contact looks tickets up by it, and every ticket write pays for one.
        db_index=False,
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        help_text=_("Empty: paid service."),
        db_index=False,  # as `contact`: read only when a contract is deleted
    )
    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    centre = models.ForeignKey(
        SupportCentre,
        verbose_name=_("support centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    kind = models.CharField(_("class"), max_length=16, choices=Kind.choices, default=Kind.FAULT)
    level = models.PositiveSmallIntegerField(_("fault level"), choices=Level.choices, null=True, blank=True)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.GENERAL)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # (team, status) below serves it
    )
    assignee = models.ForeignKey(
        User,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,  # (assignee, status) below serves it
    )
    logged_by = models.ForeignKey(
        User,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="logged_tickets",
        db_index=False,  # as `contact`: read only when a user is deleted
    )
    problem_type = models.CharField(_("problem type"), max_length=16, choices=ProblemType.choices, blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    confirmed_by_customer = models.BooleanField(_("confirmed by the customer in person"), null=True)
    on_site_required = models.BooleanField(
        _("on-site service needed"), default=False, help_text=_("Opens the on-site arrival deadline.")
    )
    fault_area = models.CharField(
        _("fault concerns"),
        max_length=16,
        choices=FaultArea.choices,
        blank=True,
        help_text=_("Hardware or system: that warranty decides when no service contract covers the work."),
    )
    billing = models.CharField(
        _("billing"),
        max_length=16,
        choices=Billing.choices,
        default=Billing.PER_CALL,
        help_text=_("Set at intake from the entitlement; staff correct it on the ticket."),
    )
    # A complaint names what it is about. Indexed where set only: most tickets are no complaint.
    about_ticket = models.ForeignKey(
        "self",
        verbose_name=_("complaint about ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        db_index=False,
    )
    # Who called, as the caller said it, when the customer is still to be confirmed.
    caller_name = models.CharField(_("caller's name"), max_length=100, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=32, blank=True)
    about_engineer = models.ForeignKey(
        User,
        verbose_name=_("complaint about engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_about",
        db_index=False,
    )

    created_at = models.DateTimeField(_("logged at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    travel_started_at = models.DateTimeField(_("travel started at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    workaround_at = models.DateTimeField(_("workaround given at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["organisation", "created_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["team", "status"]),
            models.Index(
                fields=["about_ticket"], condition=Q(about_ticket__isnull=False), name="ticket_about_ticket"
            ),
            models.Index(
                fields=["about_engineer"],
                condition=Q(about_engineer__isnull=False),
                name="ticket_about_engineer",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=Kind.FAULT, level__isnull=False) | (~Q(kind=Kind.FAULT) & Q(level__isnull=True))
                ),
                name="ticket_level_only_for_faults",
            ),
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="ticket_tier_1_to_3"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paid_service(self) -> bool:
        return self.billing in (Billing.PER_CALL, Billing.PER_YEAR)

    @property
    def emergency_plan(self) -> "EmergencyPlan | None":
        """The plan delivered last: a revision replaces the earlier one, which stays in the timeline."""
        return self.emergency_plans.order_by("-delivered_at", "-pk").first()

    @property
    def urgency_rank(self) -> int:
        return {Urgency.VERY_URGENT: 0, Urgency.URGENT: 1, Urgency.GENERAL: 2}[self.urgency]


@functools.cache
def _field_order() -> dict[str, int]:
    return {field.name: index for index, field in enumerate(Ticket._meta.fields)}


@functools.lru_cache(maxsize=512)
def _field_names(language: str | None, name: str) -> tuple[str, dict[str, str]]:
    """
    A ticket field's label and its choices' names in `language`: worked out once per language,
    not once per timeline event (a long timeline would translate the same labels thousands of times).
    """
    try:
        field = Ticket._meta.get_field(name)
    except FieldDoesNotExist:
        return name, {}
    if name == "tier":  # a tier reads as staff say it: "Tier 2" (二线), not "2"
        return str(field.verbose_name), {str(tier): tier_name(tier) for tier in Tier.values}
    return str(field.verbose_name), {str(code): str(text) for code, text in field.flatchoices}


class TimelineEvent(models.Model):
    """One change to a ticket: who, when, what, and the values before and after."""

    # (ticket, created_at) below serves every lookup by ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("event"), max_length=32, choices=Event.choices)
    actor = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    is_internal = models.BooleanField(
        _("internal"), default=False, help_text=_("Internal events are hidden from the customer.")
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return f"{self.ticket.number} · {self.get_kind_display()}"

    def changes(self) -> list[tuple[str, str, str]]:
        """
        (field name, before, after) for each change, choices named in the active language, in the
        order of the ticket's fields (PostgreSQL's jsonb keeps no key order).
        """
        order = _field_order()
        language = translation.get_language()
        rows = []
        for name, new in sorted(self.after.items(), key=lambda item: order.get(item[0], len(order))):
            label, named = _field_names(language, name)
            old = self.before.get(name, "")
            rows.append((label, named.get(str(old), old), named.get(str(new), new)))
        return rows


class Comment(models.Model):
    """A message on a ticket; internal notes are for staff only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, verbose_name=_("author"), on_delete=models.PROTECT)
    body = models.TextField(_("comment"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.ticket.number} · {self.author}"


class WorkLog(models.Model):
    """Time an engineer spent on a ticket, and how."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_logs")
    engineer = models.ForeignKey(User, verbose_name=_("engineer"), on_delete=models.PROTECT)
    method = models.CharField(_("method"), max_length=16, choices=WorkMethod.choices)
    minutes = models.PositiveIntegerField(_("time spent (minutes)"))
    note = models.TextField(_("what was done"))
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)

    class Meta:
        verbose_name = _("work log")
        verbose_name_plural = _("work logs")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(minutes__gt=0), name="worklog_minutes_positive")]

    def __str__(self):
        return f"{self.ticket.number} · {self.minutes} min"


class Visit(models.Model):
    """One trip to the customer's site: travel, arrival, departure and the customer's sign-off."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="visits")
    engineer = models.ForeignKey(User, verbose_name=_("engineer"), on_delete=models.PROTECT)
    travel_started_at = models.DateTimeField(_("travel started at"))
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    signed_off_by = models.CharField(_("signed off by (customer)"), max_length=100, blank=True)
    # The customer's signature drawn on the engineer's screen at departure (a PNG).
    signature = models.FileField(_("customer's signature"), upload_to="signatures/%Y/%m/", blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("on-site visit")
        verbose_name_plural = _("on-site visits")
        ordering = ["travel_started_at", "pk"]

    def __str__(self):
        return f"{self.ticket.number} · {self.engineer}"


def attachment_path(instance, filename):
    """Random names on disk: the original name is kept in the row, never trusted as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class EmergencyPlan(models.Model):
    """The emergency plan (应急方案) of a Level I fault as delivered to the customer; each revision a row."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="emergency_plans")
    plan = models.TextField(_("emergency plan"))
    delivered_by = models.ForeignKey(User, verbose_name=_("delivered by"), on_delete=models.PROTECT)
    delivered_at = models.DateTimeField(_("delivered at"), default=timezone.now)

    class Meta:
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")
        ordering = ["delivered_at", "pk"]

    def __str__(self):
        return f"{self.ticket.number} · {self.delivered_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A file on a ticket, comment or emergency plan, kept outside the static root, served through a view."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    emergency_plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(User, verbose_name=_("uploaded by"), on_delete=models.PROTECT)
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, editable=False)
    is_internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.original_name

    @staticmethod
    def digest(chunks) -> str:
        sha = hashlib.sha256()
        for chunk in chunks:
            sha.update(chunk)
        return sha.hexdigest()


class RiskApproval(models.Model):
    """A risky action (restart, deletion, reinstall): the supervisor's decision and the customer's consent."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="risk_approvals")
    risk = models.CharField(_("risky action"), max_length=32, choices=Risk.choices)
    plan = models.TextField(_("what will be done and why"))
    requested_by = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    consent_by = models.CharField(_("customer consent given by"), max_length=100, blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_note = models.TextField(_("consent note"), blank=True)

    class Meta:
        verbose_name = _("risky action approval")
        verbose_name_plural = _("risky action approvals")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.ticket.number} · {self.get_risk_display()}"

    @property
    def may_proceed(self) -> bool:
        return self.decision == Decision.APPROVED and self.consent_at is not None


class ChangeRequest(models.Model):
    """The approval of a change request ticket: by the team supervisor or, from 10 working days, a manager."""

    COMPANY_LEADER_FROM_DAYS = 10

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="change_request")
    effort_days = models.DecimalField(_("effort (working days)"), max_digits=6, decimal_places=1)
    impact = models.CharField(_("impact"), max_length=16, choices=Impact.choices)
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        constraints = [models.CheckConstraint(condition=Q(effort_days__gt=0), name="change_effort_positive")]

    def __str__(self):
        return f"{self.ticket.number} · {self.effort_days} d"

    @property
    def needs_company_leader(self) -> bool:
        return self.effort_days >= self.COMPANY_LEADER_FROM_DAYS


class FaultReport(models.Model):
    """The fault handling report (故障处理报告) for a Level I or II fault, written after resolution."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="fault_report")
    fault_class = models.CharField(_("fault class"), max_length=100)
    cause = models.TextField(_("cause"))
    method = models.TextField(_("method used"))
    loss = models.TextField(_("loss"), help_text=_("What the customer lost: downtime, data, money."))
    written_by = models.ForeignKey(User, verbose_name=_("written by"), on_delete=models.PROTECT)
    written_at = models.DateTimeField(_("written at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("fault handling report")
        verbose_name_plural = _("fault handling reports")

    def __str__(self):
        return self.ticket.number


class StagedUpload(models.Model):
    """
    A file chosen in a form that was refused: kept for the same person so that they need not choose
    it again; it becomes an attachment when the form is accepted, and is deleted after a day.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.original_name


class ServiceRating(models.Model):
    """The customer's score (5 best, 1 worst, 0 not applicable) given when confirming the resolution."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(User, verbose_name=_("rated by"), on_delete=models.PROTECT)
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("service rating")
        verbose_name_plural = _("service ratings")
        constraints = [models.CheckConstraint(condition=Q(score__lte=5), name="rating_score_0_to_5")]

    def __str__(self):
        return f"{self.ticket.number} · {self.score}"

    @property
    def score_label(self) -> str:
        """The score in words ("Very satisfied"), as the customer chose it."""
        return str(Score(self.score).label) if self.score in Score.values else str(self.score)


class SavedFilter(models.Model):
    """A ticket list filter a staff member named and keeps for later: its query string."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_filter_name_per_owner")]

    def __str__(self):
        return self.name
