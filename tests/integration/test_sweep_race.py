"""
Two sweeps racing for the same batch, on whichever database the suite runs on: CI runs it on
PostgreSQL and again on SQLite, the database `make run` uses (DESIGN.md, "The deadline clock").

The first sweep holds its first batch open (its handler waits) while the second sweep runs.
PostgreSQL locks the batch's rows: the second sweep skips them (SKIP LOCKED) and takes the
others, without waiting. SQLite cannot lock rows: the second sweep is refused, counts a lost
race and leaves everything to the first. Either way each (deadline, level) is acted on once.

Unlike the rest of this folder, these tests need no server: they run on SQLite too.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from sla import services as clock
from sla.models import Escalation
from tickets.deadlines import TicketEscalation

pytestmark = pytest.mark.django_db(transaction=True)

TICKETS = 12
BATCH = 4


@pytest.fixture(autouse=True)
def no_digests(settings):
    """Each deadline's own messages, whatever the batch."""
    settings.SLA_DIGEST_AFTER = 1_000_000


def test_two_sweeps_racing_for_a_batch_act_on_each_deadline_once(make_ticket, lapse, monkeypatch):
    # given: 12 response deadlines past their warning time, and a first sweep (batches of 4) whose
    # handler holds its first batch open until the second sweep has finished
    now = timezone.now()
    deadline_ids = lapse(
        [make_ticket(title=f"核心交换机宕机 {n}") for n in range(TICKETS)], breached=False, now=now
    )
    holding, released = threading.Event(), threading.Event()
    acted: list[tuple[str, int, int]] = []  # (sweep, deadline, level), as each handler call saw them
    held: list[int] = []
    problems: list[str] = []
    act = TicketEscalation.act

    def act_and_hold(self, steps, *args, **kwargs):
        sweep = "first" if threading.current_thread().name == "first sweep" else "second"
        acted.extend((sweep, step.deadline.pk, step.level) for step in steps)
        if sweep == "first" and not holding.is_set():
            held.extend(step.deadline.pk for step in steps)
            holding.set()
            if not released.wait(timeout=10):
                problems.append("the second sweep waited for the first sweep's batch")
        return act(self, steps, *args, **kwargs)

    monkeypatch.setattr(TicketEscalation, "act", act_and_hold)
    first_result: list[clock.SweepResult] = []

    def first_sweep():
        try:
            first_result.append(clock.sweep(now=now, batch_size=BATCH, workers=1))
        except BaseException as exc:  # reported in the test's thread below
            problems.append(f"the first sweep failed: {exc!r}")
        finally:
            connections.close_all()

    first = threading.Thread(target=first_sweep, name="first sweep")
    first.start()
    try:
        assert holding.wait(timeout=10), "the first sweep never reached its handler"

        # when: the second sweep runs (in the test's thread) while the first holds its batch
        second = clock.sweep(now=now, batch_size=BATCH, workers=1)
    finally:
        released.set()
        first.join(timeout=30)
    assert not first.is_alive(), "the first sweep did not finish"
    assert not problems, problems
    [first_result] = first_result

    # then: each deadline was warned once, by one sweep or the other
    assert Counter(Escalation.objects.values_list("deadline_id", "level")) == Counter(
        {(pk, 0): 1 for pk in deadline_ids}
    )
    assert Counter((pk, level) for _, pk, level in acted) == Counter({(pk, 0): 1 for pk in deadline_ids})
    assert first_result.warned + second.warned == TICKETS
    by_second = {pk for sweep, pk, _ in acted if sweep == "second"}
    assert len(held) == BATCH
    if connection.vendor == "postgresql":
        # the second skipped the rows the first had locked and took all the others, losing no race
        assert by_second == set(deadline_ids) - set(held)
        assert (first_result.warned, second.warned, second.lost_races) == (BATCH, TICKETS - BATCH, 0)
    else:
        # SQLite: the second was refused while the first held its batch, and counted the lost race;
        # the first then did every deadline
        assert by_second == set()
        assert (first_result.warned, second.warned) == (TICKETS, 0)
        assert second.lost_races > 0
