"""
The deadline clock: open, meet, pause, resume and cancel deadlines, and the sweep that warns
and escalates. Other apps call these; `sla` never imports them (see `registry`).
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import registry
from .businesstime import add_business_time, business_time_between
from .choices import State, Target
from .models import Deadline, Escalation, EscalationRule, Policy, PolicyTarget

log = logging.getLogger(__name__)

LAST_LEVEL = 3


def policy_for(coverage: str | None) -> Policy | None:
    """The policy of a contract's coverage key, or the default policy (paid service)."""
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
) -> list[Deadline]:
    """Open one deadline per target the policy promises for `subject`; targets it lacks are skipped."""
    if policy is None:
        return []
    rows = PolicyTarget.objects.filter(policy=policy, subject=subject, target__in=targets)
    schedule = policy.calendar.schedule()
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
                calendar=policy.calendar,
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


def cancel(obj, kinds: list[str] | None = None) -> int:
    """The object no longer needs these promises (a cancelled or closed ticket)."""
    deadlines = Deadline.objects.for_object(obj).open()
    if kinds is not None:
        deadlines = deadlines.filter(kind__in=kinds)
    return deadlines.update(state=State.CANCELLED, next_check_at=None, paused_at=None)


def pause(obj, *, at: datetime) -> int:
    """Waiting for the customer: the clock stops on every open deadline of the object."""
    return (
        Deadline.objects.for_object(obj)
        .open()
        .filter(paused_at__isnull=True)
        .update(paused_at=at, next_check_at=None)
    )


def resume(obj, *, at: datetime) -> int:
    """The clock runs again: each paused deadline moves by the business time it was paused."""
    resumed = 0
    rules = Rules()
    for deadline in (
        Deadline.objects.for_object(obj).open().filter(paused_at__isnull=False).select_related("calendar")
    ):
        schedule = deadline.calendar.schedule()
        paused = business_time_between(deadline.paused_at, at, schedule)
        deadline.warn_at = add_business_time(deadline.warn_at, paused, schedule)
        deadline.due_at = add_business_time(deadline.due_at, paused, schedule)
        deadline.paused_at = None
        deadline.next_check_at = next_check(deadline, deadline.stage, rules)
        deadline.save(update_fields=["warn_at", "due_at", "paused_at", "next_check_at"])
        resumed += 1
    return resumed


class Rules:
    """Escalation rules read once per sweep: a kind's own rule, else the rule for every kind."""

    def __init__(self):
        self.rules = {
            (rule.kind, rule.level): rule for rule in EscalationRule.objects.prefetch_related("people")
        }

    def get(self, kind: str, level: int) -> EscalationRule | None:
        return self.rules.get((kind, level)) or self.rules.get(("*", level))


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
    return add_business_time(deadline.due_at, delay, deadline.calendar.schedule())


STATE_AFTER = {1: State.WARNED, 2: State.BREACHED, 3: State.BREACHED, 4: State.BREACHED}


@dataclass
class SweepResult:
    warned: int = 0
    escalated: Counter = field(default_factory=Counter)
    lost_races: int = 0

    def as_dict(self) -> dict:
        return {
            "warned": self.warned,
            "escalated": {str(level): count for level, count in sorted(self.escalated.items())},
            "lost_races": self.lost_races,
        }


def sweep(*, now: datetime | None = None, batch_size: int = 500) -> SweepResult:
    """
    Warn and escalate every deadline whose next check has come, in batches of one transaction
    each. A batch that fails rolls back whole; the next sweep does it again, and the unique
    (deadline, level) constraint keeps a level from being acted on twice.
    """
    now = now or timezone.now()
    result = SweepResult()
    rules = Rules()
    while True:
        with transaction.atomic():
            due = Deadline.objects.due(now).order_by("next_check_at")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            batch = list(due.select_related("calendar")[:batch_size])
            for deadline in batch:
                _advance(deadline, now, rules, result)
        if len(batch) < batch_size:
            return result


def _advance(deadline: Deadline, now: datetime, rules: Rules, result: SweepResult) -> None:
    """Take the deadline through every stage whose time has come, claiming each one."""
    while deadline.next_check_at is not None and deadline.next_check_at <= now:
        stage = deadline.stage + 1
        following = next_check(deadline, stage, rules)
        claimed = Deadline.objects.filter(
            pk=deadline.pk, stage=deadline.stage, next_check_at=deadline.next_check_at
        ).update(stage=stage, state=STATE_AFTER[stage], next_check_at=following)
        if claimed != 1:
            result.lost_races += 1
            return
        deadline.stage, deadline.state, deadline.next_check_at = stage, STATE_AFTER[stage], following
        level = stage - 1
        try:
            with transaction.atomic():
                escalation = Escalation.objects.create(deadline=deadline, level=level, created_at=now)
        except IntegrityError:
            result.lost_races += 1
            continue
        told = _act(deadline, level, rules.get(deadline.kind, level), now)
        escalation.told = [str(person.pk) for person in told]
        escalation.save(update_fields=["told"])
        if level == 0:
            result.warned += 1
        else:
            result.escalated[level] += 1


def _act(deadline: Deadline, level: int, rule, now: datetime) -> list:
    handler = registry.handler_for(deadline.kind)
    if handler is None:
        log.warning("No escalation handler for %s", deadline.kind)
        return []
    if level == 0:
        return handler.warn(deadline, rule, now=now)
    return handler.escalate(deadline, level, rule, now=now)


def deadlines_of(obj) -> list[Deadline]:
    """An object's deadlines for its page: the open ones by due time, then the closed ones."""
    return sorted(
        Deadline.objects.for_object(obj),
        key=lambda deadline: (not deadline.is_open, deadline.due_at),
    )


def target_label(kind: str) -> str:
    target = kind.split(".", 1)[-1]
    return str(Target(target).label) if target in Target.values else kind
