"""
Display filters for words people read every day: a support tier's short name, how long ago
something happened in its largest unit, and ticket numbers as links.

    {% load display %}
    {{ team.tier|tier_name }}          Tier 2 / 二线
    {{ ticket.created_at|ago }}        3 hours ago / 3 小时前
    {{ notification.body|link_tickets }}
"""

import re
from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from accounts.choices import tier_name as short_tier_name

register = template.Library()

# Django's own units, repeated so that the catalogue holds them: Chinese says 2 天, not 2 日.
TIME_STRINGS = {
    "year": ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    "month": ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    "week": ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    "day": ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    "hour": ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    "minute": ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
}
# Ticket numbers as intake hands them out: SD-<year>-<six digits>.
TICKET_NUMBER = re.compile(r"\bSD-\d{4}-\d{6}\b")


@register.filter
def tier_name(tier) -> str:
    """ "Tier 2" in English, 二线 in Chinese. For staff only: customers are shown no tier."""
    return short_tier_name(tier)


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """
    How long ago `moment` was, in its largest unit only: "3 hours ago" (3 小时前), "2 days ago",
    "just now" under a minute. A moment ahead reads "in 3 hours" (3 小时后).
    """
    if not moment:
        return ""
    now = now or timezone.now()
    if abs(now - moment) < timedelta(minutes=1):
        return _("just now")
    if moment > now:
        return _("in %(time)s") % {"time": timeuntil(moment, now, time_strings=TIME_STRINGS, depth=1)}
    return _("%(time)s ago") % {"time": timesince(moment, now, time_strings=TIME_STRINGS, depth=1)}


@register.filter
def link_tickets(text) -> str:
    """The text, escaped, with each ticket number a link to its page and line breaks kept."""
    text = str(text or "")
    parts, start = [], 0
    for match in TICKET_NUMBER.finditer(text):
        parts.append(escape(text[start : match.start()]))
        number = match.group()
        parts.append(format_html('<a href="{}">{}</a>', reverse("tickets:detail", args=[number]), number))
        start = match.end()
    parts.append(escape(text[start:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 (every part is escaped above)
