"""
The deadline clock: open, meet, pause, resume and cancel deadlines, and the sweep that warns
and escalates. Other apps call these; `sla` never imports them (see `registry`).
"""

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from servicedesk.bulk import insert_rows, update_rows

from . import registry
from .businesstime import add_business_time, business_time_between
from .choices import State, Target
from .models import Calendar, Deadline, Escalation, EscalationRule, Policy, PolicyTarget

log = logging.getLogger(__name__)

LAST_LEVEL = 3


def policy_for(coverage: str | None) -> Policy | None:
    """
    The default policy of a coverage key, for a contract that names no policy of its own, or
    the default policy (paid service).
    """
    policies = Policy.objects.select_related("calendar")
    if coverage:
        policy = policies.filter(coverage=coverage).first()
        if policy:
            return policy
    return policies.filter(is_default=True).first()


def open_deadlines(
    obj,
    *,
    prefix: str,
    policy: Policy | None,
    subject: str,
    targets: list[str],
    start: datetime,
    travel: timedelta = timedelta(),
    calendar: Calendar | None = None,
) -> list[Deadline]:
    """
    Open one deadline per target the policy promises for `subject`; targets it lacks are skipped.
    The deadline keeps its target and calendar: editing the policy later never moves it.
    `calendar` (a contract's own working hours) replaces the policy's.
    """
    if policy is None:
        return []
    calendar = calendar or policy.calendar
    rows = PolicyTarget.objects.filter(policy=policy, subject=subject, target__in=targets)
    schedule = calendar.schedule()
    content_type = ContentType.objects.get_for_model(obj)
    deadlines = []
    for row in rows:
        duration = timedelta(minutes=row.minutes) + (travel if row.adds_travel_time else timedelta())
        due = add_business_time(start, duration, schedule)
        warn = add_business_time(start, duration * policy.warn_percent / 100, schedule)
        deadlines.append(
            Deadline(
                content_type=content_type,
                object_id=obj.pk,
                kind=f"{prefix}.{row.target}",
                calendar=calendar,
                target_seconds=int(duration.total_seconds()),
                started_at=start,
                warn_at=warn,
                due_at=due,
                next_check_at=warn,
            )
        )
    return Deadline.objects.bulk_create(deadlines)


def meet(obj, kinds: list[str], *, at: datetime) -> int:
    """The promise was kept (or kept late): the open deadlines of these kinds stop."""
    met = 0
    for deadline in Deadline.objects.for_object(obj).open().filter(kind__in=kinds):
        deadline.met_at = at
        deadline.state = State.MET if at <= deadline.due_at else State.MET_LATE
        deadline.next_check_at = None
        deadline.paused_at = None
        deadline.save(update_fields=["met_at", "state", "next_check_at", "paused_at"])
        met += 1
    return met


def cancel(obj, kinds: list[str] | None = None, *, at: datetime | None = None) -> int:
    """
    The object no longer needs these promises (a cancelled or closed ticket, an arrival that a
    remote fix made unnecessary). A promise whose time had already passed stays on record as
    missed, never as not needed: a breach is never wiped out.
    """
    at = at or timezone.now()
    deadlines = Deadline.objects.for_object(obj).open()
    if kinds is not None:
        deadlines = deadlines.filter(kind__in=kinds)
    lapsed = deadlines.filter(due_at__lte=at).update(state=State.MISSED, next_check_at=None, paused_at=None)
    return lapsed + deadlines.update(state=State.CANCELLED, next_check_at=None, paused_at=None)


def pause(obj, *, at: datetime) -> int:
    """
    Waiting for the customer: the clock stops on every open deadline of the object that has not
    lapsed yet. A deadline already breached stays breached (and keeps escalating): the wait
    began after the promise was broken.
    """
    return (
        Deadline.objects.for_object(obj)
        .open()
        .filter(paused_at__isnull=True, due_at__gt=at)
        .update(paused_at=at, next_check_at=None)
    )


def resume(obj, *, at: datetime) -> int:
    """The clock runs again: each paused deadline moves by the business time it was paused."""
    resumed = 0
    rules = Rules()
    for deadline in (
        Deadline.objects.for_object(obj).open().filter(paused_at__isnull=False).select_related("calendar")
    ):
        schedule = rules.schedule(deadline.calendar)
        paused = business_time_between(deadline.paused_at, at, schedule)
        deadline.warn_at = add_business_time(deadline.warn_at, paused, schedule)
        deadline.due_at = add_business_time(deadline.due_at, paused, schedule)
        deadline.paused_at = None
        deadline.next_check_at = next_check(deadline, deadline.stage, rules)
        deadline.save(update_fields=["warn_at", "due_at", "paused_at", "next_check_at"])
        resumed += 1
    return resumed


class Rules:
    """
    What one sweep reads once: the escalation rules (a kind's own rule, else the rule for every
    kind) and each calendar's schedule.
    """

    def __init__(self):
        self.rules = {
            (rule.kind, rule.level): rule for rule in EscalationRule.objects.prefetch_related("people")
        }
        self.schedules = {}
        self.calendars = {}

    def calendar(self, pk: int) -> Calendar:
        if pk not in self.calendars:  # a handful in all: read them at once, again if one is new
            self.calendars = Calendar.objects.in_bulk()
        return self.calendars[pk]

    def get(self, kind: str, level: int) -> EscalationRule | None:
        return self.rules.get((kind, level)) or self.rules.get(("*", level))

    def schedule(self, calendar):
        if calendar.pk not in self.schedules:
            self.schedules[calendar.pk] = calendar.schedule()
        return self.schedules[calendar.pk]


def next_check(deadline: Deadline, stage: int, rules: Rules) -> datetime | None:
    """When the sweep must look at the deadline again after reaching `stage`."""
    if stage == 0:
        return deadline.warn_at
    if stage == 1:
        return deadline.due_at
    level = stage  # stage 2 has escalated level 1; the next is level 2
    if level > LAST_LEVEL:
        return None
    rule = rules.get(deadline.kind, level)
    if rule is None:
        return None
    delay = deadline.target * rule.after_percent / 100
    return add_business_time(deadline.due_at, delay, rules.schedule(deadline.calendar))


# What the sweep reads of a deadline (its handler gets these too).
SWEPT_FIELDS = (
    "content_type",
    "object_id",
    "kind",
    "calendar",
    "target_seconds",
    "warn_at",
    "due_at",
    "stage",
    "state",
    "next_check_at",
)
STATE_AFTER = {1: State.WARNED, 2: State.BREACHED, 3: State.BREACHED, 4: State.BREACHED}


@dataclass
class Step:
    """One thing a sweep does: warn about a deadline (level 0) or escalate it (levels 1–3)."""

    deadline: Deadline
    level: int
    rule: EscalationRule | None
    told: list = field(default_factory=list)  # the handler fills in who it told


@dataclass
class SweepResult:
    warned: int = 0
    escalated: Counter = field(default_factory=Counter)
    lost_races: int = 0

    def add(self, other: "SweepResult") -> "SweepResult":
        self.warned += other.warned
        self.escalated.update(other.escalated)
        self.lost_races += other.lost_races
        return self

    def as_dict(self) -> dict:
        return {
            "warned": self.warned,
            "escalated": {str(level): count for level, count in sorted(self.escalated.items())},
            "lost_races": self.lost_races,
        }


def sweep(*, now: datetime | None = None, batch_size: int = 1000, workers: int | None = None) -> SweepResult:
    """
    Warn and escalate every deadline whose next check has come, in batches of one transaction
    each; a batch costs a fixed number of queries, whatever its size.

    A batch is claimed by locking its rows (FOR UPDATE SKIP LOCKED: a concurrent sweep takes
    other rows) and is written as a whole: escalation rows, deadlines, tickets, timelines and
    messages in bulk. A batch that fails rolls back whole and the next sweep does it again; the
    unique (deadline, level) constraint keeps a level from being acted on twice even where the
    database cannot lock rows (SQLite): such a batch is refused whole and counted as lost races.

    On PostgreSQL, outside a transaction, `workers` threads (settings.SLA_SWEEP_WORKERS) each
    take batches until none is left: the database writes one batch while Python prepares the next.
    """
    now = now or timezone.now()
    workers = workers or settings.SLA_SWEEP_WORKERS
    result, more = _sweep_batches(now, batch_size, once=True)
    if not more:
        return result  # the usual minute: one batch or less, in this thread
    if workers < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return result.add(_sweep_batches(now, batch_size)[0])
    # More is due than one batch: helpers take batches beside this thread until none is left.
    with ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="sla-sweep") as pool:
        helpers = [pool.submit(_in_own_connection, now, batch_size) for _ in range(workers - 1)]
        result.add(_sweep_batches(now, batch_size)[0])
        for helper in helpers:
            result.add(helper.result())
    return result


def _in_own_connection(now: datetime, batch_size: int) -> SweepResult:
    try:
        return _sweep_batches(now, batch_size)[0]
    finally:
        connection.close()  # this thread's own connection


def _sweep_batches(now: datetime, batch_size: int, *, once: bool = False) -> tuple[SweepResult, bool]:
    """Take batches until one comes back short (or after one, `once`); True if more may be due."""
    result = SweepResult()
    rules = None
    while True:
        batch: list[Deadline] = []
        try:
            with transaction.atomic():
                due = Deadline.objects.due(now).order_by("next_check_at")
                if connection.features.has_select_for_update_skip_locked:
                    due = due.select_for_update(skip_locked=True, of=("self",))
                batch = list(due.only(*SWEPT_FIELDS)[:batch_size])
                if not batch:
                    return result, False
                rules = rules or Rules()
                for deadline in batch:  # a handful of calendars: read once per sweep
                    deadline.calendar = rules.calendar(deadline.calendar_id)
                done, skipped = _advance(batch, now, rules)
        except (IntegrityError, OperationalError) as exc:
            if not _lost_race(exc):
                raise
            # Another sweep has these deadlines: it recorded one of them first, or (SQLite, which
            # cannot lock rows) it holds the database. It does them; stop here.
            log.info("Sweep lost a race for a batch of %s deadlines", len(batch) or "unread")
            result.lost_races += len(batch) or 1
            return result, False
        result.lost_races += skipped
        for step in done:
            if step.level == 0:
                result.warned += 1
            else:
                result.escalated[step.level] += 1
        if len(batch) < batch_size:
            return result, False
        if once:
            return result, True


def _lost_race(exc: Exception) -> bool:
    """The unique (deadline, level) refused a row, or another SQLite writer holds the database."""
    if isinstance(exc, OperationalError):
        return connection.vendor == "sqlite" and "locked" in str(exc)
    return "escalate_once_per_level" in str(exc) or "sla_escalation.deadline_id" in str(exc)


def _advance(batch: list[Deadline], now: datetime, rules: Rules) -> tuple[list[Step], int]:
    """
    Take each deadline through every stage whose time has come. Returns the steps done, and how
    many were skipped because their (deadline, level) is recorded already (another worker did it).
    """
    steps = []
    for deadline in batch:
        while deadline.next_check_at is not None and deadline.next_check_at <= now:
            stage = deadline.stage + 1
            deadline.next_check_at = next_check(deadline, stage, rules)
            deadline.stage, deadline.state = stage, STATE_AFTER[stage]
            steps.append(Step(deadline=deadline, level=stage - 1, rule=rules.get(deadline.kind, stage - 1)))
    if not steps:
        return [], 0
    update_rows(Deadline, batch, ["stage", "state", "next_check_at"])
    recorded = set(Escalation.objects.filter(deadline__in=batch).values_list("deadline_id", "level"))
    todo = [step for step in steps if (step.deadline.pk, step.level) not in recorded]
    skipped, steps = len(steps) - len(todo), todo
    by_prefix: dict[str, list[Step]] = {}
    for step in steps:
        by_prefix.setdefault(step.deadline.kind.split(".", 1)[0], []).append(step)
    for prefix, handled in by_prefix.items():
        handler = registry.handler_for(prefix)
        if handler is None:
            log.warning("No escalation handler for %s deadlines", prefix)
            continue
        handler.act(handled, now=now)
    insert_rows(
        Escalation,
        [
            {
                "deadline": step.deadline.pk,
                "level": step.level,
                "created_at": now,
                "told": [str(person.pk) for person in step.told],
            }
            for step in steps
        ],
    )
    return steps, skipped


def deadlines_of(obj) -> list[Deadline]:
    """An object's deadlines for its page: the open ones by due time, then the closed ones."""
    return sorted(
        Deadline.objects.for_object(obj),
        key=lambda deadline: (not deadline.is_open, deadline.due_at),
    )


def target_label(kind: str) -> str:
    target = kind.split(".", 1)[-1]
    return str(Target(target).label) if target in Target.values else kind
