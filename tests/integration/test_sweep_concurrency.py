"""
The sweep on PostgreSQL with more than one worker: two sweeps at the same moment share the work,
each claiming rows the other has locked past (SKIP LOCKED), and act on each (deadline, level)
exactly once; a batch that fails rolls back whole, and the next sweep finishes the work
(DESIGN.md, "The deadline clock").

Each sweep runs in its own thread, hence on its own database connection, against committed rows.
"""

import threading
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import User
from notifications import services as outbox
from notifications.choices import Channel
from notifications.models import Notification
from sla import services as clock
from sla.choices import State
from sla.models import Deadline, Escalation
from tickets.choices import Event
from tickets.deadlines import TicketEscalation
from tickets.models import Ticket, TimelineEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TICKETS = 30
# Each round makes both sweeps hold a batch at once (see sweep_together); the rest of their
# batches interleave as they may.
ROUNDS = 20  # of warnings: 600 acts
ESCALATION_ROUNDS = 10  # of level-1 escalations of deadlines warned before
BATCH = 5  # 6 batches of the 30 deadlines: the two sweeps claim batches side by side
SWEEP_KINDS = ["ticket.sla_warning", "ticket.escalated"]


@pytest.fixture(autouse=True)
def no_digests(settings):
    """These tests follow each deadline's own messages; digests are tested in tests/sla."""
    settings.SLA_DIGEST_AFTER = 1_000_000


@pytest.fixture
def tickets(make_ticket):
    return [make_ticket(title=f"核心交换机宕机 {n}") for n in range(TICKETS)]


@pytest.fixture
def handed_over(monkeypatch):
    """The e-mail ids the sweeps hand to a worker after their commits, instead of sending them."""
    handed: list[int] = []
    monkeypatch.setattr(outbox, "_hand_over", handed.extend)
    return handed


def sweep_together(now, sweeps: int = 2) -> list[clock.SweepResult]:
    """
    Run `sweeps` sweeps released at the same instant, one thread (and connection) each, in
    batches of BATCH. Each holds its first batch (its rows locked) until every other holds one
    too: they can only if a sweep claims rows past those another has locked (SKIP LOCKED);
    otherwise one waits on the other's locks, the rendezvous times out and the test fails.
    """
    start, all_hold = threading.Barrier(sweeps), threading.Barrier(sweeps)
    results: list = [None] * sweeps
    errors: list[BaseException] = []
    first_batch = threading.local()
    act = TicketEscalation.act

    def act_holding_the_first_batch(self, *args, **kwargs):
        if getattr(first_batch, "pending", False):
            first_batch.pending = False
            try:
                all_hold.wait(timeout=10)
            except threading.BrokenBarrierError:
                raise AssertionError("the sweeps could not each hold a batch at once") from None
        return act(self, *args, **kwargs)

    def run(index):
        try:
            first_batch.pending = True
            start.wait(timeout=10)
            results[index] = clock.sweep(now=now, batch_size=BATCH, workers=1)
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(sweeps)]
    with mock.patch.object(TicketEscalation, "act", act_holding_the_first_batch):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sweep did not finish within 60 s"
    if errors:
        raise errors[0]
    return results


def start_round(tickets, lapse, team, engineer, *, breached: bool, warned: bool) -> list[int]:
    """Undo what the last round's sweeps did and make every ticket's response deadline lapse again."""
    Escalation.objects.all().delete()
    TimelineEvent.objects.filter(kind__in=[Event.SLA_WARNING, Event.ESCALATED]).delete()
    Notification.objects.filter(kind__in=SWEEP_KINDS).delete()
    Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(
        tier=1, team=team, assignee=engineer
    )
    return lapse(tickets, breached=breached, warned=warned)


def assert_acted_once(
    tickets, deadline_ids, levels: list[int], results, handed_over, round_number: int
) -> None:
    where = f"round {round_number}: {[r.as_dict() for r in results]}"
    # Each sweep claimed some of the deadlines: neither took them all.
    for result in results:
        assert result.warned + sum(result.escalated.values()) > 0, where
    # Each (deadline, level) escalated exactly once, and nothing else.
    escalations = Counter(Escalation.objects.values_list("deadline_id", "level"))
    assert set(escalations) == {(pk, level) for pk in deadline_ids for level in levels}, where
    assert set(escalations.values()) == {1}, where
    # The two sweeps together report each act once, and none lost a race (SKIP LOCKED kept them apart).
    assert sum(result.warned for result in results) == (TICKETS if 0 in levels else 0), where
    for level in (level for level in levels if level):
        assert sum(result.escalated[level] for result in results) == TICKETS, where
    assert sum(result.lost_races for result in results) == 0, where
    # Every deadline reached the stage after its last level.
    stages = Counter(Deadline.objects.filter(pk__in=deadline_ids).values_list("stage", "state"))
    last = max(levels) + 1
    assert stages == {(last, clock.STATE_AFTER[last]): TICKETS}, where
    # One timeline row per ticket and level: a warning for level 0, an escalation for each other.
    events = Counter(
        TimelineEvent.objects.filter(kind__in=[Event.SLA_WARNING, Event.ESCALATED]).values_list(
            "ticket_id", "kind"
        )
    )
    expected_events = {}
    escalated = [level for level in levels if level]
    for ticket in tickets:
        if 0 in levels:
            expected_events[(ticket.pk, Event.SLA_WARNING)] = 1
        if escalated:
            expected_events[(ticket.pk, Event.ESCALATED)] = len(escalated)
    assert events == expected_events, where
    # The messages: one per person told, channel and level, never two (the dedupe keys say whose).
    keys = Counter(Notification.objects.filter(kind__in=SWEEP_KINDS).values_list("dedupe_key", flat=True))
    assert set(keys.values()) == {1}, where
    emails = dict(User.objects.values_list("pk", "email"))
    expected_keys = set()
    for deadline_id, level, told in Escalation.objects.values_list("deadline_id", "level", "told"):
        assert told, f"{where}: nobody was told of deadline {deadline_id} level {level}"
        for person in told:
            expected_keys.add(f"deadline-{deadline_id}-{level}:{person}:{Channel.IN_APP}")
            if emails[int(person)]:
                expected_keys.add(f"deadline-{deadline_id}-{level}:{person}:{Channel.EMAIL}")
    assert set(keys) == expected_keys, where
    # Each e-mail was handed to a worker once, after its batch committed.
    email_rows = Notification.objects.filter(kind__in=SWEEP_KINDS, channel=Channel.EMAIL)
    assert Counter(handed_over) == Counter(dict.fromkeys(email_rows.values_list("pk", flat=True), 1)), where


def run_rounds(
    tickets, lapse, team, engineer, handed_over, *, rounds: int, breached: bool, levels: list[int]
) -> None:
    for round_number in range(1, rounds + 1):
        deadline_ids = start_round(tickets, lapse, team, engineer, breached=breached, warned=0 not in levels)
        del handed_over[:]
        now = timezone.now()
        results = sweep_together(now)
        assert_acted_once(tickets, deadline_ids, levels, results, handed_over, round_number)


def test_two_sweeps_at_once_warn_each_deadline_once(tickets, lapse, team, engineer, handed_over):
    # given: 30 response deadlines past their warning time, 20 times over
    # when: two sweeps start at the same moment, in batches of 5, each holding its first batch
    # until the other holds one too
    # then: each sweep warned some, together all; each deadline once, with one timeline row and
    # one message per person
    run_rounds(tickets, lapse, team, engineer, handed_over, rounds=ROUNDS, breached=False, levels=[0])


def test_two_sweeps_at_once_escalate_each_deadline_once(tickets, lapse, team, engineer, handed_over):
    # given: 30 response deadlines, warned before and now one minute overdue, 10 times over
    # when: two sweeps start at the same moment, in batches of 5, holding their first batches together
    # then: each sweep escalated some, together all; each deadline at level 1 once, with one
    # timeline row and one message per person
    run_rounds(
        tickets, lapse, team, engineer, handed_over, rounds=ESCALATION_ROUNDS, breached=True, levels=[1]
    )


def spread(deadline_ids, now) -> list[int]:
    """Give the deadlines distinct check times, one second apart, so the batches are predictable."""
    start = now - timedelta(minutes=10)
    for offset, pk in enumerate(deadline_ids):
        check = start + timedelta(seconds=offset)
        Deadline.objects.filter(pk=pk).update(warn_at=check, next_check_at=check)
    return list(
        Deadline.objects.filter(pk__in=deadline_ids).order_by("next_check_at").values_list("pk", flat=True)
    )


def snapshot(deadline_ids) -> dict:
    return {
        row[0]: row[1:]
        for row in Deadline.objects.filter(pk__in=deadline_ids).values_list(
            "pk", "stage", "state", "next_check_at", "warn_at", "due_at"
        )
    }


@pytest.mark.parametrize(
    ("breached", "levels"),
    [
        pytest.param(False, [0], id="warning"),
        pytest.param(True, [0, 1], id="escalation"),
    ],
)
def test_a_batch_that_fails_rolls_back_whole_and_the_next_sweep_finishes(
    tickets, lapse, monkeypatch, breached, levels
):
    # given: 30 lapsed deadlines, swept in batches of 10 by one thread, and a handler that fails on
    # its 15th call
    now = timezone.now()
    ordered = spread(lapse(tickets, breached=breached, now=now), now)
    before = snapshot(ordered)
    calls = []
    original_warn = TicketEscalation.warn

    def failing_warn(self, batch, deadline, rule, *, now):
        calls.append(deadline.pk)
        if len(calls) == 15:
            raise RuntimeError("mail server on fire")
        return original_warn(self, batch, deadline, rule, now=now)

    monkeypatch.setattr(TicketEscalation, "warn", failing_warn)

    # when
    with pytest.raises(RuntimeError, match="on fire"):
        clock.sweep(now=now, batch_size=10, workers=1)

    # then: the first batch is done, the failed batch left no trace, the third was not started
    done, untouched = ordered[:10], ordered[10:]
    assert Counter(Escalation.objects.values_list("deadline_id", "level")) == Counter(
        {(pk, level): 1 for pk in done for level in levels}
    )
    after = snapshot(ordered)
    assert {pk: after[pk] for pk in untouched} == {pk: before[pk] for pk in untouched}
    assert {after[pk][:2] for pk in done} == {(max(levels) + 1, clock.STATE_AFTER[max(levels) + 1])}
    tickets_done = set(Deadline.objects.filter(pk__in=done).values_list("object_id", flat=True))
    assert (
        set(TimelineEvent.objects.filter(kind=Event.SLA_WARNING).values_list("ticket_id", flat=True))
        == tickets_done
    )
    told_about = {
        int(key.split("-")[1])
        for key in Notification.objects.filter(kind__in=SWEEP_KINDS).values_list("dedupe_key", flat=True)
    }
    assert told_about == set(done)

    # when: the handler works again and the next sweep runs
    monkeypatch.setattr(TicketEscalation, "warn", original_warn)
    result = clock.sweep(now=now, batch_size=10, workers=1)

    # then: the other 20 are done, and nothing twice
    assert result.warned == 20
    assert Counter(Escalation.objects.values_list("deadline_id", "level")) == Counter(
        {(pk, level): 1 for pk in ordered for level in levels}
    )
    assert Counter(
        TimelineEvent.objects.filter(kind=Event.SLA_WARNING).values_list("ticket_id", flat=True)
    ) == Counter({ticket.pk: 1 for ticket in tickets})
    assert not Deadline.objects.filter(pk__in=ordered, stage__lte=max(levels)).exists()
    assert not Deadline.objects.filter(pk__in=ordered, state=State.PENDING).exists()


def test_a_second_sweep_takes_the_deadlines_the_first_has_not_locked(tickets, lapse, monkeypatch):
    # given: 30 deadlines past their warning time, all in the same (7x24) calendar, and a first sweep
    # that holds its one-deadline batch open (its handler waits)
    now = timezone.now()
    deadline_ids = lapse(tickets, breached=False, now=now)
    holding, release = threading.Event(), threading.Event()
    original_warn = TicketEscalation.warn
    test_thread = threading.get_ident()

    def slow_warn(self, batch, deadline, rule, *, now):
        if threading.get_ident() != test_thread and not holding.is_set():
            holding.set()
            release.wait(timeout=30)
        return original_warn(self, batch, deadline, rule, now=now)

    monkeypatch.setattr(TicketEscalation, "warn", slow_warn)
    first_result, errors = [], []

    def first_sweep():
        try:
            first_result.append(clock.sweep(now=now, batch_size=1))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=first_sweep)
    first.start()
    try:
        assert holding.wait(timeout=10), "the first sweep never reached its handler"
        # when: a second sweep runs meanwhile
        second = clock.sweep(now=now)
    finally:
        release.set()
        first.join(timeout=30)
    assert not errors, errors

    # then: the second took every deadline but the one the first holds, and each was warned once
    assert Counter(Escalation.objects.values_list("deadline_id", flat=True)) == Counter(
        dict.fromkeys(deadline_ids, 1)
    )
    assert second.warned == TICKETS - 1


def test_one_sweep_with_helper_threads_acts_on_each_deadline_once(tickets, lapse, handed_over):
    # given: two lapsed deadlines per ticket (response and resolution), more than one small batch
    now = timezone.now()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    ids = lapse(tickets, now=now) + lapse(tickets, kind="ticket.resolution", now=now)

    # when: one sweep runs in batches of 4, with two helper threads beside it
    result = clock.sweep(now=now, batch_size=4, workers=3)

    # then: each deadline was warned and escalated once, by whichever thread took its batch
    assert result.as_dict() == {"warned": 60, "escalated": {"1": 60}, "lost_races": 0}
    assert Counter(Escalation.objects.values_list("deadline_id", "level")) == Counter(
        {(pk, level): 1 for pk in ids for level in (0, 1)}
    )
    # each ticket moved up a tier once (its second lapsed deadline found it there already)
    for ticket in Ticket.objects.filter(pk__in=versions):
        assert (ticket.tier, ticket.version) == (2, versions[ticket.pk] + 1)
        assert ticket.events.filter(kind=Event.ESCALATED).count() == 2
        assert ticket.events.filter(kind=Event.SLA_WARNING).count() == 2
    # and every message was written and handed to a worker once
    keys = list(Notification.objects.filter(kind__in=SWEEP_KINDS).values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys)) > 0
    emails = Notification.objects.filter(kind__in=SWEEP_KINDS, channel=Channel.EMAIL)
    assert Counter(handed_over) == Counter(dict.fromkeys(emails.values_list("pk", flat=True), 1))
