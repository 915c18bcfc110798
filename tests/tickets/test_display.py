"""The display filters: how long ago in its largest unit, and ticket numbers as links."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from tickets.templatetags.display import ago, link_tickets

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


# (before now, in English, in Chinese), worked out by hand: only the largest whole unit counts.
CASES = [
    (timedelta(seconds=0), "just now", "刚刚"),
    (timedelta(seconds=59), "just now", "刚刚"),
    (timedelta(minutes=1, seconds=5), "1 minute ago", "1 分钟前"),
    (timedelta(minutes=59, seconds=59), "59 minutes ago", "59 分钟前"),
    (timedelta(hours=3, minutes=2), "3 hours ago", "3 小时前"),
    (timedelta(days=2, hours=23), "2 days ago", "2 天前"),
    (timedelta(days=9), "1 week ago", "1 周前"),
    (timedelta(days=400), "1 year ago", "1 年前"),
]


@pytest.mark.parametrize(("before", "english"), [(before, english) for before, english, _ in CASES])
def test_ago_says_only_the_largest_unit(before, english):
    # (Django joins the number and its unit with a no-break space, so "3 hours" never wraps.)
    with translation.override("en"):
        assert ago(NOW - before, NOW).replace("\xa0", " ") == english


@pytest.mark.parametrize(("before", "chinese"), [(before, chinese) for before, _, chinese in CASES])
def test_ago_in_chinese(before, chinese):
    with translation.override("zh-hans"):
        assert ago(NOW - before, NOW).replace("\xa0", " ") == chinese


def test_ago_of_a_moment_ahead_and_of_nothing():
    with translation.override("en"):
        assert ago(NOW + timedelta(hours=3, minutes=10), NOW) == "in 3\xa0hours"
        assert ago(NOW + timedelta(seconds=20), NOW) == "just now"
        assert ago(None, NOW) == ""


def test_ago_in_a_template_reads_the_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    template = Template("{% load display %}{{ moment|ago }}")
    with translation.override("en"):
        assert template.render(Context({"moment": NOW - timedelta(hours=5, minutes=59)})) == "5\xa0hours ago"


def test_link_tickets_links_each_number_and_escapes_the_rest():
    text = 'SD-2026-000012: First response due soon\n<script>alert("x")</script> SD-2026-000013'
    assert link_tickets(text) == (
        '<a href="/tickets/SD-2026-000012/">SD-2026-000012</a>: First response due soon<br>'
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
        '<a href="/tickets/SD-2026-000013/">SD-2026-000013</a>'
    )
    # a number inside a longer token is not a ticket number
    assert link_tickets("XSD-2026-0000123") == "XSD-2026-0000123"
