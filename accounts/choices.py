from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    AGENT = "agent", _("Hotline agent")
    ENGINEER = "engineer", _("Engineer")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = (Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN)


class Tier(models.IntegerChoices):
    LOCAL = 1, _("Tier 1 · local service specialist")
    DEDICATED = 2, _("Tier 2 · dedicated maintenance team")
    EXPERT = 3, _("Tier 3 · product and technical experts")


# A tier's short name, as staff say it: "Tier 2" (二线). Customers are never shown a tier.
TIER_NAMES = {
    Tier.LOCAL: pgettext_lazy("support tier", "Tier 1"),
    Tier.DEDICATED: pgettext_lazy("support tier", "Tier 2"),
    Tier.EXPERT: pgettext_lazy("support tier", "Tier 3"),
}


def tier_name(tier) -> str:
    """The short name of support tier 1, 2 or 3 in the current language; other values as they are."""
    try:
        return str(TIER_NAMES[int(tier)])
    except (KeyError, TypeError, ValueError):
        return str(tier)


class ShiftKind(models.TextChoices):
    WEEKDAY_NIGHT = "weekday_night", _("Weekday night")
    WEEKEND = "weekend", _("Weekend")
    HOLIDAY = "holiday", _("Holiday")
