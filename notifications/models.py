from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Channel, RobotEvent, RobotKind, Status


def every_event() -> list[str]:
    """A new robot posts about every event of the centres and teams it is given."""
    return list(RobotEvent.values)


class Robot(models.Model):
    """
    A DingTalk or WeCom group robot: a webhook that posts messages into one chat group, about the
    ticket events it subscribes to for its centres and teams.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=RobotKind.choices)
    url = models.URLField(
        _("webhook address"),
        max_length=500,
        help_text=_("The robot's webhook address, with its access token."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk only: the secret of the robot's signature (加签) security setting."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    centres = models.ManyToManyField(
        "accounts.SupportCentre",
        verbose_name=_("support centres"),
        blank=True,
        related_name="robots",
        help_text=_(
            "The robot posts about tickets of these centres (a ticket's centre is its site's, "
            "else its team's). With no centre and no team it posts about every centre."
        ),
    )
    teams = models.ManyToManyField(
        "accounts.Team",
        verbose_name=_("teams"),
        blank=True,
        related_name="robots",
        help_text=_(
            "The robot also posts about tickets of these teams: the team a ticket is with, and "
            "on an escalation the team it leaves."
        ),
    )
    events = models.JSONField(
        _("events"),
        default=every_event,
        blank=True,
        help_text=_("What the robot posts about. With none ticked it posts only test messages."),
    )

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["name"]

    def __str__(self):
        return self.name


class NotificationQuerySet(models.QuerySet):
    def inbox(self, user):
        """The in-app notifications of `user`, newest first."""
        return self.filter(recipient=user, channel=Channel.IN_APP).order_by("-created_at", "-pk")

    def unread(self):
        return self.filter(channel=Channel.IN_APP, read_at__isnull=True)

    def pending(self):
        return self.filter(status=Status.PENDING)


class Notification(models.Model):
    """
    One message in the outbox: to one user on one channel, to one group robot, or an e-mail to
    an address of someone without an account (a customer contact without a portal account).

    Rows are written in the transaction of the change that caused them and delivered after it
    commits; in-app rows are sent as soon as they are written.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        # The in-app (recipient, read_at) index below serves every lookup by recipient.
        db_index=False,
    )
    robot = models.ForeignKey(
        Robot,
        verbose_name=_("group robot"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,  # the partial index below: most rows are a user's, with no robot
    )
    address = models.EmailField(
        _("e-mail address"),
        blank=True,
        help_text=_("For an e-mail to someone without an account: their address."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    kind = models.CharField(
        _("kind"), max_length=100, help_text=_("What the message is about, e.g. ticket.assigned.")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True, help_text=_("A path inside the site."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        null=True,
        blank=True,
        help_text=_("A pending message is not tried again before this time."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    dedupe_key = models.CharField(
        _("deduplication key"),
        max_length=200,
        blank=True,
        help_text=_("A message with the same key is queued only once."),
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The delivery sweep reads only pending rows, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(status=Status.PENDING),
                name="notification_pending_idx",
            ),
            # Every read by recipient is of in-app messages (the bell, the list): e-mails need no entry.
            models.Index(
                fields=["recipient", "read_at"],
                condition=Q(channel=Channel.IN_APP),
                name="notification_in_app_idx",
            ),
            models.Index(fields=["robot"], condition=Q(robot__isnull=False), name="notification_robot_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            ),
            models.CheckConstraint(
                condition=Q(channel=Channel.WEBHOOK, robot__isnull=False)
                | (~Q(channel=Channel.WEBHOOK) & Q(recipient__isnull=False))
                | (Q(channel=Channel.EMAIL) & ~Q(address="")),
                name="notification_has_an_addressee",
            ),
        ]

    def __str__(self):
        addressee = self.recipient or self.robot or self.address
        return f"{self.get_channel_display()} · {addressee} · {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
