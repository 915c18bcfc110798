"""
Settings of the beats that test_beat_twice starts: the production settings, with the deadline sweep
and the outbox sweep due every second instead of every minute, so that two beats overlap many times
within a few seconds.
"""

from servicedesk.settings import *  # noqa: F403
from servicedesk.settings import CELERY_BEAT_SCHEDULE as PRODUCTION_SCHEDULE

FAST = ("sweep-deadlines", "deliver-pending-notifications")
CELERY_BEAT_SCHEDULE = {
    name: {**entry, "schedule": 1.0} if name in FAST else entry for name, entry in PRODUCTION_SCHEDULE.items()
}
