"""
PostgreSQL restarted under a running desk: the web and the worker reconnect by themselves
(DESIGN.md; settings: CONN_HEALTH_CHECKS with persistent connections, CONN_MAX_AGE 60 s).

Everything runs on servers of the test's own: a throwaway PostgreSQL cluster (migrated, one manager
in it), a throwaway Redis, gunicorn with one sync worker (so the requests before and after the
restart go through the same process and its persistent connection) and a Celery worker with one
pool process. PostgreSQL is restarted in "fast" mode, which ends every open connection; the very
first request and the very first task afterwards must succeed.
"""

import subprocess
import sys

import pytest
from celery import Celery

from bench.soak import ROOT, Browser, app_env, celery_worker, free_port, gunicorn, start_web, start_worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SETUP = """\
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from accounts.models import User
manager = User(username="boss", role="manager", email="boss@example.cn")
manager.set_password("Restart-2026!")
manager.save()
"""


def send(broker_url: str, task: str) -> str:
    """Send a task by name, as beat does; returns its id."""
    app = Celery(set_as_current=False)
    # Not `broker=`: Celery prefers the CELERY_BROKER_URL variable (CI's Redis) to it.
    app.conf.broker_write_url = broker_url
    try:
        return app.send_task(task).id
    finally:
        app.close()


def test_c_web_and_worker_reconnect_after_postgresql_restarts(postgres_server, redis_up, workdir):
    # given: a desk on its own PostgreSQL, serving a signed-in manager, with a worker taking tasks
    env = app_env(
        database_url=postgres_server.create_database("desk"),
        redis_url=redis_up.url(1),
        broker_url=redis_up.url(0),
        workdir=workdir,
    )
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, timeout=180)  # noqa: S603
    port = free_port()
    web = gunicorn(env, port, workdir / "logs" / "web.log", workers=1)
    worker = celery_worker("restart", env, workdir / "logs" / "worker.log")
    try:
        start_web(web, port)
        start_worker(worker)
        manager = Browser(port, "boss")
        manager.login("Restart-2026!")
        status, _, _ = manager.get("/notifications/")
        assert status == 200
        task = send(redis_up.url(0), "sla.tasks.sweep_deadlines_task")
        assert worker.wait_for_log(rf"{task}\] succeeded", 30), worker.log()[-3000:]

        # when: PostgreSQL restarts, ending every connection the web and the worker hold
        postgres_server.restart(mode="fast")

        # then: the first request and the first task after it succeed, without anyone's help
        status, _, body = manager.get("/notifications/")
        assert status == 200, body[:500]
        mark = len(worker.log())
        task = send(redis_up.url(0), "sla.tasks.sweep_deadlines_task")
        assert worker.wait_for_log(rf"{task}\] succeeded", 30, after=mark), worker.log()[mark:][-3000:]
        # and a new sign-in works too (a session written after the restart)
        Browser(port, "boss").login("Restart-2026!")
        assert "Traceback" not in web.log()
    finally:
        worker.stop()
        web.stop()
