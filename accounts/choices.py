from django.db import models
from django.utils.translation import gettext_lazy as _


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


class ShiftKind(models.TextChoices):
    WEEKDAY_NIGHT = "weekday_night", _("Weekday night")
    WEEKEND = "weekend", _("Weekend")
    HOLIDAY = "holiday", _("Holiday")
