from django.contrib import admin

from .models import Contact, Contract, Equipment, Organisation, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ["name", "city", "centre", "zone", "travel_minutes"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "phone", "email", "fax", "user"]
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name"]
    search_fields = ["name", "short_name"]
    inlines = [SiteInline, ContactInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "city", "centre", "zone", "travel_minutes"]
    list_filter = ["centre", "zone"]
    search_fields = ["name", "organisation__name", "city", "address"]
    autocomplete_fields = ["organisation"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "phone", "email", "user"]
    search_fields = ["name", "phone", "email", "organisation__name"]
    autocomplete_fields = ["organisation"]
    raw_id_fields = ["user"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "organisation", "coverage", "policy", "starts_on", "ends_on", "status"]
    list_filter = ["status", "coverage", "policy", "inspection_frequency"]
    search_fields = ["number", "organisation__name"]
    date_hierarchy = "ends_on"
    autocomplete_fields = ["organisation"]


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = [
        "serial_number",
        "model_name",
        "site",
        "contract",
        "hardware_warranty_ends_on",
        "system_warranty_ends_on",
    ]
    list_filter = ["site__centre"]
    search_fields = ["serial_number", "model_name", "site__name", "site__organisation__name"]
    autocomplete_fields = ["site", "contract"]
