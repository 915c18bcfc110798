from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .businesstime import Schedule
from .choices import DayKind, Recipient, State, Subject, Target


def validate_zone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(_("%(name)s is not a time zone."), params={"name": name})


class Calendar(models.Model):
    """When the clock runs for a contract: weekly working periods, a time zone, holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_zone]
    )
    round_the_clock = models.BooleanField(
        _("round the clock (7x24)"), default=False, help_text=_("Every minute counts, holidays included.")
    )
    observes_holidays = models.BooleanField(
        _("observes statutory holidays and make-up working days"), default=True
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def schedule(self) -> Schedule:
        """The pure schedule the business-time functions count in, built once per content."""
        periods = tuple(self.periods.order_by("weekday", "starts").values_list("weekday", "starts", "ends"))
        special = SpecialDay.marker() if self.observes_holidays and not self.round_the_clock else ()
        return _build_schedule(self.time_zone, self.round_the_clock, periods, special)


@lru_cache(maxsize=64)
def _build_schedule(zone_name: str, round_the_clock: bool, periods: tuple, special: tuple) -> Schedule:
    zone = ZoneInfo(zone_name)
    if round_the_clock:
        return Schedule.always(zone)
    by_weekday: dict[int, list] = {}
    for weekday, starts, ends in periods:
        by_weekday.setdefault(weekday, []).append((starts, ends))
    closed = frozenset(day for day, kind in special if kind == DayKind.HOLIDAY)
    extra = frozenset(day for day, kind in special if kind == DayKind.WORKDAY)
    return Schedule.weekly_hours(zone, by_weekday, closed_dates=closed, extra_working_dates=extra)


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday, e.g. Monday 9:00–12:00."""

    WEEKDAYS = [
        (0, _("Monday")),
        (1, _("Tuesday")),
        (2, _("Wednesday")),
        (3, _("Thursday")),
        (4, _("Friday")),
        (5, _("Saturday")),
        (6, _("Sunday")),
    ]

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["calendar", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="period_ends_after_start")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class SpecialDay(models.Model):
    """A statutory holiday (closed) or a make-up working day (调休), for the calendars that observe them."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holidays and make-up working days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    @classmethod
    def marker(cls) -> tuple:
        return tuple(cls.objects.order_by("date").values_list("date", "kind"))


class HolidayYear(models.Model):
    """Which years have their holidays loaded, and whether their make-up days are published yet."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=100)
    make_up_days_known = models.BooleanField(
        _("make-up working days published"),
        default=False,
        help_text=_("The State Council publishes each year's make-up days in late autumn."),
    )
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("holiday year")
        verbose_name_plural = _("holiday years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class Policy(models.Model):
    """
    The promised times of a contract (e.g. Premium 7x24, or one customer's own numbers). Any
    number exist side by side: a contract names its policy, and one policy per coverage key is
    the default for contracts that name none.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    coverage = models.CharField(
        _("default for coverage"),
        max_length=16,
        blank=True,
        help_text=_(
            "Contracts of this coverage key (e.g. 7x24 or 5x8) that name no policy of their own get "
            "this one. Leave empty for a policy that contracts name explicitly."
        ),
    )
    calendar = models.ForeignKey(
        Calendar,
        verbose_name=_("calendar"),
        on_delete=models.PROTECT,
        help_text=_("The working hours its times count in, unless a contract names its own calendar."),
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (per cent of the time)"),
        default=75,
        help_text=_("Warn when this share of the time has passed."),
    )
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("Used for paid service, when a ticket has no contract.")
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1, warn_percent__lte=99), name="warn_percent_1_99"
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            ),
            models.UniqueConstraint(
                fields=["coverage"], condition=~Q(coverage=""), name="one_policy_per_coverage_key"
            ),
        ]

    def __str__(self):
        return self.name


class PolicyTarget(models.Model):
    """One promised time: e.g. Level I fault, on-site arrival, 60 minutes (plus travel for remote sites)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    subject = models.CharField(_("applies to"), max_length=16, choices=Subject.choices)
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    minutes = models.PositiveIntegerField(_("minutes"))
    adds_travel_time = models.BooleanField(
        _("adds the site's travel time"), default=False, help_text=_("“Travel time + 1 h” for remote sites.")
    )

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "subject", "target"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "subject", "target"], name="one_target_per_subject"),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="target_minutes_positive"),
        ]

    def __str__(self):
        return (
            f"{self.policy} · {self.get_subject_display()} · {self.get_target_display()}: {self.minutes} min"
        )


class DeadlineQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=[State.PENDING, State.WARNED, State.BREACHED])

    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)

    def due(self, now):
        """What the sweep must look at: read through the partial index on next_check_at."""
        return self.filter(next_check_at__isnull=False, next_check_at__lte=now)


class Deadline(models.Model):
    """
    One promise on one object: when it falls due in business time, when to warn, whether it was
    met. `stage` counts what the sweep has done (0 nothing, 1 warned, 2–4 escalation levels 1–3)
    and `next_check_at` is when it must look again; null when there is nothing left to do.
    """

    # The sweep rewrites a deadline at each stage, and every index costs it a write: the
    # (content_type, object_id) index below serves both of these keys, and calendars, a handful,
    # are never looked up by deadline but when one is deleted.
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=40)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, db_index=False)
    target_seconds = models.PositiveIntegerField(_("target (seconds of business time)"))
    started_at = models.DateTimeField(_("started at"))
    warn_at = models.DateTimeField(_("warn at"))
    due_at = models.DateTimeField(_("due at"))
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    stage = models.PositiveSmallIntegerField(_("stage"), default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["next_check_at"], name="deadline_due_sweep", condition=Q(next_check_at__isnull=False)
            ),
            models.Index(fields=["content_type", "object_id"], name="deadline_subject"),
            models.Index(fields=["state", "due_at"], name="deadline_state_due"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.object_id} · {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def target(self) -> timedelta:
        return timedelta(seconds=self.target_seconds)

    @property
    def is_open(self) -> bool:
        return self.state in (State.PENDING, State.WARNED, State.BREACHED)

    @property
    def escalation_level(self) -> int:
        return max(self.stage - 1, 0)

    def label(self) -> str:
        target = self.kind.split(".", 1)[-1]
        return str(Target(target).label) if target in Target.values else self.kind


class Escalation(models.Model):
    """One warning (level 0) or escalation (levels 1–3) of a deadline: exactly once each."""

    # The unique (deadline, level) constraint below is the index by deadline.
    deadline = models.ForeignKey(
        Deadline, on_delete=models.CASCADE, related_name="escalations", db_index=False
    )
    level = models.PositiveSmallIntegerField(_("level"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    told = models.JSONField(_("told"), default=list, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["deadline", "level"]
        constraints = [models.UniqueConstraint(fields=["deadline", "level"], name="escalate_once_per_level")]

    def __str__(self):
        return f"{self.deadline} · {self.level}"


class EscalationRule(models.Model):
    """Who is told at each level, for a kind of deadline (or every kind), and when after the breach."""

    kind = models.CharField(
        _("deadline kind"),
        max_length=40,
        default="*",
        help_text=_("E.g. ticket.response, or * for every kind."),
    )
    level = models.PositiveSmallIntegerField(
        _("level"), help_text=_("0 = warning, 1 = breach, 2 and 3 = further escalations.")
    )
    recipients = models.JSONField(
        _("who is told"),
        default=list,
        help_text=_(
            "A list of: assignee, team_supervisor, next_tier_team, duty_engineer, centre_manager, "
            "company_leader."
        ),
    )
    after_percent = models.PositiveSmallIntegerField(
        _("after (per cent of the target past the due time)"),
        default=0,
        help_text=_("For levels 2 and 3: how long after the breach, as a share of the target time."),
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("also tell"),
        blank=True,
        help_text=_("Named people, e.g. the company leaders."),
    )

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["kind", "level"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "level"], name="one_rule_per_kind_and_level"),
            models.CheckConstraint(condition=Q(level__lte=3), name="rule_level_0_to_3"),
        ]

    def __str__(self):
        return f"{self.kind} · {self.level}"

    def clean(self):
        unknown = [value for value in self.recipients or [] if value not in Recipient.values]
        if unknown:
            raise ValidationError({"recipients": _("Unknown: %(names)s") % {"names": ", ".join(unknown)}})
