from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Statutory holiday (closed)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class Target(models.TextChoices):
    """What a promise is about; each becomes a deadline kind `ticket.<target>`."""

    RESPONSE = "response", _("First response")
    ARRIVAL = "arrival", _("On-site arrival")
    # The clocks read as promises kept (临时方案, 故障恢复), not as the ticket's text fields.
    WORKAROUND = "workaround", pgettext_lazy("deadline", "Workaround")
    RESOLUTION = "resolution", pgettext_lazy("deadline", "Resolution")
    REPORT = "report", _("Fault handling report")
    EMERGENCY_PLAN = "emergency_plan", _("Emergency plan")


class Subject(models.TextChoices):
    """Which tickets a target applies to: a fault level, or a class of non-fault ticket."""

    LEVEL_1 = "level_1", _("Level I fault")
    LEVEL_2 = "level_2", _("Level II fault")
    LEVEL_3 = "level_3", _("Level III fault")
    LEVEL_4 = "level_4", _("Level IV fault")
    COMPLAINT = "complaint", _("Complaint")
    NON_FAULT = "non_fault", _("Consultation, suggestion or change request")


class State(models.TextChoices):
    PENDING = "pending", _("Pending")
    WARNED = "warned", _("Warned")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met in time")
    MET_LATE = "met_late", _("Met late")
    CANCELLED = "cancelled", _("Not needed")
    MISSED = "missed", _("Missed (lapsed, then no longer owed)")


OPEN_STATES = (State.PENDING, State.WARNED, State.BREACHED)


class Recipient(models.TextChoices):
    """Who an escalation rule tells."""

    ASSIGNEE = "assignee", _("The assignee")
    TEAM_SUPERVISOR = "team_supervisor", _("The team supervisor")
    NEXT_TIER_TEAM = "next_tier_team", _("The next tier's team (the ticket moves up)")
    DUTY_ENGINEER = "duty_engineer", _("The engineer on duty at the site's centre")
    CENTRE_MANAGER = "centre_manager", _("The centre manager")
    COMPANY_LEADER = "company_leader", _("A company leader")
