"""
The sweep benchmark (`python -m bench sweep`), run small: it escalates exactly the deadlines it
made due, where it says it put them, and refuses a database it would empty.

It runs as its own process against a database of its own (its name contains "bench"), as a
person runs it; the database is dropped afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from psycopg import sql

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 3_000
DUE = 120


def server_url(name: str) -> str:
    settings = connection.settings_dict
    user = quote(settings.get("USER") or "postgres")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def connect(name: str, **options):
    """A connection of its own to database `name` on the test database's server."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
        user=settings.get("USER") or "postgres",
        password=settings.get("PASSWORD") or None,
        **options,
    )


@pytest.fixture
def bench_database(worker_id):
    name = f"servicedesk_bench_pytest_{worker_id}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with connect("postgres", autocommit=True) as server:
        server.execute(drop)
    yield name
    with connect("postgres", autocommit=True) as server:
        server.execute(drop)


def bench(*options: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(  # noqa: S603 (our own interpreter, the test's own arguments)
        [sys.executable, "-m", "bench", "sweep", *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def escalated_tickets(name: str) -> list[int]:
    """The tickets the benchmark's sweep moved up a tier, by id."""
    with connect(name) as database:
        rows = database.execute("SELECT id FROM tickets_ticket WHERE tier = 2 ORDER BY id").fetchall()
    return [row[0] for row in rows]


def test_the_benchmark_escalates_every_due_deadline_where_it_put_them(bench_database):
    url = server_url(bench_database)

    newest = bench("--tickets", str(TICKETS), "--due", str(DUE), "--database-url", url)
    assert newest.returncode == 0, newest.stderr
    figures = json.loads(newest.stdout)
    assert figures["escalated"] == DUE
    assert figures["placement"] == "recent"
    assert figures["lost_races"] == 0
    assert "error" not in figures
    assert figures["server"]["wal_records"] > 0  # what the server wrote is reported
    moved = escalated_tickets(bench_database)
    assert len(moved) == DUE
    assert min(moved) > TICKETS - 10 * DUE  # among the newest tickets, not all in a row
    assert max(moved) == TICKETS
    assert len(set(b - a for a, b in zip(moved, moved[1:], strict=False))) == 1

    # Again on the same rows, spread over the whole table: the last run's changes are undone first.
    spread = bench(
        "--tickets", str(TICKETS), "--due", str(DUE), "--placement", "even", "--reuse", "--database-url", url
    )
    assert spread.returncode == 0, spread.stderr
    figures = json.loads(spread.stdout)
    assert figures["reused_rows"] is True
    assert figures["escalated"] == DUE
    moved = escalated_tickets(bench_database)
    assert len(moved) == DUE
    assert min(moved) <= TICKETS // DUE
    assert max(moved) == TICKETS


def test_the_benchmark_refuses_a_database_it_would_empty():
    result = bench("--tickets", "10", "--database-url", server_url("servicedesk_live"))
    assert result.returncode != 0
    assert "Refusing" in result.stderr
