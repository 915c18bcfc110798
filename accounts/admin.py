from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Province, Shift, SupportCentre, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "centre", "phone", "is_active"]
    list_filter = ["role", "centre", "is_active", "is_staff", "is_company_leader", "is_desk_fallback"]
    search_fields = ["username", "display_name", "first_name", "last_name", "phone", "email"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (
            _("Service desk"),
            {"fields": ["display_name", "phone", "role", "centre", "is_company_leader", "is_desk_fallback"]},
        ),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("Service desk"), {"fields": ["display_name", "phone", "role", "centre"]}),
    ]


class ProvinceInline(admin.TabularInline):
    model = Province
    extra = 1


@admin.register(SupportCentre)
class SupportCentreAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "manager", "hotline", "duty_phone"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["manager"]
    inlines = [ProvinceInline]


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["name", "centre"]
    list_filter = ["centre"]
    search_fields = ["name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "centre", "tier", "supervisor"]
    list_filter = ["centre", "tier"]
    search_fields = ["name"]
    autocomplete_fields = ["supervisor"]
    filter_horizontal = ["members"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "ends_at", "centre", "user", "kind"]
    list_filter = ["centre", "kind"]
    date_hierarchy = "starts_at"
    search_fields = ["user__username", "user__display_name", "note"]
    autocomplete_fields = ["user"]
