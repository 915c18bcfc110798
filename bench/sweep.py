"""
Time one SLA sweep (`sla.services.sweep`) over a large deadline table, and count its queries.

Loads N open tickets, each with one response deadline, into a PostgreSQL database of its own
(its name must contain "bench": the tables it loads are emptied first), makes M of the deadlines
due, runs VACUUM ANALYZE and a CHECKPOINT, then times exactly one sweep and prints JSON:
{"tickets": N, "due": M, "seconds": ..., "queries": ..., "escalated": ..., "server": ...}.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_bench \\
        python -m bench sweep --tickets 1000000 --due 0

The database is created if missing and migrated. The M due deadlines lie among the newest
tickets (`--placement recent`, the default: on a live clock what falls due was opened within its
targets' time, hours to days, however many older tickets stay open), or are spread evenly over the
whole table (`--placement even`, the worst case: each due ticket on heap and index pages of its
own, so that up to the size where those pages outnumber M the cost grows with N). By default
they were warned already and are one minute overdue (`--level 1`: the sweep escalates each at
level 1, with its timeline row and messages); `--level 0` makes them only past their warning time.
`--reuse` keeps the tickets and deadlines of the last run when their number matches (loading
2,000,000 takes minutes) and only resets what the last sweep changed.

The checkpoint before the sweep writes out what loading dirtied, so that the sweep starts as one
does a while after a checkpoint: each page it is first to change since then costs a full-page
image in the WAL. "server" reports what PostgreSQL did meanwhile (WAL records, full-page images,
megabytes, syncs; buffers backends had to write out to make room), summed over every session.
`--profile` adds the query shapes that took the most time and the pages read per table and
index, and prints the Python profile to stderr (BENCH_SORT=tottime sorts it by own time). Tasks
go to Celery's in-memory transport: no e-mail leaves and no broker fills up.
"""

import cProfile
import json
import os
import pstats
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

TICKET_TABLES = (
    "tickets_ticket",
    "tickets_ticketcounter",
    "sla_deadline",
    "sla_escalation",
    "notifications_notification",
    "customers_equipment",
    "customers_contract",
    "customers_site",
    "customers_organisation",
    "accounts_team",
    "accounts_supportcentre",
    "accounts_user",
)
COPY_CHUNK = 20_000  # rows per write to the COPY stream
# With --placement recent, the due deadlines are every RECENT_BAND-th of the newest RECENT_BAND x M
# tickets: on a live clock what falls due was opened within the last targets' time (hours to days),
# however many older tickets are still open.
RECENT_BAND = 10


def add_arguments(parser) -> None:
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets (default 100000)")
    parser.add_argument("--due", type=int, default=0, help="deadlines the sweep must act on (default 0)")
    parser.add_argument(
        "--level",
        type=int,
        choices=(0, 1),
        default=1,
        help="1: due deadlines are overdue and escalate at level 1 (default); 0: only past their warning",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL database whose name contains 'bench' (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--placement",
        choices=("even", "recent"),
        default="recent",
        help=(
            f"which tickets' deadlines are due: among the newest {RECENT_BAND} x M tickets, as on a live "
            "clock (default), or spread evenly over all N (the worst case: each on pages of its own)"
        ),
    )
    parser.add_argument("--reuse", action="store_true", help="keep the loaded rows if N matches")
    parser.add_argument("--profile", action="store_true", help="list the query shapes that cost most")


def run(args) -> int:
    name = _check_target(args.database_url)
    _create_database(args.database_url, name)
    _setup_django(args.database_url)

    from django.core.management import call_command
    from django.db import connection

    if "bench" not in connection.settings_dict["NAME"] or connection.vendor != "postgresql":
        raise SystemExit(f"Refusing: Django is configured for {connection.settings_dict['NAME']!r}.")
    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    world = _world()
    reused = args.reuse and _loaded(args.tickets)
    if not reused:
        world = _load(args.tickets)
    _make_due(args.tickets, args.due, args.level, args.placement, world)
    checkpointed = _analyze()
    load_seconds = time.perf_counter() - started

    server_before = _server_counters()
    pages_before = _pages_by_relation() if args.profile else {}
    result = _time_one_sweep(args.profile)
    server_after = _server_counters()
    if args.profile:
        result["pages_by_relation"] = _page_deltas(pages_before, _pages_by_relation())
    result = {
        "tickets": args.tickets,
        "due": args.due,
        "level": args.level,
        "placement": args.placement,
        **result,
        "reused_rows": reused,
        "setup_seconds": round(load_seconds, 1),
        "checkpoint_before": checkpointed,
        "server": {
            name: _difference(server_before[name], server_after[name])
            for name in server_after
            if name in server_before
        },
    }
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 1 if "error" in result else 0


# Safety and setup


def _check_target(url: str) -> str:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("Give a PostgreSQL database: --database-url postgres://…/servicedesk_bench")
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to load benchmark rows into {name!r}: its tables are emptied first. "
            "Use a database whose name contains 'bench', e.g. servicedesk_bench."
        )
    return name


def _create_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    server = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "") or None,
        "password": unquote(parts.password or "") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # What the sweep hands to workers stays in this process: nothing is sent, no broker fills up.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.pop("CELERY_BROKER_WRITE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from servicedesk.celery import app

    app.conf.task_always_eager = False


# Loading


def _world() -> dict:
    """The few rows every ticket points to, found again (after a load) by their fixed names."""
    from accounts.models import Team, User
    from customers.models import Contract, Site
    from sla.models import Calendar

    try:
        return {
            "agent": User.objects.get(username="bench-agent"),
            "engineer": User.objects.get(username="bench-engineer"),
            "team": Team.objects.get(name="bench tier 1"),
            "site": Site.objects.select_related("organisation").get(name="bench site"),
            "contract": Contract.objects.get(number="BENCH-0001"),
            "calendar": Calendar.objects.get(name="7x24"),
        }
    except (User.DoesNotExist, Team.DoesNotExist, Site.DoesNotExist, Contract.DoesNotExist):
        return {}


def _loaded(tickets: int) -> bool:
    from sla.models import Deadline
    from tickets.models import Ticket

    return bool(_world()) and Ticket.objects.count() == tickets == Deadline.objects.count()


def _load(tickets: int) -> dict:
    """Empty the tables and load one organisation, a team per tier, one contract, N tickets."""
    from django.db import connection, transaction

    from accounts.choices import Role, Tier
    from accounts.models import SupportCentre, Team, User
    from customers.choices import Coverage
    from customers.models import Contract, Organisation, Site

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TICKET_TABLES)} RESTART IDENTITY CASCADE")  # noqa: S608
        manager = User.objects.create(
            username="bench-manager", role=Role.MANAGER, email="manager@bench.example"
        )
        centre = SupportCentre.objects.create(code="bench", name="bench centre", manager=manager)
        people = {
            name: User.objects.create(
                username=f"bench-{name}", role=role, centre=centre, email=f"{name}@bench.example"
            )
            for name, role in [
                ("agent", Role.AGENT),
                ("engineer", Role.ENGINEER),
                ("supervisor", Role.ENGINEER),
                ("expert", Role.ENGINEER),
                ("lead", Role.ENGINEER),
                ("specialist", Role.ENGINEER),
            ]
        }
        teams = {}
        for tier, members in [
            (Tier.LOCAL, ("engineer", "supervisor")),
            (Tier.DEDICATED, ("expert", "lead")),
            (Tier.EXPERT, ("specialist",)),
        ]:
            teams[tier] = Team.objects.create(
                name=f"bench tier {tier}", centre=centre, tier=tier, supervisor=people[members[-1]]
            )
            teams[tier].members.add(*(people[member] for member in members))
        organisation = Organisation.objects.create(name="bench organisation")
        Site.objects.create(
            organisation=organisation, name="bench site", address="bench road 1", city="南京", centre=centre
        )
        today = datetime.now(UTC).date()
        Contract.objects.create(
            number="BENCH-0001",
            organisation=organisation,
            starts_on=today - timedelta(days=365),
            ends_on=today + timedelta(days=365),
            coverage=Coverage.FULL,
        )
        world = _world()
        _copy_tickets(cursor, tickets, world)
        _copy_deadlines(cursor, tickets, world)
        for table in ("tickets_ticket", "sla_deadline"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",  # noqa: S608
                [max(tickets, 1)],
            )
    return world


def _text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _template(model, obj, varying: tuple[str, ...]) -> tuple[list[str], str]:
    """The model's columns and a line with {placeholders} for the columns that vary per row."""
    from django.db import connection

    columns, cells = [], []
    for field in model._meta.concrete_fields:
        columns.append(field.column)
        if field.column in varying:
            cells.append("{" + field.column + "}")
        else:
            value = field.get_db_prep_save(field.pre_save(obj, add=True), connection)
            cells.append(_text(value).replace("{", "{{").replace("}", "}}"))
    return columns, "\t".join(cells) + "\n"


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == COPY_CHUNK:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))


def _copy_tickets(cursor, count: int, world: dict) -> None:
    from tickets.choices import Kind, Level, Status
    from tickets.models import Ticket

    now = datetime.now(UTC)
    site = world["site"]
    ticket = Ticket(
        organisation=site.organisation,
        site=site,
        contract=world["contract"],
        centre_id=site.centre_id,
        kind=Kind.FAULT,
        level=Level.II,
        title="bench: 核心交换机宕机",
        status=Status.ASSIGNED,
        tier=1,
        team=world["team"],
        assignee=world["engineer"],
        logged_by=world["agent"],
        created_at=now,
    )
    columns, line = _template(Ticket, ticket, ("id", "number", "created_at"))
    start = now - timedelta(days=30)
    _copy(
        cursor,
        Ticket._meta.db_table,
        columns,
        (
            line.format(
                id=pk,
                number=f"BN-{pk:09d}",
                created_at=(start + timedelta(seconds=pk)).isoformat(),
            )
            for pk in range(1, count + 1)
        ),
    )


def _copy_deadlines(cursor, count: int, world: dict) -> None:
    """One response deadline per ticket, all far in the future (`_make_due` brings some forward)."""
    from django.contrib.contenttypes.models import ContentType

    from sla.choices import State
    from sla.models import Deadline
    from tickets.models import Ticket

    now = datetime.now(UTC)
    deadline = Deadline(
        content_type=ContentType.objects.get_for_model(Ticket),
        kind="ticket.response",
        calendar=world["calendar"],
        target_seconds=30 * 60,
        started_at=now,
        warn_at=now,
        due_at=now,
        state=State.PENDING,
        stage=0,
        created_at=now,
    )
    columns, line = _template(Deadline, deadline, ("id", "object_id", "warn_at", "due_at", "next_check_at"))
    future = now + timedelta(days=30)

    def lines():
        for pk in range(1, count + 1):
            warn = future + timedelta(seconds=pk)
            yield line.format(
                id=pk,
                object_id=pk,
                warn_at=warn.isoformat(),
                due_at=(warn + timedelta(minutes=10)).isoformat(),
                next_check_at=warn.isoformat(),
            )

    _copy(cursor, Deadline._meta.db_table, columns, lines())


# Each run


def _make_due(tickets: int, due: int, level: int, placement: str, world: dict) -> None:
    """
    Undo what an earlier sweep did, then make `due` deadlines due now, spread over the whole
    table or over its newest part (`placement`): warned and one minute overdue (level 1), or only
    past their warning time (level 0).
    """
    from django.db import connection, transaction

    from sla.choices import State

    now = datetime.now(UTC)
    future = now + timedelta(days=30)
    band = tickets if placement == "even" else min(tickets, RECENT_BAND * due)
    step = max(band // max(due, 1), 1)
    first = tickets - band + step  # the deadlines' ids are their tickets' ids
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_escalation, tickets_timelineevent, notifications_notification")
        cursor.execute(
            "UPDATE tickets_ticket SET tier = 1, team_id = %s, assignee_id = %s, version = 1 WHERE tier <> 1",
            [world["team"].pk, world["engineer"].pk],
        )
        cursor.execute(
            "UPDATE sla_deadline SET stage = 0, state = %s, "
            "warn_at = %s + id * interval '1 second', due_at = %s + id * interval '1 second' "
            "+ interval '10 minutes', next_check_at = %s + id * interval '1 second' "
            "WHERE stage <> 0 OR next_check_at IS NULL OR next_check_at < %s",
            [State.PENDING, future, future, future, now + timedelta(days=1)],
        )
        if not due:
            return
        if level == 1:
            stage, state = 1, State.WARNED
            warn_at, due_at = now - timedelta(minutes=20), now - timedelta(minutes=1)
            next_check_at = due_at
        else:
            stage, state = 0, State.PENDING
            warn_at, due_at = now - timedelta(minutes=1), now + timedelta(minutes=10)
            next_check_at = warn_at
        cursor.execute(
            "UPDATE sla_deadline SET stage = %s, state = %s, warn_at = %s, due_at = %s, next_check_at = %s "
            "WHERE id IN (SELECT generate_series(%s, %s, %s))",
            [stage, state, warn_at, due_at, next_check_at, first, first + step * (due - 1), step],
        )


def _analyze() -> bool:
    """VACUUM ANALYZE what the sweep reads, then a checkpoint; False if the checkpoint was refused."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "sla_deadline", "sla_escalation", "notifications_notification"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608 (fixed names)
    try:
        with connection.cursor() as cursor:
            # Write out what loading and resetting dirtied, so that the sweep neither pays for it
            # nor meets a checkpoint loading set off: it starts as a sweep does a while after one.
            cursor.execute("CHECKPOINT")
    except DatabaseError:  # neither a superuser nor granted pg_checkpoint: the figures say so
        return False
    return True


# What the server counts, by the view that has it (PostgreSQL 15 and 16; a newer server moved
# some of these, and what it lacks is left out of the report).
SERVER_COUNTERS = (
    (
        "SELECT wal_records, wal_fpi, wal_bytes / 1048576.0, wal_sync FROM pg_stat_wal",
        ("wal_records", "wal_full_page_images", "wal_megabytes", "wal_syncs"),
    ),
    (
        "SELECT buffers_backend, buffers_checkpoint + buffers_clean FROM pg_stat_bgwriter",
        ("buffers_written_by_backends", "buffers_written_in_background"),
    ),
)


def _server_counters() -> dict:
    """
    What the server did, summed over all sessions: WAL written (full-page images counted apart)
    and its syncs, and shared buffers that backends had to write out themselves to make room.
    """
    from django.db import DatabaseError, connection

    counters = {}
    with connection.cursor() as cursor:
        try:
            # A session reports its counts when it next goes idle: this one's are reported now
            # (the sweep's helper threads closed their sessions, which reports theirs).
            cursor.execute("SELECT pg_stat_force_next_flush()")
        except DatabaseError:
            pass  # before PostgreSQL 15: the counts may lag by up to a second's work
    for query, names in SERVER_COUNTERS:
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                counters.update(zip(names, (float(value) for value in cursor.fetchone()), strict=True))
        except DatabaseError:
            continue
    return counters


def _difference(before: float, after: float) -> int | float:
    change = after - before
    return int(change) if change == int(change) else round(change, 1)


def _pages_by_relation() -> dict:
    """Per table and index: pages read into shared buffers, and pages found there."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, heap_blks_read, heap_blks_hit FROM pg_statio_user_tables "
            "UNION ALL SELECT indexrelname, idx_blks_read, idx_blks_hit FROM pg_statio_user_indexes"
        )
        return {name: (read or 0, hit or 0) for name, read, hit in cursor.fetchall()}


def _page_deltas(before: dict, after: dict, top: int = 15) -> list[dict]:
    deltas = []
    for name, (read, hit) in after.items():
        read_before, hit_before = before.get(name, (0, 0))
        deltas.append({"relation": name, "read": read - read_before, "hit": hit - hit_before})
    deltas.sort(key=lambda row: -(row["read"] + row["hit"]))
    return deltas[:top]


class QueryRecorder:
    """Every statement of every connection (the sweep's threads have their own), with its time."""

    def __init__(self):
        self.captured: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self.lock:
                self.captured.append({"sql": sql, "time": time.perf_counter() - started})

    def install(self, sender=None, connection=None, **kwargs) -> None:
        connection.execute_wrappers.append(self)


def _time_one_sweep(profile: bool) -> dict:
    from django.db import connection
    from django.db.backends.signals import connection_created

    from sla import services

    connection.ensure_connection()
    recorder = QueryRecorder()
    recorder.install(connection=connection)
    connection_created.connect(recorder.install)
    error = None
    result = services.SweepResult()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        result = services.sweep()
    except Exception as exc:  # reported in the JSON: the figures up to the failure still count
        error = f"{type(exc).__name__}: {exc}".strip()
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(25)
        if os.environ.get("BENCH_CALLERS"):  # e.g. BENCH_CALLERS=_load_iso: who called it
            stats.print_callers(os.environ["BENCH_CALLERS"])
    figures = {
        "seconds": round(seconds, 4),
        "queries": len(recorder.captured),
        "escalated": sum(result.escalated.values()),
        "warned": result.warned,
        "lost_races": result.lost_races,
    }
    if error:
        figures["error"] = error
    if profile:
        figures["top_queries"] = _shapes(recorder.captured)
    return figures


def _shapes(captured: list[dict], top: int = 15) -> list[dict]:
    """The queries grouped by their first words, most time first."""
    groups: dict[str, list[float]] = defaultdict(list)
    for query in captured:
        words = query["sql"].split()
        shape = " ".join(words[:6])[:90]
        if shape.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            shape = shape.split('"')[0].strip()
        groups[shape].append(float(query["time"]))
    ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))[:top]
    return [{"sql": shape, "count": len(times), "seconds": round(sum(times), 3)} for shape, times in ranked]
