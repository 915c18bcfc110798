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
