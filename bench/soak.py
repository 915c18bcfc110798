"""
Soak: mixed traffic on loopback against the whole desk while its parts fail, then a count of what survived.

`python -m bench soak --seconds 600` (`make soak`); CI runs the short form, `--seconds 60`. It starts
its own PostgreSQL and Redis on free ports in a temporary folder (or, with `--use-env`, uses
DATABASE_URL, REDIS_URL and CELERY_BROKER_URL), migrates, seeds a small world, starts gunicorn (as
the Dockerfile does) and a Celery worker with beat, and sends intake calls, engineers' acts and
comments, portal requests with a small attachment, manager and engineer pages and API lists from a
bounded pool of threads, each a real session signed in through the login page. Mid-way the worker
is killed with SIGKILL (the whole process group: pool and beat too) and started again, and Redis is
killed and started again empty (as the machine's Redis keeps nothing on disk). Every so often a few
response deadlines are moved into the past, as if their time had run out.

Then traffic stops, the worker drains (bounded), and the harness checks: every ticket, comment,
attachment and work log whose request was accepted (2xx/3xx) is in the database once; every deadline
made to lapse was acted on exactly once per level it reached; every message of the outbox is sent
and arrived exactly once in the mailbox (the worker sends e-mail to files). It prints a JSON summary
and exits 1 if anything was lost or done twice.

One duplicate is told apart, not hidden: an e-mail the mail server took in the instant before the
worker was killed, whose row could not be marked sent, is sent again once the claim lease is over.
That is at-least-once delivery, all a sender can promise without the receiver's help; the summary
counts it as `resent_after_kill` (only when the row's second attempt spans a kill), never in
`doubled`.

Two timings of the outbox are shortened in the worker only, so that the run can wait for them:
`--claim-lease` (20 s instead of 5 minutes: a message claimed by a worker that was killed is tried
again after it) and `--sweep-grace` (5 s instead of 30: the age at which the beat's sweep takes a
message whose task was lost, as happens when Redis restarts empty). Nothing else of the desk is changed.

The helpers for throwaway servers and processes at the top are shared with tests/faults.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# Throwaway servers and child processes (also used by tests/faults)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds have passed; True if it became true."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(interval)


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on the machine (PG_BINDIR overrides)."""
    candidates = [Path(os.environ["PG_BINDIR"])] if os.environ.get("PG_BINDIR") else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for path in candidates:
        if all((path / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def missing_tools() -> list[str]:
    """What the throwaway servers need and the machine lacks (empty when all is there)."""
    missing = []
    if postgres_bindir() is None:
        missing.append("PostgreSQL server binaries (initdb, pg_ctl, postgres)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            missing.append("runuser (PostgreSQL refuses to run as root)")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a 'postgres' user to run PostgreSQL as")
    return missing


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its commands as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own in a temporary folder, on a free loopback port, trust auth."""

    def __init__(self, port: int | None = None):
        self.bindir = postgres_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sd-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.running = False
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *argv: str, timeout: float = 60) -> None:
        with open(os.devnull, "wb") as devnull:
            subprocess.run(  # noqa: S603 (our own arguments)
                _as_postgres(list(argv)),
                check=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                stdout=devnull,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> ThrowawayPostgres:
        if not self.data.exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")
            self.running = False

    def restart(self, mode: str = "fast") -> None:
        """Stop (ending every connection) and start again on the same port."""
        self.stop(mode)
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


class Child:
    """A child process in its own process group, its output in a log file; stopped by its pid only."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log_path: Path, cwd: Path = ROOT):
        self.name, self.argv, self.env, self.log_path, self.cwd = name, argv, env, log_path, cwd
        self.process: subprocess.Popen | None = None

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own arguments)
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker's pool processes and beat too), then reap it."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, wait (bounded), then SIGKILL what is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)  # stragglers of the group (pool processes)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float, *, after: int = 0) -> bool:
        """Wait until the log, from character `after` on, matches `pattern` (or the process dies)."""
        regex = re.compile(pattern)
        return wait_until(
            lambda: bool(regex.search(self.log()[after:])) or not self.alive(), timeout
        ) and bool(regex.search(self.log()[after:]))


def children_of(pid: int) -> list[int]:
    """The pids whose parent is `pid`, read from /proc (no process listing by name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after it are fixed.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class ThrowawayRedis:
    """A Redis of its own on a free loopback port that keeps nothing on disk; can crash and come back."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sd-redis-"))
        self.child: Child | None = None

    def start(self) -> ThrowawayRedis:
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.root), "--daemonize", "no", "--protected-mode", "yes",
        ]  # fmt: skip
        self.child = Child("redis", argv, env=dict(os.environ), log_path=self.root / "redis.log").start()
        if not wait_until(self.ping, 15):
            raise RuntimeError(f"redis-server did not answer on port {self.port}: {self.child.log()[-2000:]}")
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, crash: bool = True) -> None:
        """Kill the server (SIGKILL: a crash, its data gone) or stop it (SIGTERM); wait for the port."""
        if self.child is None:
            return
        if crash:
            self.child.kill()
        else:
            self.child.stop()
        self.child = None
        wait_until(lambda: not port_open(self.port), 10)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(crash=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayRedis:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


def app_env(
    *, database_url: str, redis_url: str, broker_url: str, workdir: Path, extra: dict | None = None
) -> dict:
    """The environment of a web or worker process of the desk, in production settings, on loopback."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_")) and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "DATABASE_URL": database_url,
            # The soak and the fault tests check each deadline's own messages: no digests.
            "SLA_DIGEST_AFTER": "1000000",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker_url,
            "DEBUG": "0",
            "SECRET_KEY": "soak-" + uuid.uuid4().hex,
            # Plain HTTP on loopback: no redirect to HTTPS, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "VAR_DIR": str(workdir / "var"),
            "MEDIA_ROOT": str(workdir / "media"),
            # Each e-mail is written to a file in this folder; the checks read them back.
            "EMAIL_URL": f"filemail:///{workdir / 'mail'}",
            "SITE_URL": "http://127.0.0.1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra or {})
    return env


# The worker, with outbox timings shortened where a test cannot wait for the real ones.
WORKER_BOOT = """\
import sys, datetime, json, django
django.setup()
import notifications.services as outbox
for name, seconds in json.loads(sys.argv.pop(1)).items():
    setattr(outbox, name, datetime.timedelta(seconds=seconds))
from celery.__main__ import main
sys.argv[0] = "celery"
sys.exit(main())
"""


def celery_worker(
    name: str,
    env: dict,
    log_path: Path,
    *,
    concurrency: int = 1,
    beat: bool = False,
    timings: dict | None = None,
) -> Child:
    """A prefork Celery worker of the desk (not started); `timings` overrides outbox constants (seconds)."""
    argv = [PYTHON, "-c", WORKER_BOOT, json.dumps(timings or {})]
    argv += [
        "-A", "servicedesk", "worker", "--pool=prefork", f"--concurrency={concurrency}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    if beat:
        argv += ["--beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
        argv += ["--schedule", str(log_path.parent / f"{name}-beat-schedule")]
    return Child(name, argv, env=env, log_path=log_path)


def start_worker(worker: Child, timeout: float = 60) -> Child:
    """Start the worker and wait until it says it is ready to take tasks."""
    mark = len(worker.log())
    worker.start()
    if not worker.wait_for_log(r"@\S+ ready\.", timeout, after=mark):
        worker.stop()
        raise RuntimeError(f"worker {worker.name} not ready: {worker.log()[mark:][-3000:]}")
    return worker


MAIL_SEPARATOR = "\n" + "-" * 79 + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def read_mailbox(folder: Path) -> Counter:
    """The e-mails Django's file backend wrote in `folder`, as (to, subject) → how many."""
    found: Counter = Counter()
    if not folder.exists():
        return found
    for path in sorted(folder.iterdir()):
        for chunk in path.read_text(errors="replace").split(MAIL_SEPARATOR):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk)
            if message["Subject"] is None or message["To"] is None:
                continue  # a message cut short by a killed worker
            subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
            found[(_one_line(message["To"]), _one_line(subject))] += 1
    return found


def sent_mail_expected(rows) -> Counter:
    """The (to, subject) each sent e-mail row should have produced, as read_mailbox counts them."""
    from django.conf import settings

    prefix = f"[{getattr(settings, 'SITE_NAME', 'servicedesk')}] "
    return Counter((_one_line(row.recipient.email), _one_line(prefix + row.subject)) for row in rows)


def migrate(env: dict, log_path: Path) -> None:
    with open(log_path, "ab") as log:
        subprocess.run(  # noqa: S603 (our own arguments)
            [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def gunicorn(env: dict, port: int, log_path: Path, workers: int = 3) -> Child:
    """The web process as the Dockerfile runs it (sync workers, default 30 s timeout), on loopback."""
    argv = [
        PYTHON, "-m", "gunicorn", "servicedesk.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--graceful-timeout", "5",
    ]  # fmt: skip
    return Child("web", argv, env=env, log_path=log_path)


def start_web(web: Child, port: int, timeout: float = 60) -> Child:
    web.start()

    def healthy() -> bool:
        try:
            status, _, _ = http_get(port, "/healthz")
            return status == 200
        except OSError:
            return False

    if not wait_until(lambda: healthy() or not web.alive(), timeout, 0.2) or not web.alive():
        web.stop()
        raise RuntimeError(f"gunicorn did not start: {web.log()[-3000:]}")
    return web


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Browser:
    """One signed-in person over plain http.client: cookies, CSRF header, forms and multipart."""

    def __init__(self, port: int, username: str, timeout: float = 60):
        self.port, self.username, self.timeout = port, username, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body); raises OSError (timeouts included) when no answer came."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method != "GET" and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    key, _, cookie = pair.partition("=")
                    self.cookies[key.strip()] = cookie.strip()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, fields: dict | list):
        body = urlencode(fields, doseq=True).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields: dict, files: list[tuple[str, str, bytes]]):
        boundary = "soak" + uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, filename, content in files:
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", path, b"".join(parts), headers)

    def login(self, password: str) -> None:
        status, _, _ = self.get("/login/")
        if status != 200 or "csrftoken" not in self.cookies:
            raise RuntimeError(f"login page for {self.username}: HTTP {status}")
        status, headers, _ = self.post("/login/", {"username": self.username, "password": password})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.username} could not sign in: HTTP {status}")


# The soak

PASSWORD = "soak-Pass-2026!"  # noqa: S105 - a throwaway world on a throwaway database
VERSION = re.compile(rb'name="version" value="(\d+)"')
ACT_LINK = re.compile(rb"/act/([a-z_]+)/")
LOGGED = re.compile(r"logged=(SD-\d{4}-\d+)")
DETAIL = re.compile(r"/tickets/(SD-\d{4}-\d+)/")
# Response targets of the 7x24 policy for a Level II fault: 30 minutes; level 2 comes half of it
# after the due time (sla migration 0002). Each bucket places a deadline so it reaches those levels.
LAPSE_BUCKETS = {
    "warned": ((-20, 60), {0}),  # (warn_at, due_at) in minutes from now: past the warning only
    "breached": ((-20, -1), {0, 1}),
    "breached twice": ((-40, -20), {0, 1, 2}),
}


def add_arguments(parser) -> None:
    parser.add_argument("--seconds", type=float, default=600, help="length of the traffic (default 600)")
    parser.add_argument("--threads", type=int, default=8, help="people sending requests at once (default 8)")
    parser.add_argument(
        "--use-env",
        action="store_true",
        help="use DATABASE_URL, REDIS_URL and CELERY_BROKER_URL instead of throwaway servers "
        "(Redis is then not restarted: it is not ours)",
    )
    parser.add_argument("--kill-worker-at", type=float, default=0.35, help="fraction of the run (0.35)")
    parser.add_argument("--restart-redis-at", type=float, default=0.6, help="fraction of the run (0.6)")
    parser.add_argument("--redis-outage", type=float, default=5.0, help="seconds Redis stays down (5)")
    parser.add_argument("--drain-seconds", type=float, default=240, help="longest wait for the work left")
    parser.add_argument("--claim-lease", type=float, default=20, help="outbox claim lease in the worker (s)")
    parser.add_argument(
        "--sweep-grace", type=float, default=5, help="age before the outbox sweep takes a message (s)"
    )
    parser.add_argument("--sweep-every", type=float, default=10, help="the harness also sends the sweep")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn sync workers (3, as deployed)")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the traffic")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, mail) for a look")


@dataclass
class Org:
    pk: int
    site: int
    contact: int
    contract: str
    equipment: list[int]
    customers: list[str]


@dataclass
class World:
    agents: list[str]
    engineers: list[str]
    engineer_ids: dict[str, int]
    manager: str
    team: int
    orgs: list[Org]


def seed_world(run: str) -> World:
    """A centre, its manager, two agents, a tier-1 team of three engineers and a supervisor, a tier-2
    team, and two customer organisations with a site, a 7x24 contract, equipment and two customers."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.choices import Role, Tier
    from accounts.models import SupportCentre, Team, User
    from customers.choices import ContractStatus, Coverage, Zone
    from customers.models import Contact, Contract, Equipment, Organisation, Site

    def user(username, role, centre=None, **extra):
        person = User(
            username=username, role=role, centre=centre, email=f"{username}@soak.example.cn", **extra
        )
        person.set_password(PASSWORD)
        person.save()
        return person

    manager = user(f"{run}-manager", Role.MANAGER)
    centre = SupportCentre.objects.create(code=f"{run}-centre", name=f"浸泡测试中心 {run}", manager=manager)
    manager.centre = centre
    manager.save(update_fields=["centre"])
    agents = [user(f"{run}-agent{n}", Role.AGENT, centre) for n in range(2)]
    engineers = [user(f"{run}-eng{n}", Role.ENGINEER, centre) for n in range(3)]
    supervisor = user(f"{run}-supervisor", Role.ENGINEER, centre)
    team = Team.objects.create(name=f"一线 {run}", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(*engineers, supervisor)
    lead = user(f"{run}-lead", Role.ENGINEER, centre)
    expert = Team.objects.create(name=f"二线 {run}", centre=centre, tier=Tier.DEDICATED, supervisor=lead)
    expert.members.add(lead)
    today = timezone.localdate()
    orgs = []
    for n in range(2):
        organisation = Organisation.objects.create(name=f"浸泡客户 {run}-{n}")
        site = Site.objects.create(
            organisation=organisation,
            name="机房",
            address="中山路1号",
            city="南京",
            centre=centre,
            zone=Zone.CITY,
        )
        contract = Contract.objects.create(
            number=f"HT-{run}-{n}",
            organisation=organisation,
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=365),
            coverage=Coverage.FULL,
            status=ContractStatus.ACTIVE,
        )
        equipment = [
            Equipment.objects.create(
                model_name="PowerEdge R750", serial_number=f"SN-{run}-{n}-{k}", site=site, contract=contract
            ).pk
            for k in range(3)
        ]
        customers = []
        for k in range(2):
            person = user(f"{run}-cust{n}{k}", Role.CUSTOMER)
            contact = Contact.objects.create(organisation=organisation, name=f"联系人{n}{k}", user=person)
            customers.append(person.username)
        orgs.append(Org(organisation.pk, site.pk, contact.pk, contract.number, equipment, customers))
    return World(
        agents=[person.username for person in agents],
        engineers=[person.username for person in engineers],
        engineer_ids={person.username: person.pk for person in engineers},
        manager=manager.username,
        team=team.pk,
        orgs=orgs,
    )


@dataclass
class Ledger:
    """What the traffic did: every request's outcome, and the records whose creation was accepted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    conflicts: int = 0
    accepted: dict = field(default_factory=lambda: defaultdict(list))
    tickets: list = field(default_factory=list)  # (number, org index, assignee username or "")

    def record(self, kind: str, status: int | None, seconds: float, error: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if status == 409:
                self.conflicts += 1
            elif status is None:
                self.errors[f"{kind}: {error}"] += 1
            elif status >= 400:
                self.errors[f"{kind}: HTTP {status}"] += 1

    def accept(self, what: str, value) -> None:
        with self.lock:
            self.accepted[what].append(value)

    def add_ticket(self, number: str, org: int, assignee: str) -> None:
        with self.lock:
            self.tickets.append((number, org, assignee))

    def pick_ticket(self, rng: random.Random, *, org: int | None = None, assignee: str | None = None):
        with self.lock:
            choices = [
                ticket
                for ticket in self.tickets[-200:]
                if (org is None or ticket[1] == org) and (assignee is None or ticket[2] == assignee)
            ]
        return rng.choice(choices) if choices else None


class Person(threading.Thread):
    """One signed-in user sending requests until told to stop (or the request budget is spent)."""

    def __init__(self, role, username, org, world, port, ledger, stop, rng, budget):
        super().__init__(name=f"soak-{username}", daemon=True)
        self.role, self.world, self.ledger, self.stop_event, self.rng = role, world, ledger, stop, rng
        self.browser = Browser(port, username)
        self.username, self.budget = username, budget
        self.org = org  # a customer's organisation (index into world.orgs)

    def call(self, kind: str, send) -> tuple[int | None, dict, bytes]:
        started = time.monotonic()
        try:
            status, headers, body = send()
        except (OSError, http.client.HTTPException) as exc:
            self.ledger.record(kind, None, time.monotonic() - started, type(exc).__name__)
            return None, {}, b""
        self.ledger.record(kind, status, time.monotonic() - started)
        return status, headers, body

    def run(self) -> None:
        self.browser.login(PASSWORD)
        actions = {
            "agent": [(self.intake, 6), (self.intake_page, 1), (self.ticket_list, 1)],
            "engineer": [(self.work_on_ticket, 5), (self.my_work, 2), (self.notifications, 1)],
            "customer": [(self.portal_request, 3), (self.customer_comment, 2), (self.portal_pages, 3)],
            "manager": [(self.manager_pages, 4), (self.api_list, 2)],
        }[self.role]
        functions, weights = zip(*actions, strict=True)
        while not self.stop_event.is_set() and self.budget.take():
            self.rng.choices(functions, weights)[0]()
            self.stop_event.wait(self.rng.uniform(0.0, 0.05))

    def marker(self, what: str) -> str:
        return f"soak:{what}:{uuid.uuid4().hex[:12]}"

    # Agents

    def intake(self) -> None:
        org = self.world.orgs[self.rng.randrange(len(self.world.orgs))]
        engineer = self.rng.choice(self.world.engineers)
        title = self.marker("ticket")
        fields = {
            "organisation": org.pk,
            "contract_number": org.contract,
            "contact": org.contact,
            "site": org.site,
            "equipment": self.rng.choice(org.equipment),
            "title": title,
            "description": "核心交换机端口告警，部分业务中断",
            "kind": "fault",
            "level": "2",
            "urgency": "urgent",
            "channel": "phone",
            "team": self.world.team,
            "assignee": self.world.engineer_ids[engineer],
        }
        status, headers, _ = self.call("intake", lambda: self.browser.post("/intake/", fields))
        if status in (301, 302, 303) and (found := LOGGED.search(headers.get("location", ""))):
            self.ledger.accept("tickets", title)
            self.ledger.add_ticket(found.group(1), self.world.orgs.index(org), engineer)

    def intake_page(self) -> None:
        org = self.world.orgs[self.rng.randrange(len(self.world.orgs))]
        self.call("intake page", lambda: self.browser.get(f"/intake/?contract={org.contract}"))

    def ticket_list(self) -> None:
        self.call("ticket list", lambda: self.browser.get("/tickets/"))

    # Engineers

    def work_on_ticket(self) -> None:
        ticket = self.ledger.pick_ticket(self.rng, assignee=self.username)
        if ticket is None:
            return self.my_work()
        number = ticket[0]
        status, _, page = self.call("ticket page", lambda: self.browser.get(f"/tickets/{number}/"))
        if status != 200 or not (version := VERSION.search(page)):
            return None
        version = version.group(1).decode()
        offered = {name.decode() for name in ACT_LINK.findall(page)}
        choice = self.rng.random()
        if choice < 0.45:
            return self.comment(number, version, with_file=self.rng.random() < 0.5, kind="comment")
        if "accept" in offered:
            return self.act(number, "accept", {"version": version})
        if "log_work" in offered and choice < 0.8:
            note = self.marker("work")
            if self.act(
                number, "log_work", {"version": version, "minutes": 15, "method": "remote", "note": note}
            ):
                self.ledger.accept("work_logs", note)
            return None
        if "respond" in offered:
            return self.act(number, "respond", {"version": version, "note": "已电话联系客户"})
        return self.comment(number, version, with_file=False, kind="comment")

    def act(self, number: str, name: str, fields: dict) -> bool:
        path = f"/tickets/{number}/act/{name}/"
        status, _, _ = self.call(f"act {name}", lambda: self.browser.post(path, fields))
        return status in (301, 302, 303)

    def comment(self, number: str, version: str, *, with_file: bool, kind: str) -> None:
        body = self.marker("comment")
        path = f"/tickets/{number}/comment/"
        if with_file:
            name = f"{self.marker('file').replace(':', '-')}.log"
            content = f"{name}\n2026-05-01 10:00:00 link down on port 3\n".encode()
            fields = {"body": body, "version": version}
            send = lambda: self.browser.post_multipart(path, fields, [("files", name, content)])  # noqa: E731
        else:
            send = lambda: self.browser.post(path, {"body": body, "version": version})  # noqa: E731
        status, _, _ = self.call(kind + (" with file" if with_file else ""), send)
        if status in (301, 302, 303):
            self.ledger.accept("comments", body)
            if with_file:
                self.ledger.accept("attachments", (name, content))

    def my_work(self) -> None:
        self.call("my work", lambda: self.browser.get("/work/"))

    def notifications(self) -> None:
        self.call("notifications", lambda: self.browser.get("/notifications/"))

    # Customers

    def portal_request(self) -> None:
        org = self.world.orgs[self.org]
        title = self.marker("ticket")
        fields = {
            "site": org.site,
            "equipment": self.rng.choice(org.equipment),
            "kind": "fault",
            "level": "3",
            "urgency": "general",
            "title": title,
            "description": "打印服务器无法访问",
        }
        if self.rng.random() < 0.5:
            name = f"{self.marker('file').replace(':', '-')}.txt"
            content = f"{name}\nping 10.0.0.5: timeout\n".encode()
            send = lambda: self.browser.post_multipart("/portal/new/", fields, [("files", name, content)])  # noqa: E731
            kind = "portal request with file"
        else:
            name = content = None
            send = lambda: self.browser.post_multipart("/portal/new/", fields, [])  # noqa: E731
            kind = "portal request"
        status, headers, _ = self.call(kind, send)
        if status in (301, 302, 303) and (found := DETAIL.search(headers.get("location", ""))):
            self.ledger.accept("tickets", title)
            if name:
                self.ledger.accept("attachments", (name, content))
            self.ledger.add_ticket(found.group(1), self.org, "")

    def customer_comment(self) -> None:
        ticket = self.ledger.pick_ticket(self.rng, org=self.org)
        if ticket is None:
            return self.portal_pages()
        status, _, page = self.call("ticket page", lambda: self.browser.get(f"/tickets/{ticket[0]}/"))
        if status == 200 and (version := VERSION.search(page)):
            self.comment(ticket[0], version.group(1).decode(), with_file=False, kind="customer comment")
        return None

    def portal_pages(self) -> None:
        path = self.rng.choice(["/portal/", "/portal/?state=all", "/portal/equipment/", "/notifications/"])
        self.call("portal page", lambda: self.browser.get(path))

    # Managers

    def manager_pages(self) -> None:
        path = self.rng.choice(["/sla/queue/", "/tickets/", "/dashboard/", "/tickets/?status=assigned"])
        self.call("manager page", lambda: self.browser.get(path))

    def api_list(self) -> None:
        self.call("api tickets", lambda: self.browser.request("GET", "/api/tickets/?ordering=-created_at"))


class Budget:
    """A bounded count of requests shared by all threads."""

    def __init__(self, total: int):
        self.left, self.lock = total, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def lapse_some(rng: random.Random, ledger: Ledger, lapsed: dict, count: int = 3) -> int:
    """Move the response deadlines of a few of the run's tickets into the past (untouched ones only)."""
    from datetime import timedelta

    from django.utils import timezone

    from sla.choices import State
    from sla.models import Deadline
    from tickets.models import Ticket

    with ledger.lock:
        numbers = [number for number, _, assignee in ledger.tickets if assignee]
    rng.shuffle(numbers)
    moved = 0
    for number in numbers:
        if moved >= count:
            break
        ticket_id = Ticket.objects.filter(number=number).values_list("pk", flat=True).first()
        deadline = (
            Deadline.objects.filter(object_id=ticket_id, kind="ticket.response", state=State.PENDING, stage=0)
            .exclude(pk__in=list(lapsed))
            .filter(paused_at__isnull=True, next_check_at__isnull=False)
            .first()
        )
        if deadline is None:
            continue
        bucket = rng.choice(list(LAPSE_BUCKETS))
        (warn, due), _ = LAPSE_BUCKETS[bucket]
        now = timezone.now()
        warn_at, due_at = now + timedelta(minutes=warn), now + timedelta(minutes=due)
        # Only if the sweep and the engineers have not touched it meanwhile (stage 0, pending).
        changed = Deadline.objects.filter(pk=deadline.pk, stage=0, state=State.PENDING).update(
            warn_at=warn_at, due_at=due_at, next_check_at=warn_at
        )
        if changed:
            lapsed[deadline.pk] = bucket
            moved += 1
    return moved


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)  # noqa: S311 - traffic mix, not secrets
        self.run_id = "s" + uuid.uuid4().hex[:6]
        self.workdir = Path(tempfile.mkdtemp(prefix="sd-soak-"))
        self.faults: list[dict] = []
        self.kills: list = []  # when the worker was killed (aware datetimes)
        self.worker_starts = 0
        self.worker: Child | None = None
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        sys.stderr.write(f"[soak {time.monotonic() - self.started:7.1f}s] {message}\n")
        sys.stderr.flush()

    def new_worker(self) -> Child:
        self.worker_starts += 1
        worker = celery_worker(
            f"soak{self.worker_starts}",
            self.env,
            self.workdir / "logs" / f"worker{self.worker_starts}.log",
            concurrency=2,
            beat=True,
            timings={"CLAIM_LEASE": self.args.claim_lease, "SWEEP_GRACE": self.args.sweep_grace},
        )
        return start_worker(worker)

    def run(self) -> dict:
        args = self.args
        with contextlib.ExitStack() as stack:
            if not args.keep:
                stack.callback(shutil.rmtree, self.workdir, True)
            if args.use_env:
                database_url = os.environ["DATABASE_URL"]
                redis_url = os.environ["REDIS_URL"]
                broker_url = os.environ.get("CELERY_BROKER_URL") or redis_url
                redis = None
            else:
                missing = missing_tools()
                if missing:
                    raise SystemExit("soak: missing " + ", ".join(missing) + " (or use --use-env)")
                postgres = stack.enter_context(ThrowawayPostgres())
                redis = stack.enter_context(ThrowawayRedis())
                database_url = postgres.create_database("soak")
                redis_url, broker_url = redis.url(1), redis.url(0)
            self.env = app_env(
                database_url=database_url, redis_url=redis_url, broker_url=broker_url, workdir=self.workdir
            )
            (self.workdir / "mail").mkdir(parents=True, exist_ok=True)
            (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
            self.log(f"migrating {urlsplit(database_url).path[1:]} …")
            migrate(self.env, self.workdir / "logs" / "migrate.log")
            self.log("seeding; starting web and worker …")
            os.environ.update({key: self.env[key] for key in self.env if key not in ("PYTHONPATH",)})
            import django

            django.setup()
            from django.utils import timezone

            world = seed_world(self.run_id)
            port = free_port()
            web = gunicorn(self.env, port, self.workdir / "logs" / "web.log", workers=args.web_workers)
            stack.callback(web.stop)
            stack.callback(lambda: self.worker and self.worker.stop())
            starting = threading.Thread(target=lambda: setattr(self, "worker", self.new_worker()))
            starting.start()  # the worker boots while gunicorn does
            stack.callback(starting.join, 120)  # never leave a worker starting behind
            start_web(web, port)
            starting.join(timeout=120)
            if self.worker is None:
                raise RuntimeError("the worker did not start")
            self.log(f"web on 127.0.0.1:{port}, worker up; traffic for {args.seconds:.0f} s")
            ledger, lapsed = Ledger(), {}
            self.since = timezone.now()  # the checks look at what this run wrote
            traffic = self.traffic(world, port, ledger, lapsed, redis)
            drained = self.drain(lapsed)
            self.worker.stop()
            web.stop()
            summary = self.check(ledger, lapsed, traffic, drained)
            if args.keep:
                summary["workdir"] = str(self.workdir)
            return summary

    def traffic(self, world: World, port: int, ledger: Ledger, lapsed: dict, redis: ThrowawayRedis | None):
        from django.utils import timezone

        from servicedesk.celery import app

        args = self.args
        stop = threading.Event()
        budget = Budget(int(args.seconds * 400))
        roles = (
            [("agent", name, 0) for name in world.agents]
            + [("engineer", name, 0) for name in world.engineers]
            + [("customer", org.customers[0], index) for index, org in enumerate(world.orgs)]
            + [("manager", world.manager, 0)]
        )
        # More threads than roles: the next people are the organisations' second customers, then
        # the same people again (each thread signs in with its own session).
        extra = [("customer", org.customers[1], index) for index, org in enumerate(world.orgs)]
        roles = roles + extra if args.threads > len(roles) else roles
        people = [
            Person(
                *roles[n % len(roles)],
                world,
                port,
                ledger,
                stop,
                random.Random(self.rng.random()),  # noqa: S311 - traffic mix, not secrets
                budget,
            )
            for n in range(args.threads)
        ]
        # Requests sent on purpose while Redis is down: a sign-in, an API list, a call logged.
        probes = {
            "agent": Browser(port, world.agents[0]),
            "manager": Browser(port, world.manager),
            "world": world,
        }
        probes["agent"].login(PASSWORD)
        probes["manager"].login(PASSWORD)
        began = time.monotonic()
        for person in people:
            person.start()
        kill_at = began + args.seconds * args.kill_worker_at
        redis_at = began + args.seconds * args.restart_redis_at
        lapse_every = max(args.seconds / 8, 5)
        next_lapse, next_sweep = began + lapse_every, began + args.sweep_every
        killed = restarted = False
        end = began + args.seconds
        while time.monotonic() < end:
            now = time.monotonic()
            if not killed and now >= kill_at:
                killed = True
                self.kills.append(timezone.now())
                self.worker.kill()
                self.faults.append(
                    {"at_s": round(now - began, 1), "what": "worker SIGKILL (pool and beat too)"}
                )
                self.log("worker killed (SIGKILL)")
                time.sleep(2)
                self.worker = self.new_worker()
                self.log("new worker ready")
            if not restarted and now >= redis_at:
                restarted = True
                if redis is None:
                    self.faults.append({"what": "redis restart skipped (--use-env: not our server)"})
                else:
                    redis.stop(crash=True)
                    self.log(f"redis killed; down for {args.redis_outage} s")
                    probing = threading.Thread(target=self.probe_outage, args=(probes, ledger))
                    probing.start()
                    time.sleep(args.redis_outage)
                    redis.start()
                    probing.join(timeout=90)
                    self.faults.append(
                        {
                            "at_s": round(now - began, 1),
                            "what": "redis SIGKILL, started again empty",
                            "outage_s": args.redis_outage,
                        }
                    )
                    self.log("redis back")
            if now >= next_lapse:
                next_lapse += lapse_every
                lapse_some(self.rng, ledger, lapsed)
            if now >= next_sweep:
                next_sweep += args.sweep_every
                with contextlib.suppress(Exception):  # the broker may be down right now
                    app.send_task("sla.tasks.sweep_deadlines_task", retry=False)
            time.sleep(0.2)
        stop.set()
        for person in people:
            person.join(timeout=90)
        still = [person.name for person in people if person.is_alive()]
        if not self.worker.alive():
            # As a supervisor would (docker-compose's restart policy): start it again, and say why it died.
            causes = [
                line.strip()
                for line in self.worker.log_path.read_text(errors="replace").splitlines()
                if "Unrecoverable error" in line
            ]
            self.faults.append(
                {
                    "what": "worker found dead after traffic; started again",
                    "cause": causes[-1][-300:] if causes else "unknown",
                }
            )
            self.worker = self.new_worker()
        return {"seconds": round(time.monotonic() - began, 1), "threads_not_finished": still}

    def probe_outage(self, probes: dict, ledger: Ledger) -> None:
        """
        Sent as Redis dies: sign in on the login page, list tickets on the API, log a call. They may
        be answered after it is back (gunicorn's workers can all be busy meanwhile), so they show what
        happened, and the fault tests (tests/faults/test_redis_down.py) pin the behaviour down.
        """
        world = probes["world"]
        newcomer = Browser(probes["agent"].port, world.agents[1])

        def timed(kind, send):
            started = time.monotonic()
            try:
                status, headers, _ = send()
            except (OSError, http.client.HTTPException) as exc:
                ledger.record(kind, None, time.monotonic() - started, type(exc).__name__)
                return None, {}
            ledger.record(kind, status, time.monotonic() - started)
            return status, headers

        def sign_in():
            status, headers, body = newcomer.get("/login/")
            if status != 200:
                return status, headers, body
            return newcomer.post("/login/", {"username": newcomer.username, "password": PASSWORD})

        timed("sign-in (sent while redis down)", sign_in)
        timed("api tickets (sent while redis down)", lambda: probes["manager"].get("/api/tickets/"))
        org = world.orgs[0]
        title = f"soak:ticket:{uuid.uuid4().hex[:12]}"
        fields = {
            "organisation": org.pk, "contract_number": org.contract, "contact": org.contact,
            "site": org.site, "equipment": org.equipment[0], "title": title, "description": "断电",
            "kind": "fault", "level": "2", "urgency": "urgent", "channel": "phone",
            "team": world.team, "assignee": world.engineer_ids[world.engineers[0]],
        }  # fmt: skip
        status, headers = timed(
            "intake (sent while redis down)", lambda: probes["agent"].post("/intake/", fields)
        )
        if status in (301, 302, 303) and (found := LOGGED.search(headers.get("location", ""))):
            ledger.accept("tickets", title)
            ledger.add_ticket(found.group(1), 0, world.engineers[0])

    def drain(self, lapsed: dict) -> dict:
        """Send the beat's tasks until every message is sent and no deadline is overdue (bounded)."""
        from django.utils import timezone

        from notifications.choices import Channel, Status
        from notifications.models import Notification
        from servicedesk.celery import app
        from sla.models import Deadline

        began = time.monotonic()
        end = began + self.args.drain_seconds
        last_sweep = None
        stuck_rounds, last_overdue = 0, None
        while True:
            for task in ("sla.tasks.sweep_deadlines_task", "notifications.tasks.deliver_pending_task"):
                with contextlib.suppress(Exception):
                    app.send_task(task)
            sent_at = timezone.now()
            time.sleep(3)
            pending = (
                Notification.objects.filter(status=Status.PENDING, created_at__gte=self.since)
                .exclude(channel=Channel.IN_APP)
                .count()
            )
            overdue = Deadline.objects.open().due(last_sweep).count() if last_sweep else None
            last_sweep = sent_at
            # A deadline the sweeps leave overdue round after round is not coming: stop waiting.
            stuck_rounds = stuck_rounds + 1 if overdue and overdue == last_overdue else 0
            last_overdue = overdue
            if pending == 0 and overdue == 0:
                break
            if pending == 0 and stuck_rounds >= 3:
                break
            if time.monotonic() >= end:
                break
        time.sleep(2)  # the last sends finish writing
        return {"seconds": round(time.monotonic() - began, 1), "pending": pending, "overdue": overdue}

    def check(self, ledger: Ledger, lapsed: dict, traffic: dict, drained: dict) -> dict:
        from django.db.models import Count

        from notifications.choices import Channel, Status
        from notifications.models import Notification
        from sla.models import Deadline, Escalation
        from tickets.choices import Event
        from tickets.models import Attachment, Comment, Ticket, TimelineEvent, WorkLog

        checked, lost, doubled = Counter(), Counter(), Counter()
        details: dict[str, list] = defaultdict(list)

        def count_markers(values, accepted_key, what):
            present = Counter(values)
            for marker in ledger.accepted[accepted_key]:
                checked[what] += 1
                if present[marker] == 0:
                    lost[what] += 1
                    details[f"lost {what}"].append(marker)
            for marker, times in present.items():
                if times > 1:
                    doubled[what] += times - 1
                    details[f"doubled {what}"].append(marker)

        prefix = "soak:"
        count_markers(
            Ticket.objects.filter(title__startswith=prefix).values_list("title", flat=True),
            "tickets",
            "tickets",
        )
        count_markers(
            Comment.objects.filter(body__startswith=prefix).values_list("body", flat=True),
            "comments",
            "comments",
        )
        count_markers(
            WorkLog.objects.filter(note__startswith=prefix).values_list("note", flat=True),
            "work_logs",
            "work logs",
        )
        stored = Counter()
        for attachment in Attachment.objects.filter(original_name__startswith="soak-"):
            stored[attachment.original_name] += 1
            try:
                with attachment.file.open("rb") as handle:
                    if handle.read() != dict(ledger.accepted["attachments"]).get(attachment.original_name):
                        details["attachment content differs"].append(attachment.original_name)
            except OSError:
                details["attachment file missing"].append(attachment.original_name)
        for name, _content in ledger.accepted["attachments"]:
            checked["attachments"] += 1
            if stored[name] == 0 or name in details["attachment file missing"]:
                lost["attachments"] += 1
                details["lost attachments"].append(name)
        doubled["attachments"] += sum(times - 1 for times in stored.values() if times > 1)
        lost["attachments"] += len(details["attachment content differs"])

        # Notifications: keys unique, nothing left pending, each sent e-mail in the mailbox once.
        duplicates = (
            Notification.objects.filter(created_at__gte=self.since)
            .exclude(dedupe_key="")
            .values("dedupe_key")
            .annotate(times=Count("pk"))
            .filter(times__gt=1)
        )
        doubled["notifications"] += sum(row["times"] - 1 for row in duplicates)
        outgoing = Notification.objects.filter(created_at__gte=self.since).exclude(channel=Channel.IN_APP)
        checked["notifications"] += outgoing.count()
        unsent = outgoing.exclude(status=Status.SENT)
        lost["notifications"] += unsent.count()
        details["unsent notifications"] = list(unsent.values_list("pk", "status", "last_error")[:20])
        sent_mail = outgoing.filter(status=Status.SENT, channel=Channel.EMAIL).select_related("recipient")
        expected, delivered = sent_mail_expected(sent_mail), read_mailbox(self.workdir / "mail")
        checked["deliveries"] += sum(expected.values())
        resent = 0
        for key in set(expected) | set(delivered):
            if delivered[key] < expected[key]:
                lost["deliveries"] += expected[key] - delivered[key]
                details["e-mails sent but not in the mailbox"].append(key)
            elif delivered[key] > expected[key]:
                extra = delivered[key] - expected[key]
                # A worker killed after the mail server took a message and before the row said so
                # leaves it claimed; after the claim lease it is sent again. At-least-once is all
                # the desk can promise there: told apart by a second attempt spanning a kill.
                rows = [row for row in sent_mail if sent_mail_expected([row]).get(key)]
                spanning = [
                    row
                    for row in rows
                    if row.attempts >= 2 and any(row.created_at <= kill <= row.sent_at for kill in self.kills)
                ]
                explained = min(extra, len(spanning))
                resent += explained
                if explained:
                    details["e-mails sent again after the worker was killed mid-send"].append(key)
                if extra > explained:
                    doubled["deliveries"] += extra - explained
                    details["e-mails delivered more often than sent"].append(key)
        # Every accepted call assigned to an engineer told them (in the app and by e-mail).
        for number, _, assignee in ledger.tickets:
            if not assignee:
                continue
            for channel in (Channel.IN_APP, Channel.EMAIL):
                checked["notifications"] += 1
                if not Notification.objects.filter(
                    kind="ticket.assigned",
                    recipient__username=assignee,
                    channel=channel,
                    url__contains=number,
                ).exists():
                    lost["notifications"] += 1
                    details["assignment not told"].append((number, channel))

        # Deadlines: each level acted on once, with one timeline row and the people told.
        escalations = defaultdict(list)
        for deadline_id, level, told in Escalation.objects.values_list("deadline_id", "level", "told"):
            escalations[deadline_id].append((level, told))
        for deadline in Deadline.objects.filter(pk__in=list(lapsed)):
            checked["escalations"] += 1
            levels = Counter(level for level, _ in escalations[deadline.pk])
            doubled["escalations"] += sum(times - 1 for times in levels.values() if times > 1)
            if deadline.is_open:
                missing = LAPSE_BUCKETS[lapsed[deadline.pk]][1] - set(levels)
            else:  # met or cancelled before the sweep came: what was done must be a prefix
                missing = set(range(deadline.stage)) - set(levels)
            if missing:
                lost["escalations"] += len(missing)
                details["lapsed deadlines not escalated"].append(
                    (deadline.pk, lapsed[deadline.pk], sorted(missing))
                )
            if set(levels) != set(range(deadline.stage)):
                details["stage and escalations disagree"].append(
                    (deadline.pk, deadline.stage, sorted(levels))
                )
            for level, told in escalations[deadline.pk]:
                for person in told:
                    key = f"deadline-{deadline.pk}-{level}:{person}:{Channel.IN_APP}"
                    checked["notifications"] += 1
                    if not Notification.objects.filter(dedupe_key=key).exists():
                        lost["notifications"] += 1
                        details["escalation not told"].append(key)
        run_tickets = Ticket.objects.filter(title__startswith=prefix, created_at__gte=self.since)
        events = Counter(
            TimelineEvent.objects.filter(
                ticket__in=run_tickets, kind__in=[Event.SLA_WARNING, Event.ESCALATED]
            ).values_list("ticket_id", "kind")
        )
        acted = Counter()
        for deadline in Deadline.objects.filter(pk__in=list(escalations)):
            for level, _ in escalations[deadline.pk]:
                acted[(deadline.object_id, Event.SLA_WARNING if level == 0 else Event.ESCALATED)] += 1
        for key in set(events) | set(acted):
            checked["timeline"] += 1
            if events[key] > acted[key]:
                doubled["timeline"] += events[key] - acted[key]
            elif events[key] < acted[key]:
                lost["timeline"] += acted[key] - events[key]

        all_latencies = [value for values in ledger.latencies.values() for value in values]
        requests = len(all_latencies)
        errors = sum(ledger.errors.values())
        summary = {
            "run": self.run_id,
            "mode": "env" if self.args.use_env else "throwaway postgres + redis",
            "traffic_seconds": traffic["seconds"],
            "threads": self.args.threads,
            "requests": requests,
            "errors": errors,
            "errors_by_kind": dict(ledger.errors.most_common()),
            "conflicts_409": ledger.conflicts,
            "latency_ms": {
                "p50": ms(percentile(all_latencies, 0.5)),
                "p95": ms(percentile(all_latencies, 0.95)),
                "max": ms(max(all_latencies, default=0)),
            },
            "by_kind": {
                kind: {
                    "requests": len(values),
                    "p50_ms": ms(statistics.median(values)),
                    "p95_ms": ms(percentile(values, 0.95)),
                }
                for kind, values in sorted(ledger.latencies.items())
            },
            "faults": self.faults,
            "worker_starts": self.worker_starts,
            "claim_lease_s": self.args.claim_lease,
            "sweep_grace_s": self.args.sweep_grace,
            "drain": drained,
            "accepted": {what: len(values) for what, values in sorted(ledger.accepted.items())},
            "lapsed_deadlines": dict(Counter(lapsed.values())),
            "records_checked": sum(checked.values()),
            "records_checked_by_kind": dict(sorted(checked.items())),
            "lost": sum(lost.values()),
            "lost_by_kind": {key: value for key, value in sorted(lost.items()) if value},
            "doubled": sum(doubled.values()),
            # At most the messages in flight when the worker was killed (see check()); not doubled.
            "resent_after_kill": resent,
            "doubled_by_kind": {key: value for key, value in sorted(doubled.items()) if value},
            "details": {key: value[:10] for key, value in details.items() if value},
        }
        if traffic["threads_not_finished"]:
            summary["threads_not_finished"] = traffic["threads_not_finished"]
        return summary


def run(args) -> int:
    summary = Soak(args).run()
    text = json.dumps(summary, ensure_ascii=False, indent=2, default=str)
    print(text)  # noqa: T201 - the summary is the command's output
    if args.json_out:
        args.json_out.write_text(text + "\n")
    return 1 if summary["lost"] or summary["doubled"] else 0
