"""
How much a person may put into a ticket, in one place: the length of each text field (forms and
the API refuse longer text with a message; the columns themselves are unbounded text) and how
many tickets, comments and files one customer user may create in an hour (refused with 429).
"""

from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext as _

from accounts import throttle

TITLE_MAX = 200  # the column's own length
COMMENT_MAX = 10_000
TEXT_MAX = 20_000  # a description, resolution, note, reason, plan, answer …

# Text fields whose limit is not TEXT_MAX, by the name forms and serializers give them.
TEXT_LIMITS = {"title": TITLE_MAX, "body": COMMENT_MAX}

QUOTA_WINDOW = 60 * 60


def text_limit(name: str) -> int:
    """The most characters a text field of this name accepts."""
    return TEXT_LIMITS.get(name, TEXT_MAX)


class QuotaExceeded(Exception):
    """A customer user has created as much of something as an hour allows."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _quotas() -> dict[str, tuple[int, str]]:
    return {
        "tickets": (
            settings.CUSTOMER_TICKETS_PER_HOUR,
            _("You may file %(limit)s requests an hour and have reached that. Try again later."),
        ),
        "comments": (
            settings.CUSTOMER_COMMENTS_PER_HOUR,
            _("You may write %(limit)s comments an hour and have reached that. Try again later."),
        ),
        "uploads": (
            settings.CUSTOMER_UPLOADS_PER_HOUR,
            _("You may attach %(limit)s files an hour; %(count)s more would pass that. Try again later."),
        ),
    }


@contextmanager
def quota(user, **counts: int):
    """
    Count what a customer user is about to create (`tickets=1`, `comments=1`, `uploads=n`)
    against their hourly quotas, all or none, and raise QuotaExceeded when one would pass its
    limit; when the act inside the block is refused, the counts are given back. Staff are not
    limited.
    """
    if not user.is_customer:
        yield
        return
    taken: dict[str, int] = {}
    for what, count in counts.items():
        limit, message = _quotas()[what]
        if count and not throttle.take(f"{what}:{user.pk}", limit=limit, count=count, window=QUOTA_WINDOW):
            _give_back(user, taken)
            raise QuotaExceeded(message % {"limit": limit, "count": count})
        taken[what] = count
    try:
        yield
    except BaseException:
        _give_back(user, taken)
        raise


def _give_back(user, counts: dict[str, int]) -> None:
    for what, count in counts.items():
        if count:
            throttle.give_back(f"{what}:{user.pk}", count=count)
