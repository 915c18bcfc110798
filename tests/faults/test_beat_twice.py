"""
Beat started twice: nothing happens twice (DESIGN.md: each (deadline, level) produces one
escalation, enforced by a unique constraint; the outbox claims each message before sending it).

Two `celery beat` processes run on the same database schedule (django-celery-beat), with the deadline
sweep and the outbox sweep due every second (tests/faults/beat_settings.py), so that for several
seconds both send both sweeps; a worker with two pool processes runs them side by side. The outbox
sweep's 30 s grace is set to 0 in the worker, so that it races the tasks the sweeps hand their
e-mails to. Eight tickets' response deadlines have lapsed: past the warning time, or one minute past
due as well.

Checked: both beats did send the sweeps; each deadline was warned (and escalated) exactly once, with
one timeline row each; each person was told once per channel; every e-mail arrived exactly once.
"""

import sys
from collections import Counter

import pytest

from accounts.models import User
from bench.soak import Child, sent_mail_expected
from notifications.choices import Channel, Status
from notifications.models import Notification
from sla.models import Deadline, Escalation
from sla.services import STATE_AFTER
from tests.faults.conftest import broker_idle, wait_for
from tickets.choices import Event
from tickets.models import TimelineEvent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TICKETS = 8
SWEEPS_PER_BEAT = 3


def beat(name: str, env: dict, workdir) -> Child:
    argv = [
        sys.executable, "-m", "celery", "-A", "servicedesk", "beat", "--loglevel=INFO",
        "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
        "--schedule", str(workdir / f"{name}-schedule"), "--pidfile", str(workdir / f"{name}.pid"),
    ]  # fmt: skip
    env = {**env, "DJANGO_SETTINGS_MODULE": "tests.faults.beat_settings"}
    return Child(name, argv, env=env, log_path=workdir / "logs" / f"{name}.log")


def sweeps_sent(child: Child) -> int:
    return child.log().count("Sending due task sweep-deadlines")


@pytest.mark.parametrize(
    ("breached", "levels"), [(False, [0]), (True, [0, 1])], ids=["warning", "escalation"]
)
def test_d_two_beats_act_on_each_lapsed_deadline_once(
    breached, levels, broker, redis_up, workers, workdir, make_ticket, lapse, mailbox
):
    # given: eight tickets whose response deadline has lapsed, and a worker with two pool processes
    tickets = [make_ticket(title=f"核心交换机宕机 {n}") for n in range(TICKETS)]
    deadline_ids = lapse(tickets, breached=breached)
    workers.start("beats-worker", concurrency=2, timings={"SWEEP_GRACE": 0})

    # when: two beats run on the same schedule, each sending both sweeps every second
    beats = [beat(f"beat{n}", workers.env, workdir) for n in (1, 2)]
    try:
        for child in beats:
            child.start()
        wait_for(
            lambda: all(sweeps_sent(child) >= SWEEPS_PER_BEAT for child in beats),
            45,
            f"each beat to send the sweep {SWEEPS_PER_BEAT} times",
        )
    finally:
        for child in beats:
            child.stop()
    outgoing = Notification.objects.filter(channel=Channel.EMAIL)
    wait_for(
        lambda: broker_idle(redis_up.url(0)) and not outgoing.filter(status=Status.PENDING).exists(),
        30,
        "the worker to finish",
    )

    # then: each deadline was acted on once per level
    assert all("Traceback" not in child.log() for child in beats)
    escalations = Counter(Escalation.objects.values_list("deadline_id", "level"))
    assert escalations == Counter({(pk, level): 1 for pk in deadline_ids for level in levels})
    last = max(levels) + 1
    assert set(Deadline.objects.filter(pk__in=deadline_ids).values_list("stage", "state")) == {
        (last, STATE_AFTER[last])
    }
    # one timeline row per ticket and level
    events = Counter(
        TimelineEvent.objects.filter(kind__in=[Event.SLA_WARNING, Event.ESCALATED]).values_list(
            "ticket_id", "kind"
        )
    )
    expected_events = Counter()
    for ticket in tickets:
        expected_events[(ticket.pk, Event.SLA_WARNING)] = 1
        if breached:
            expected_events[(ticket.pk, Event.ESCALATED)] = 1
    assert events == expected_events
    # each person told once per channel and level
    emails = dict(User.objects.values_list("pk", "email"))
    expected_keys = set()
    for deadline_id, level, told in Escalation.objects.values_list("deadline_id", "level", "told"):
        assert told, f"nobody was told of deadline {deadline_id} level {level}"
        for person in told:
            expected_keys.add(f"deadline-{deadline_id}-{level}:{person}:{Channel.IN_APP}")
            if emails[int(person)]:
                expected_keys.add(f"deadline-{deadline_id}-{level}:{person}:{Channel.EMAIL}")
    keys = Counter(
        Notification.objects.filter(dedupe_key__startswith="deadline-").values_list("dedupe_key", flat=True)
    )
    assert keys == Counter(dict.fromkeys(expected_keys, 1))
    # every e-mail (the assignments' and the sweeps') sent, and in the mailbox exactly once
    assert set(outgoing.values_list("status", flat=True)) == {Status.SENT}
    assert mailbox() == sent_mail_expected(outgoing.select_related("recipient"))
