"""Mean time per add_business_time call on a 5x8 Asia/Shanghai calendar with holidays, as JSON."""

import json
import platform
import sys
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from sla.businesstime import Schedule, add_business_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Targets named by how far ahead they fall due: a working week is 40 h, a working year about 2000 h.
TARGETS = {
    "4 h": timedelta(hours=4),
    "1 week (40 h)": timedelta(hours=40),
    "1 year (2000 h)": timedelta(hours=2000),
}
# Illustrative statutory holidays and make-up workdays for 2026–2028 (not the official lists).
CLOSED = [
    (date(2026, 1, 1), 3),
    (date(2026, 2, 16), 8),
    (date(2026, 4, 5), 3),
    (date(2026, 5, 1), 5),
    (date(2026, 6, 19), 3),
    (date(2026, 10, 1), 8),
    (date(2027, 1, 1), 3),
    (date(2027, 2, 5), 8),
    (date(2027, 5, 1), 5),
    (date(2027, 10, 1), 7),
    (date(2028, 1, 1), 3),
    (date(2028, 1, 25), 8),
    (date(2028, 10, 1), 7),
]
MAKE_UP = [date(2026, 2, 14), date(2026, 9, 20), date(2026, 10, 10), date(2027, 2, 20), date(2027, 9, 26)]


def add_arguments(parser) -> None:
    parser.add_argument("--calls", type=int, default=5000, help="calls per target and run (default 5000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per target; the fastest counts (default 5)")


def run(args) -> int:
    schedule = five_by_eight()
    starts = spread_starts(args.calls)
    for duration in TARGETS.values():  # compile the years the calls will touch
        add_business_time(starts[-1], duration, schedule)
    results = {
        "schedule": "Mon–Fri 09:00–12:00, 13:00–18:00 Asia/Shanghai, holidays and make-up days 2026–2028",
        "calls_per_run": args.calls,
        "runs": args.runs,
        # The fastest run's mean: the others differ only by what else the machine was doing.
        "mean_us_per_add_business_time": {
            name: round(min(mean_microseconds(schedule, starts, duration) for _ in range(args.runs)), 2)
            for name, duration in TARGETS.items()
        },
        "first_call_us_compiling_one_year": round(first_call_microseconds(), 1),
        "python": platform.python_version(),
    }
    sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


def five_by_eight(extra_closed: frozenset[date] = frozenset()) -> Schedule:
    workday = [(time(9), time(12)), (time(13), time(18))]
    closed = {first + timedelta(days=offset) for first, days in CLOSED for offset in range(days)}
    return Schedule.weekly_hours(
        SHANGHAI,
        dict.fromkeys(range(5), workday),
        closed_dates=closed | extra_closed,
        extra_working_dates=MAKE_UP,
    )


def spread_starts(count: int) -> list[datetime]:
    """Starts across 2026 at every time of day, open and closed (a fixed odd stride, no randomness)."""
    first = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    stride = timedelta(hours=1, minutes=45, seconds=17, microseconds=123)
    return [first + (index * stride) % timedelta(days=365) for index in range(count)]


def mean_microseconds(schedule: Schedule, starts: list[datetime], duration: timedelta) -> float:
    began = perf_counter()
    for start in starts:
        add_business_time(start, duration, schedule)
    return (perf_counter() - began) / len(starts) * 1e6


def first_call_microseconds(samples: int = 20) -> float:
    """A first call on a calendar not seen before, which compiles the year it counts in."""
    start = datetime(2026, 6, 1, 10, tzinfo=SHANGHAI)
    # Each schedule differs by one closed date, so none reuses another's compiled years.
    schedules = [
        five_by_eight(frozenset({date(2020, 1, 1) + timedelta(days=index)})) for index in range(samples)
    ]
    began = perf_counter()
    for schedule in schedules:
        add_business_time(start, TARGETS["4 h"], schedule)
    return (perf_counter() - began) / samples * 1e6
