"""
Fixtures of the fault tests: throwaway Redis and PostgreSQL servers on free loopback ports (never
the machine's, which CI and other people share), Celery workers as real subprocesses, a group robot
that answers slowly, the mailbox the workers write e-mail to, and a customer world whose people
have e-mail addresses.

The tests run with `django_db(transaction=True)`: every row is committed, so the worker processes
(pointed at the test database) see it; the database is emptied after each test, so `sla_defaults`
loads the SLA policies of the data migration again. Every server and process is stopped in the
fixture's teardown, whatever the test did.
"""

import contextlib
import importlib
import json
import os
import re
import select
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from kombu import Connection
from kombu import pools as kombu_pools

from accounts.choices import Role, Tier
from bench.soak import (
    ThrowawayPostgres,
    ThrowawayRedis,
    app_env,
    celery_worker,
    missing_tools,
    read_mailbox,
    start_worker,
    wait_until,
)
from customers.choices import Coverage
from sla.choices import State
from sla.models import Deadline, Policy
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Kind, Level

RESPONSE = "ticket.response"


def require_tools() -> None:
    """Skip when the machine lacks the server binaries (fail instead in CI, which must run these)."""
    missing = missing_tools()
    if missing:
        message = "fault tests need " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def redis_server():
    """A Redis of the module's own on a free port; tests may stop and start it (it comes back empty)."""
    require_tools()
    server = ThrowawayRedis()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_up(redis_server):
    """The module's Redis, running at the start and at the end of the test."""
    if redis_server.child is None:
        redis_server.start()
    yield redis_server
    if redis_server.child is None:
        redis_server.start()


@pytest.fixture
def postgres_server():
    require_tools()
    server = ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


def tests_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database), for the workers."""
    conf = connection.settings_dict
    auth = quote(conf["USER"] or "")
    if conf.get("PASSWORD"):
        auth += ":" + quote(conf["PASSWORD"])
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@contextlib.contextmanager
def publishing_to(broker_url: str):
    """
    Make this (test) process hand tasks to `broker_url` for real: the test settings run Celery
    eagerly, and the app keeps its connection pools; both are put back afterwards.
    """
    from servicedesk.celery import app

    # broker_write_url: Celery reads broker_url from the CELERY_BROKER_URL variable first, which CI sets.
    keys = ("broker_write_url", "task_always_eager")
    saved = {key: app.conf.get(key) for key in keys}

    def reset_pools():
        kombu_pools.reset()  # closes and forgets kombu's pools (kept per broker URL, process-wide)
        app._pool = None
        amqp = app.__dict__.get("amqp")
        if amqp is not None:
            amqp._producer_pool = None

    app.conf.update(broker_write_url=broker_url, task_always_eager=False)
    reset_pools()
    try:
        yield app
    finally:
        app.conf.update(saved)
        reset_pools()


@pytest.fixture
def broker(redis_up):
    """Tasks of this process go to the module's Redis (database 0), as a web process's would."""
    with publishing_to(redis_up.url(0)) as app:
        yield app


@pytest.fixture
def workdir(tmp_path) -> Path:
    (tmp_path / "mail").mkdir()
    (tmp_path / "logs").mkdir()
    return tmp_path


@pytest.fixture
def mailbox(workdir):
    """What the workers sent: (to, subject) → how many times."""
    return lambda: read_mailbox(workdir / "mail")


@pytest.fixture
def workers(redis_up, workdir, transactional_db):
    """
    Start Celery workers of the desk (production settings, prefork) on the module's Redis and the
    test database: `workers.start(name, **options)`. All are stopped at the end of the test.
    """
    started = []

    class Workers:
        env = app_env(
            database_url=tests_database_url(),
            redis_url=redis_up.url(1),
            broker_url=redis_up.url(0),
            workdir=workdir,
        )

        def start(self, name, *, concurrency=1, timings=None, env=None):
            worker = celery_worker(
                name,
                {**self.env, **(env or {})},
                workdir / "logs" / f"{name}.log",
                concurrency=concurrency,
                timings=timings,
            )
            started.append(worker)
            return start_worker(worker)

    try:
        yield Workers()
    finally:
        for worker in started:
            worker.stop()


class RobotServer:
    """
    A group robot on loopback that holds each message `delay` seconds before answering
    {"errcode": 0}. A message counts as delivered only when the sender was still there to hear the
    answer; if the sender goes away meanwhile (its worker was killed) the attempt counts as aborted.
    That is the most a receiver can do: a message whose sender died after the robot answered cannot
    be told apart from one never answered, so the desk would send it again.
    """

    def __init__(self, delay: float):
        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[str] = []
        self.delivered: Counter = Counter()
        self.aborted: Counter = Counter()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                text = json.dumps(payload, ensure_ascii=False)
                key = (re.search(r"faults-[a-z]+-\d+", text) or re.search(r".*", text)).group(0)
                with robot.lock:
                    robot.received.append(key)
                if not robot.hold(self.connection):
                    with robot.lock:
                        robot.aborted[key] += 1
                    return
                body = b'{"errcode": 0, "errmsg": "ok"}'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:
                    with robot.lock:
                        robot.aborted[key] += 1
                    return
                with robot.lock:
                    robot.delivered[key] += 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=faults"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def hold(self, sock) -> bool:
        """Wait `delay` seconds; False as soon as the sender closes its end."""
        end = time.monotonic() + self.delay
        while time.monotonic() < end:
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return False
                except OSError:
                    return False
        return True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def robot_server():
    with RobotServer(delay=1.5) as server:
        yield server


# The world: a customer organisation under a 7x24 contract, a team whose people have e-mail.


@pytest.fixture
def sla_defaults(transactional_db):
    """The calendars, policies and escalation rules of sla 0002 and 0006, loaded again if emptied."""
    if not Policy.objects.exists():
        importlib.import_module("sla.migrations.0002_defaults").create(apps, None)
        importlib.import_module("sla.migrations.0006_level_3_arrival").create(apps, None)


@pytest.fixture
def engineer(transactional_db, centre):
    return UserFactory(username="engineer", role=Role.ENGINEER, centre=centre, email="engineer@example.cn")


@pytest.fixture
def colleague(transactional_db, centre):
    """A second engineer of the same team."""
    return UserFactory(username="colleague", role=Role.ENGINEER, centre=centre, email="colleague@example.cn")


@pytest.fixture
def team(centre, engineer, colleague):
    supervisor = UserFactory(
        username="supervisor", role=Role.ENGINEER, centre=centre, email="supervisor@example.cn"
    )
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, colleague, supervisor)
    return team


@pytest.fixture
def expert_team(centre):
    lead = UserFactory(username="lead", role=Role.ENGINEER, centre=centre, email="lead@example.cn")
    team = TeamFactory(name="南京二线专家组", centre=centre, tier=Tier.DEDICATED, supervisor=lead)
    team.members.add(lead)
    return team


@pytest.fixture
def customer(transactional_db):
    """alice, a customer of organisation A, with an e-mail address."""
    user = UserFactory(username="alice", role=Role.CUSTOMER, email="alice@example.cn")
    ContactFactory(organisation=OrganisationFactory(name="甲单位"), user=user)
    return user


@pytest.fixture
def device(sla_defaults, centre, customer):
    """Equipment of alice's organisation under a round-the-clock contract in force today."""
    organisation = customer.contact.organisation
    site = SiteFactory(organisation=organisation, centre=centre, name="本部机房")
    today = timezone.localdate()
    contract = ContractFactory(
        organisation=organisation,
        number="HT-FLT-0001",
        coverage=Coverage.FULL,
        starts_on=today - timedelta(days=365),
        ends_on=today + timedelta(days=365),
    )
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-FLT-0001")


@pytest.fixture
def make_ticket(agent, device, team, engineer, expert_team):
    """Log a call through the service, assigned to `engineer` of `team`; keywords override details."""

    def make(**details):
        fields = {
            "organisation": device.site.organisation,
            "title": "核心交换机宕机",
            "description": "全部业务中断",
            "kind": Kind.FAULT,
            "level": Level.II,
            "site": device.site,
            "equipment": device,
            "contract": device.contract,
        } | details
        return services.log_call(services.CallDetails(**fields), by=agent, team=team, assignee=engineer)

    return make


@pytest.fixture
def lapse():
    """
    Move the response deadlines of `tickets` into the past as if the sweep had not looked yet
    (stage 0, pending): past the warning time only, or (`breached`) one minute past due as well.
    """

    def move(tickets, *, breached: bool) -> list[int]:
        now = timezone.now()
        warn_at = now - timedelta(minutes=20)
        due_at = now - timedelta(minutes=1) if breached else now + timedelta(hours=1)
        deadlines = Deadline.objects.filter(object_id__in=[ticket.pk for ticket in tickets], kind=RESPONSE)
        ids = list(deadlines.values_list("pk", flat=True))
        assert len(ids) == len(tickets)
        deadlines.update(stage=0, state=State.PENDING, warn_at=warn_at, due_at=due_at, next_check_at=warn_at)
        return ids

    return move


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    """Wait (bounded) for `predicate`; fail naming `what` if it never held."""
    assert wait_until(predicate, timeout, interval), f"timed out after {timeout} s waiting for {what}"


def broker_idle(broker_url: str) -> bool:
    """Nothing queued and nothing taken but unacknowledged: with acks late, every task has finished."""
    with Connection(broker_url) as connection:
        channel = connection.default_channel
        return channel.client.llen("celery") == 0 and channel.client.hlen(channel.unacked_key) == 0
