from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Portal")
    IM = "im", _("Instant message")
    ON_SITE = "on_site", _("On site")


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    FAULT = "fault", _("Fault")
    SUGGESTION = "suggestion", _("Non-fault suggestion")
    CHANGE = "change", _("Change request")
    COMPLAINT = "complaint", _("Complaint")


# What a customer files, on the portal or through the API: a change request is agreed with the
# desk, which puts it up for approval.
CUSTOMER_KINDS = (Kind.CONSULTATION, Kind.FAULT, Kind.SUGGESTION, Kind.COMPLAINT)
CUSTOMER_KIND_CHOICES = [(value, label) for value, label in Kind.choices if value in CUSTOMER_KINDS]


class Level(models.IntegerChoices):
    I = 1, _("Level I")  # noqa: E741 - the fault levels are named I to IV in every service plan
    II = 2, _("Level II")
    III = 3, _("Level III")
    IV = 4, _("Level IV")


LEVEL_DESCRIPTIONS = {
    Level.I: _("System down or data lost: the customer's business has stopped."),
    Level.II: _("A core function is impaired or performance badly degraded: business is seriously affected."),
    Level.III: _("Part of a function is impaired or errors are shown: most work goes on."),
    Level.IV: _("A question about information, installation or configuration: no business impact."),
}


class Urgency(models.TextChoices):
    GENERAL = "general", _("General")
    URGENT = "urgent", _("Urgent")
    VERY_URGENT = "very_urgent", _("Very urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_SITE = "on_site", pgettext_lazy("ticket status", "On site")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.ON_SITE,
    Status.WAITING_CUSTOMER,
    Status.WAITING_PARTS,
    Status.REOPENED,
)


class ProblemType(models.TextChoices):
    TECHNICAL = "technical", _("Technical problem")
    BUSINESS = "business", _("Business problem")
    OPERATIONAL = "operational", _("Operational problem")


class WorkMethod(models.TextChoices):
    PHONE = "phone", _("Phone guidance")
    REMOTE = "remote", _("Remote access")
    ON_SITE = "on_site", _("On site")


class Risk(models.TextChoices):
    RESTART_SERVER = "restart_server", _("Restart of a key server")
    RESTART_DATABASE = "restart_database", _("Restart of a database")
    DATA_DELETION = "data_deletion", _("Data deletion")
    REINSTALL = "reinstall", _("Reinstallation")


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class Impact(models.TextChoices):
    MINOR = "minor", _("Minor")
    IMPORTANT = "important", _("Important")
    MAJOR = "major", _("Major")


class Event(models.TextChoices):
    """What a timeline row records."""

    LOGGED = "logged", _("Call logged")
    FILED = "filed", _("Submitted on the portal")
    CUSTOMER_IDENTIFIED = "customer_identified", _("Customer identified")
    RATED = "rated", _("Service rated")
    ANSWERED = "answered", _("Answered on the spot")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    RESPONDED = "responded", _("Responded")
    TRAVEL_STARTED = "travel_started", _("Travel started")
    ARRIVED = "arrived", _("Arrived on site")
    DEPARTED = "departed", _("Left the site")
    WORK_LOGGED = "work_logged", _("Work logged")
    PAUSED = "paused", _("Waiting for the customer")
    RESUMED = "resumed", _("Resumed")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    WORKAROUND = "workaround", _("Workaround given")
    ANALYSED = "analysed", _("Analysed")
    RESOLVED = "resolved", _("Resolved")
    CONFIRMED = "confirmed", _("Resolution confirmed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed")
    COMMENTED = "commented", _("Comment")
    ATTACHED = "attached", _("File attached")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested for a risky action")
    APPROVAL_DECIDED = "approval_decided", _("Risky action decided")
    CONSENT_RECORDED = "consent_recorded", _("Customer consent recorded")
    CHANGE_REQUESTED = "change_requested", _("Change request submitted")
    CHANGE_DECIDED = "change_decided", _("Change request decided")
    REPORT_WRITTEN = "report_written", _("Fault handling report written")
    UPDATED = "updated", _("Details updated")
    SLA_WARNING = "sla_warning", _("Deadline close")
    ESCALATED = "escalated", _("Escalated")
    AUTO_CLOSED = "auto_closed", _("Closed automatically")
    EMERGENCY_PLAN = "emergency_plan", _("Emergency plan delivered")
    BILLING_CHANGED = "billing_changed", _("Billing changed")


class Score(models.IntegerChoices):
    """The customer's rating of the service when confirming a resolution (`ServiceRating.score`)."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    NEUTRAL = 3, _("Neutral")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")
    NOT_APPLICABLE = 0, _("Not applicable")
