from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .choices import RobotEvent
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


class RobotForm(forms.ModelForm):
    """The robot's events as boxes to tick; the admin adds the model's other fields."""

    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=RobotEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=Robot._meta.get_field("events").help_text,
    )

    def clean_events(self):
        # Stored in the order of the choices, whatever order the boxes came in.
        chosen = set(self.cleaned_data["events"])
        return [event for event in RobotEvent.values if event in chosen]


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    """Group robots and what each posts: events of tickets of its centres and teams."""

    form = RobotForm
    list_display = ["name", "kind", "subscribed_to", "posts_about", "is_active"]
    list_filter = ["kind", "is_active", "centres", "teams"]
    search_fields = ["name"]
    filter_horizontal = ["centres", "teams"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "url", "secret", "is_active"]}),
        (_("Subscriptions"), {"fields": ["centres", "teams", "events"]}),
    ]
    actions = ["send_test_message"]
    # Robot webhooks are https; an address typed without a scheme is taken as one.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("centres", "teams")

    @admin.display(description=_("centres and teams"))
    def subscribed_to(self, robot):
        names = [str(centre) for centre in robot.centres.all()] + [str(team) for team in robot.teams.all()]
        return ", ".join(names) or _("every centre")

    @admin.display(description=_("events"))
    def posts_about(self, robot):
        labels = dict(RobotEvent.choices)
        return ", ".join(str(labels[event]) for event in robot.events if event in labels) or _(
            "test messages only"
        )

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
