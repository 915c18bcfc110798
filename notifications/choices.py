from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the application")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Group robot")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class RobotKind(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")


class RobotEvent(models.TextChoices):
    """What happens to a ticket that a group robot may post about."""

    NEW_LEVEL_1 = "new_level_1", _("New Level I fault")
    NEW_LEVEL_2 = "new_level_2", _("New Level II fault")
    WARNING = "warning", _("Deadline warning (due soon)")
    BREACH = "breach", _("Deadline breached (escalation level 1)")
    ESCALATION = "escalation", _("Further escalation (levels 2 and 3)")
