"""The engineer's next step first: /work/ by time left, then one large button per step, in place."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sla.models import Deadline
from tickets.choices import Status

from .harness import LANGUAGES, VIEWPORTS, submit_in_place, t

pytestmark = pytest.mark.e2e


def due_in(ticket, delta: timedelta) -> None:
    """The ticket's first response falls due `delta` from now; its other promises days later."""
    now = timezone.now()
    Deadline.objects.for_object(ticket).update(due_at=now + timedelta(days=3))
    Deadline.objects.for_object(ticket).filter(kind="ticket.response").update(due_at=now + delta)


def next_step_button(page):
    return page.locator("main .acts .act-main")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_engineers_next_step_first(page_as, world, shot, assert_accessible, language, viewport):
    # given: three tickets of the engineer's; the team's unassigned one is the most overdue
    calm = world.log_call(title="打印机卡纸 / printer jam")
    due_in(calm, timedelta(hours=5))
    urgent = world.log_call(title="核心交换机宕机 / core switch down", on_site_required=True)
    due_in(urgent, timedelta(minutes=20))
    overdue = world.log_call(title="存储告警 / storage alarm", assignee=None)
    due_in(overdue, -timedelta(minutes=45))
    page = page_as("engineer", viewport=viewport, language=language)

    # when: the engineer opens /work/
    assert page.url.endswith("/work/")
    cards = page.locator("main a.ticket-card")
    # then: overdue first (the team's, to take), then the least time left
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text(overdue.number)
    expect(cards.nth(0).locator(".take-it")).to_be_visible()
    expect(cards.nth(0).locator("time[data-countdown]")).to_have_class("countdown overdue")
    expect(cards.nth(1)).to_contain_text(urgent.number)
    expect(cards.nth(2)).to_contain_text(calm.number)
    left = cards.nth(1).locator("time[data-countdown]")
    expect(left).to_contain_text("剩余" if language == "zh-hans" else "left")
    assert_accessible(page)
    shot(page, "my-work")

    # when: the engineer opens the ticket they must travel to
    with page.expect_navigation():
        cards.nth(1).click()
    expect(page.locator("main h1")).to_have_text(urgent.title)
    # then: its deadlines stand above the description, and the one large step is Accept
    deadlines = page.locator("main .deadline-strip")
    expect(deadlines).to_contain_text(t(language, "First response"))
    assert deadlines.bounding_box()["y"] < page.locator("main .description").bounding_box()["y"]
    expect(next_step_button(page)).to_have_text(t(language, "Accept"))
    expect(page.locator("main details.more-steps")).not_to_have_attribute("open", "")
    width = page.locator("main .acts").bounding_box()["width"]
    assert next_step_button(page).bounding_box()["width"] >= width - 2, "the next step is full width"
    assert_accessible(page)
    shot(page, "accept")

    # when: each step is taken with the large button, the page changing in place
    page.evaluate("window.__sameDocument = true")
    for step, then in [
        ("accept", "Start travel"),
        ("start_travel", "Arrived on site"),
        ("arrive", "Leave the site"),
    ]:
        submit_in_place(page, page.locator(f"main form.act-primary[action$='/act/{step}/']"))
        # then: the message is shown and has the focus, and the next step is the large button
        flash = page.locator("main .flash-success[data-flash]")
        expect(flash).to_be_visible()
        expect(flash).to_be_focused()
        expect(next_step_button(page)).to_have_text(t(language, then))
    assert page.evaluate("window.__sameDocument === true"), "no page was reloaded"
    urgent.refresh_from_db()
    assert urgent.status == Status.ON_SITE
    assert_accessible(page)
    shot(page, "on-site")

    # and: the other steps are folded under "More steps", and open on demand
    more = page.locator("main details.more-steps")
    more.locator("summary").first.click()
    expect(more.locator("form[action$='/act/log_work/']")).to_have_count(1)
    expect(more.locator("form[action$='/act/resolve/']")).to_have_count(0)
    shot(page, "more-steps")
