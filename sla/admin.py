from django.contrib import admin

from .models import (
    Calendar,
    Deadline,
    Escalation,
    EscalationRule,
    HolidayYear,
    Policy,
    PolicyTarget,
    SpecialDay,
    WorkingPeriod,
)


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "round_the_clock", "observes_holidays"]
    inlines = [WorkingPeriodInline]


@admin.register(SpecialDay)
class SpecialDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    """A year whose make-up working days are not yet published shows as such here."""

    list_display = ["year", "make_up_days_known", "source", "loaded_at"]


class PolicyTargetInline(admin.TabularInline):
    model = PolicyTarget
    extra = 0


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "coverage", "calendar", "warn_percent", "is_default"]
    inlines = [PolicyTargetInline]


@admin.register(PolicyTarget)
class PolicyTargetAdmin(admin.ModelAdmin):
    list_display = ["policy", "subject", "target", "minutes", "adds_travel_time"]
    list_filter = ["policy", "subject", "target"]


class EscalationInline(admin.TabularInline):
    model = Escalation
    extra = 0
    readonly_fields = ["level", "created_at", "told"]
    can_delete = False


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    """Deadlines change through the clock's services; here they are looked at."""

    list_display = ["kind", "object_id", "state", "stage", "due_at", "met_at", "paused_at"]
    list_filter = ["state", "kind", "calendar"]
    search_fields = ["kind", "object_id"]
    date_hierarchy = "due_at"
    readonly_fields = [field.name for field in Deadline._meta.fields if field.name != "id"]
    inlines = [EscalationInline]

    def has_add_permission(self, request):
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["deadline", "level", "created_at"]
    list_filter = ["level"]
    readonly_fields = ["deadline", "level", "created_at", "told"]

    def has_add_permission(self, request):
        return False


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "level", "recipients", "after_percent"]
    filter_horizontal = ["people"]
