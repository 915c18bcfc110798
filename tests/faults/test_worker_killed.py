"""
A Celery worker killed with SIGKILL in the middle of a delivery loses nothing and sends nothing twice
(DESIGN.md: acks late, reject on worker lost, idempotent delivery through the outbox).

Three messages for a group robot are queued in one committed transaction and handed to a prefork
worker with one process; the robot (a local HTTP server) holds each message 1.5 s. While it holds
the first, either the pool process is killed (the worker's main process sees it lost, and with
`reject_on_worker_lost` puts the task back) or the whole worker is (main process and pool: the task
stays unacknowledged in Redis until the visibility timeout, an hour, and a new worker is started).
The message in flight stays claimed by the dead worker for the claim lease, shortened in the worker
from 5 minutes to 4 s so the test can wait for it; then the beat's sweep (`deliver_pending`, sent
here as beat sends it every minute) delivers it. In the whole-worker case the hour then passes too:
the unacknowledged tasks are put back in the queue, as Redis does after the visibility timeout, and
run, and send nothing again.

Counted at the robot: every message answered exactly once; the outbox rows all sent.
"""

import os
import signal

import pytest
from kombu import Connection

from bench.soak import children_of
from notifications import services as outbox
from notifications.choices import RobotKind, Status
from notifications.models import Notification, Robot
from tests.faults.conftest import broker_idle, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

MESSAGES = 3
TIMINGS = {"CLAIM_LEASE": 4, "SWEEP_GRACE": 1}


def unacked(broker_url: str) -> int:
    with Connection(broker_url) as connection:
        channel = connection.default_channel
        return channel.client.hlen(channel.unacked_key)


def restore_unacked(broker_url: str) -> None:
    """Put unacknowledged tasks back in their queue, as kombu does once the visibility timeout passed."""
    with Connection(broker_url, transport_options={"visibility_timeout": 0}) as connection:
        connection.default_channel.qos.restore_visible(num=100)


@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    victim, broker, redis_up, workers, robot_server, transactional_db
):
    # given: three robot messages, committed, handed to a worker whose robot answers slowly
    robot = Robot.objects.create(name="值班群", kind=RobotKind.WECOM, url=robot_server.url)
    keys = [f"faults-kill-{n}" for n in range(MESSAGES)]
    for key in keys:
        outbox.queue_robot(robot, kind="faults.kill", subject=key, body="交换机告警", dedupe_key=key)
    rows = Notification.objects.filter(robot=robot)
    assert rows.count() == MESSAGES
    worker = workers.start("killed", timings=TIMINGS)
    wait_for(lambda: robot_server.received, 30, "the worker to start the first delivery")

    # when: the worker is killed while the robot holds the first message
    if victim == "pool process":
        (pool,) = children_of(worker.pid)
        os.kill(pool, signal.SIGKILL)
    else:
        worker.kill()
        assert unacked(redis_up.url(0)) >= 1, "the task in flight stays unacknowledged in Redis"
        worker = workers.start("replacement", timings=TIMINGS)
    wait_for(lambda: robot_server.aborted, 10, "the robot to see its sender die")

    # then: after the claim lease, beat's sweep delivers what is left; everything is sent once
    def all_sent() -> bool:
        if rows.filter(status=Status.PENDING).exists():
            broker.send_task("notifications.tasks.deliver_pending_task")
            return False
        return True

    wait_for(all_sent, 60, "every message to be sent", interval=2)
    if victim == "whole worker":
        # when: the visibility timeout passes and the dead worker's tasks run again
        mark = len(worker.log())
        restore_unacked(redis_up.url(0))
        wait_for(lambda: unacked(redis_up.url(0)) == 0, 30, "the restored tasks to be taken")
        assert worker.wait_for_log(
            r"deliver_notification_task\[[^\]]+\] succeeded in [^:]+: False", 30, after=mark
        )

    wait_for(lambda: broker_idle(redis_up.url(0)), 30, "the worker to finish every task")
    assert robot_server.delivered == {key: 1 for key in keys}, robot_server.delivered
    assert sum(robot_server.aborted.values()) == 1
    assert set(rows.values_list("status", flat=True)) == {Status.SENT}
    assert not rows.filter(sent_at__isnull=True).exists()
