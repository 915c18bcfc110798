from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import STAFF_ROLES, Role, ShiftKind, Tier


class User(AbstractUser):
    """A person who signs in: staff of the service organisation or a customer's user."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    is_company_leader = models.BooleanField(
        _("company leader"),
        default=False,
        help_text=_("Told when a Level I fault escalates to the top; approves large changes."),
    )
    is_desk_fallback = models.BooleanField(
        _("desk fallback"),
        default=False,
        help_text=_(
            "Told of any deadline warning or escalation that would otherwise reach nobody (no "
            "assignee, team supervisor or centre manager to tell)."
        ),
    )
    centre = models.ForeignKey(
        "accounts.SupportCentre",
        verbose_name=_("support centre"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("The centre a staff member works for."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_service_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER


class SupportCentre(models.Model):
    """A regional support centre (e.g. Nanjing: East and Central China) and its manager."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_centres",
    )
    hotline = models.CharField(_("hotline"), max_length=32, blank=True)
    duty_phone = models.CharField(_("duty phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("support centre")
        verbose_name_plural = _("support centres")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Province(models.Model):
    """A province (or municipality) and the one centre that covers it."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    centre = models.ForeignKey(
        SupportCentre,
        verbose_name=_("support centre"),
        on_delete=models.PROTECT,
        related_name="provinces",
    )

    class Meta:
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Team(models.Model):
    """A support team of one tier in one centre, with its supervisor and members."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    centre = models.ForeignKey(
        SupportCentre,
        verbose_name=_("support centre"),
        on_delete=models.PROTECT,
        related_name="teams",
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.LOCAL)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="teams", blank=True
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["centre__name", "tier", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="team_tier_1_to_3"),
        ]

    def __str__(self):
        return self.name


class ShiftQuerySet(models.QuerySet):
    def covering(self, moment):
        """Shifts running at `moment`: started at or before it, ending after it."""
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class Shift(models.Model):
    """One entry of the duty roster (值班表): who answers for a centre from one time to another."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer on duty"),
        on_delete=models.CASCADE,
        related_name="shifts",
    )
    centre = models.ForeignKey(
        SupportCentre,
        verbose_name=_("support centre"),
        on_delete=models.CASCADE,
        related_name="shifts",
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    kind = models.CharField(_("kind"), max_length=16, choices=ShiftKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["centre", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.user} · {self.centre} · {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift must end after it starts.")})
