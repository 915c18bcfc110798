from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Notification, Robot


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read only: rows are written by services and changed by delivery."""

    list_display = [
        "recipient",
        "robot",
        "channel",
        "status",
        "kind",
        "subject",
        "created_at",
        "attempts",
    ]
    list_filter = ["channel", "status", "kind"]
    search_fields = ["subject"]
    list_select_related = ["recipient", "robot"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "centre", "team", "is_active"]
    list_filter = ["kind", "is_active", "centre"]
    search_fields = ["name"]
    actions = ["send_test_message"]
    # Robot webhooks are https; an address typed without a scheme is taken as one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.action(description=_("Send a test message"))
    def send_test_message(self, request, queryset):
        rows = services.queue_robot(
            queryset,
            kind="robot.test",
            subject=_("Test message"),
            body=_("If you can read this in the group, the robot works."),
        )
        self.message_user(
            request,
            ngettext("%(count)d test message queued.", "%(count)d test messages queued.", len(rows))
            % {"count": len(rows)},
        )
