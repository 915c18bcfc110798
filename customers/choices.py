from django.db import models
from django.utils.translation import gettext_lazy as _


class Zone(models.TextChoices):
    CITY = "city", _("In the city")
    REMOTE = "remote", _("Remote")


class Coverage(models.TextChoices):
    FULL = "7x24", _("7x24 (round the clock)")
    BUSINESS = "5x8", _("5x8 (working hours)")


class InspectionFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Every six months")
    YEARLY = "yearly", _("Yearly")
    NONE = "none", _("No inspections")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    EXPIRED = "expired", _("Expired")


class Scope(models.TextChoices):
    """What a contract covers: all service work, or only repairs under warranty."""

    SERVICE = "service", _("All service work")
    WARRANTY = "warranty", _("Warranty repairs only")


class PaidService(models.TextChoices):
    """How work that no contract or warranty covers is charged."""

    PER_CALL = "per_call", _("Per call")
    PER_YEAR = "per_year", _("Per year (annual paid-service agreement)")


class FaultArea(models.TextChoices):
    """What a fault concerns: the warranty of that part decides when no service contract does."""

    HARDWARE = "hardware", _("Hardware")
    SYSTEM = "system", _("System / software")


class Billing(models.TextChoices):
    """Whether the work on a ticket is covered, or charged and how."""

    CONTRACT = "contract", _("Covered by the service contract")
    WARRANTY = "warranty", _("Covered by the warranty")
    PER_CALL = "per_call", _("Charged per call")
    PER_YEAR = "per_year", _("Charged per year (annual paid service)")
