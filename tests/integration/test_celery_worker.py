"""
A real Celery worker process, on the real broker and the test database: the sweep task sent to it
warns (or escalates) a lapsed deadline, and the e-mails that causes are handed over by the worker
when its transaction commits and delivered by `deliver_notification_task` on the same worker.

The worker consumes one queue named for this test module and process, and that queue is also its
default queue (`-- task.default_queue=...`), so what it hands over comes back to it and parallel
runs on the same broker never take each other's messages (their test databases differ).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from notifications.choices import Channel, Status
from notifications.models import Notification
from servicedesk.celery import app as celery_app
from sla.models import Deadline, Escalation
from sla.tasks import sweep_deadlines_task
from tickets.choices import Event
from tickets.models import Ticket, TimelineEvent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 60  # seconds for the worker to start
DONE_WITHIN = 30  # seconds for the worker to do the work


class WorkerTaskFailed(AssertionError):
    """The worker logged a task that raised: its log is the message."""


class Worker:
    def __init__(self, process: subprocess.Popen, queue: str, log: Path):
        self.process, self.queue, self.log = process, queue, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_until(self, done, what: str, timeout: float = DONE_WITHIN):
        """Poll the database until `done()` is true; fail at once if a task raised on the worker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            if "raised unexpected" in self.output():
                raise WorkerTaskFailed(f"{what}: a task failed on the worker.\n{self.tail()}")
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: the worker exited ({self.process.returncode}).\n{self.tail()}")
            time.sleep(0.2)
        raise AssertionError(f"{what}: not done within {timeout} s.\n{self.tail()}")


def database_url() -> str:
    """The test database this process uses (test_servicedesk, test_servicedesk_gw0 …)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    """One worker for the module, on its own queue; terminated however the tests end."""
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis")  # the markers fail these tests in CI instead
    queue = f"test-worker-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url(),
        "DEBUG": "1",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_URL": "consolemail://",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "servicedesk",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
        "--",
        f"task.default_queue={queue}",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    running = Worker(process, queue, log)
    try:
        started = time.monotonic()
        while "ready." not in running.output():
            if process.poll() is not None:
                pytest.fail(f"the worker exited ({process.returncode}):\n{running.tail()}")
            if time.monotonic() - started > READY_WITHIN:
                pytest.fail(f"the worker was not ready within {READY_WITHIN} s:\n{running.tail()}")
            time.sleep(0.2)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task at hand
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        _delete_queue(queue)


def _delete_queue(queue: str) -> None:
    """Leave nothing on the shared broker: the queue and the bindings the worker declared for it."""
    try:
        with celery_app.connection_for_write() as broker:
            client = broker.default_channel.client
            client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except Exception:  # noqa: S110 (cleaning up after the test; the broker may be gone)
        pass


def send(task, worker: Worker) -> None:
    """Send `task` through the broker to the worker's queue, not run it here as the test settings do."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        task.apply_async(queue=worker.queue)
    finally:
        celery_app.conf.task_always_eager = before


def emails(kind: str, deadline: Deadline):
    return Notification.objects.filter(
        kind=kind, channel=Channel.EMAIL, dedupe_key__startswith=f"deadline-{deadline.pk}-"
    )


def test_the_worker_sweeps_a_warning_and_delivers_its_emails(worker, make_ticket, lapse):
    # given: a Level I call whose response deadline passed its warning time, not yet swept
    ticket = make_ticket()
    (deadline_id,) = lapse([ticket], breached=False)
    deadline = Deadline.objects.get(pk=deadline_id)

    # when: the sweep task goes through the broker to the worker
    send(sweep_deadlines_task, worker)

    # then: the worker warned once, wrote the timeline, and its e-mails were delivered on the worker
    def warned_and_sent():
        rows = list(emails("ticket.sla_warning", deadline).values_list("status", flat=True))
        return (
            Escalation.objects.filter(deadline=deadline, level=0).exists()
            and TimelineEvent.objects.filter(ticket=ticket, kind=Event.SLA_WARNING).exists()
            and rows
            and set(rows) == {Status.SENT}
        )

    worker.wait_until(warned_and_sent, "warning swept and e-mailed")
    deadline.refresh_from_db()
    assert (deadline.stage, deadline.state) == (1, "warned")
    assert list(Escalation.objects.filter(deadline=deadline).values_list("level", flat=True)) == [0]
    sent_to = set(emails("ticket.sla_warning", deadline).values_list("recipient__username", flat=True))
    assert sent_to == {"engineer", "supervisor"}
    assert "deliver_notification_task" in worker.output()


def test_the_worker_escalates_a_lapsed_call_and_delivers_its_emails(worker, make_ticket, lapse, expert_team):
    # given: a Level I call whose response deadline has lapsed, not yet swept
    ticket = make_ticket()
    (deadline_id,) = lapse([ticket], breached=True)
    deadline = Deadline.objects.get(pk=deadline_id)

    # when: the sweep task goes through the broker to the worker
    send(sweep_deadlines_task, worker)

    # then: warned and escalated once each, the ticket moved up, the escalation e-mailed
    def escalated_and_sent():
        rows = list(emails("ticket.escalated", deadline).values_list("status", flat=True))
        return (
            Escalation.objects.filter(deadline=deadline, level=1).exists()
            and TimelineEvent.objects.filter(ticket=ticket, kind=Event.ESCALATED).exists()
            and rows
            and set(rows) == {Status.SENT}
        )

    worker.wait_until(escalated_and_sent, "escalation swept and e-mailed")
    assert sorted(Escalation.objects.filter(deadline=deadline).values_list("level", flat=True)) == [0, 1]
    assert TimelineEvent.objects.filter(ticket=ticket, kind=Event.ESCALATED).count() == 1
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.tier, ticket.team) == (2, expert_team)
    sent_to = set(emails("ticket.escalated", deadline).values_list("recipient__username", flat=True))
    assert {"lead", "expert"} <= sent_to  # the tier-2 team now holding the ticket
