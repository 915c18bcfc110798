from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import SupportCentre

from .choices import ContractStatus, Coverage, InspectionFrequency, PaidService, Scope, Zone


class Organisation(models.Model):
    """A customer unit (用户单位) that holds service contracts."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The one organisation of calls whose customer is not known yet ("customer to be confirmed"):
    # the desk logs them for triage and names the real customer later.
    is_placeholder = models.BooleanField(_("customer to be confirmed"), default=False, editable=False)

    class Meta:
        verbose_name = _("customer organisation")
        verbose_name_plural = _("customer organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_placeholder"],
                condition=models.Q(is_placeholder=True),
                name="one_placeholder_organisation",
            )
        ]

    def __str__(self):
        # The customer to be confirmed reads in the reader's language; its stored name is Chinese.
        return str(_("Customer to be confirmed")) if self.is_placeholder else self.name


class Site(models.Model):
    """A place where a customer's equipment is installed, served by one support centre."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="sites"
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    city = models.CharField(_("city"), max_length=50)
    centre = models.ForeignKey(
        SupportCentre,
        verbose_name=_("support centre"),
        on_delete=models.PROTECT,
        related_name="sites",
    )
    zone = models.CharField(_("zone"), max_length=8, choices=Zone.choices, default=Zone.CITY)
    travel_minutes = models.PositiveIntegerField(
        _("travel time (minutes)"),
        default=0,
        help_text=_("From the support centre to the site; on-site targets for remote sites add it."),
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="site_name_unique_per_organisation"
            ),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.name}"


class Contact(models.Model):
    """A person at a customer organisation; with a user, they sign in to the portal."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    fax = models.CharField(_("fax"), max_length=32, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organisation__name", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        # A portal user of the customer to be confirmed would see every unidentified caller's call.
        if self.user_id and self.organisation_id and self.organisation.is_placeholder:
            raise ValidationError(
                {
                    "user": _(
                        "The customer to be confirmed has no portal users: link the user to a real customer."
                    )
                }
            )


class ContractQuerySet(models.QuerySet):
    def lapsed(self, today):
        """Contracts still marked active or suspended whose end date has passed."""
        return self.exclude(status=ContractStatus.EXPIRED).filter(ends_on__lt=today)


class Contract(models.Model):
    """A service contract (服务合同): what is covered, when, and how often we inspect and train."""

    number = models.CharField(_("contract number"), max_length=40, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    coverage = models.CharField(
        _("coverage"), max_length=8, choices=Coverage.choices, default=Coverage.BUSINESS
    )
    policy = models.ForeignKey(
        "sla.Policy",
        verbose_name=_("SLA policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        help_text=_("The promised times of this contract. Empty: the default policy of its coverage."),
    )
    calendar = models.ForeignKey(
        "sla.Calendar",
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        help_text=_("The working hours its deadlines count in. Empty: the policy's calendar."),
    )
    hardware_warranty_ends_on = models.DateField(_("hardware warranty ends on"), null=True, blank=True)
    system_warranty_ends_on = models.DateField(_("system warranty ends on"), null=True, blank=True)
    scope = models.CharField(
        _("covers"),
        max_length=16,
        choices=Scope.choices,
        default=Scope.SERVICE,
        help_text=_("Warranty repairs only: outside the warranty dates the work is paid service."),
    )
    paid_service = models.CharField(
        _("paid service"),
        max_length=16,
        choices=PaidService.choices,
        default=PaidService.PER_CALL,
        help_text=_("How work the contract does not cover is charged while it is in force."),
    )
    trainings_per_year = models.PositiveSmallIntegerField(_("trainings per year"), default=1)
    inspection_frequency = models.CharField(
        _("inspection frequency"),
        max_length=16,
        choices=InspectionFrequency.choices,
        default=InspectionFrequency.MONTHLY,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-starts_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="contract_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.number

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A contract cannot end before it starts.")})


class Equipment(models.Model):
    """An installed device or system, identified by its serial number."""

    model_name = models.CharField(_("model"), max_length=100)
    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="equipment")
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="equipment",
    )
    software_version = models.CharField(_("OS / version"), max_length=100, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    hardware_warranty_ends_on = models.DateField(_("hardware warranty ends on"), null=True, blank=True)
    system_warranty_ends_on = models.DateField(_("system warranty ends on"), null=True, blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["serial_number"]

    def __str__(self):
        return f"{self.model_name} · {self.serial_number}"

    @property
    def organisation(self) -> Organisation:
        return self.site.organisation

    def clean(self):
        if self.contract_id and self.site_id and self.contract.organisation_id != self.site.organisation_id:
            raise ValidationError(
                {"contract": _("The contract belongs to another organisation than the site.")}
            )
