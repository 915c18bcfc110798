from django.contrib import admin

from .models import (
    Attachment,
    ChangeRequest,
    Comment,
    EmergencyPlan,
    FaultReport,
    RiskApproval,
    SavedFilter,
    ServiceRating,
    StagedUpload,
    Ticket,
    TicketCounter,
    TimelineEvent,
    Visit,
    WorkLog,
)


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "note", "before", "after", "is_internal"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: tickets change through their acts (the pages and the API), which keep the timeline."""

    list_display = [
        "number",
        "title",
        "organisation",
        "kind",
        "level",
        "status",
        "tier",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "kind", "level", "urgency", "channel", "tier", "centre", "billing"]
    search_fields = ["number", "title", "organisation__name", "equipment__serial_number"]
    date_hierarchy = "created_at"
    raw_id_fields = [
        "organisation",
        "site",
        "contact",
        "contract",
        "equipment",
        "team",
        "assignee",
        "logged_by",
    ]
    readonly_fields = [field.name for field in Ticket._meta.fields]
    inlines = [TimelineInline]

    def has_add_permission(self, request):
        return False


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at", "is_internal"]
    list_filter = ["kind", "is_internal"]
    search_fields = ["ticket__number", "note"]
    readonly_fields = [
        "ticket",
        "kind",
        "actor",
        "created_at",
        "note",
        "before",
        "after",
        "is_internal",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["ticket", "author", "is_internal", "created_at"]
    list_filter = ["is_internal"]
    search_fields = ["ticket__number", "body"]
    raw_id_fields = ["ticket", "author"]


@admin.register(WorkLog)
class WorkLogAdmin(admin.ModelAdmin):
    list_display = ["ticket", "engineer", "method", "minutes", "created_at"]
    list_filter = ["method"]
    search_fields = ["ticket__number"]
    raw_id_fields = ["ticket", "engineer"]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["ticket", "engineer", "travel_started_at", "arrived_at", "departed_at"]
    search_fields = ["ticket__number"]
    raw_id_fields = ["ticket", "engineer"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "ticket", "content_type", "size", "uploaded_by", "created_at"]
    search_fields = ["original_name", "ticket__number"]
    raw_id_fields = ["ticket", "comment", "uploaded_by"]
    readonly_fields = ["file", "sha256"]


@admin.register(RiskApproval)
class RiskApprovalAdmin(admin.ModelAdmin):
    list_display = ["ticket", "risk", "decision", "requested_by", "decided_by", "consent_at"]
    list_filter = ["risk", "decision"]
    raw_id_fields = ["ticket", "requested_by", "decided_by"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ["ticket", "effort_days", "impact", "decision", "decided_by"]
    list_filter = ["impact", "decision"]
    raw_id_fields = ["ticket", "decided_by"]


@admin.register(FaultReport)
class FaultReportAdmin(admin.ModelAdmin):
    list_display = ["ticket", "fault_class", "written_by", "written_at"]
    raw_id_fields = ["ticket", "written_by"]


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(admin.ModelAdmin):
    list_display = ["ticket", "delivered_by", "delivered_at"]
    raw_id_fields = ["ticket", "delivered_by"]
    date_hierarchy = "delivered_at"


@admin.register(TicketCounter)
class TicketCounterAdmin(admin.ModelAdmin):
    list_display = ["year", "last"]


@admin.register(ServiceRating)
class ServiceRatingAdmin(admin.ModelAdmin):
    list_display = ["ticket", "score", "rated_by", "rated_at"]
    list_filter = ["score"]
    search_fields = ["ticket__number", "comment"]
    raw_id_fields = ["ticket", "rated_by"]
    date_hierarchy = "rated_at"


@admin.register(StagedUpload)
class StagedUploadAdmin(admin.ModelAdmin):
    """Files kept from refused portal forms; deleted after a day by the beat."""

    list_display = ["original_name", "owner", "content_type", "size", "created_at"]
    search_fields = ["original_name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["file", "sha256"]


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    """The ticket list filters people named and kept."""

    list_display = ["name", "owner", "query", "created_at"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
