"""Everyone's header, bell and notification list: the product's name, the unread count, the links."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from notifications import services as outbox
from tickets.deadlines import digest

from .harness import LANGUAGES, t

RUNS = [(language, viewport) for language in LANGUAGES for viewport in ("desktop", "phone")]


def luminance(rgb: str) -> float:
    """Relative luminance (WCAG 2) of a CSS "rgb(r, g, b)" colour."""
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted([luminance(first), luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(("language", "viewport"), RUNS, ids=["-".join(run) for run in RUNS])
def test_the_bell_leads_to_the_notifications_and_each_ticket(
    page_as, world, shot, assert_accessible, language, viewport
):
    # given: three tickets warned at once, told to the engineer in one digest, and one assignment
    tickets = [world.log_call(title=f"核心交换机宕机 {n} / core switch down {n}") for n in range(3)]
    warnings = [
        outbox.Message(
            [world.engineer],
            kind="ticket.sla_warning",
            subject=f"{ticket.number}: First response due soon",
            body="",
            url=f"/tickets/{ticket.number}/",
            dedupe_key=f"journey-{ticket.number}",
        )
        for ticket in tickets
    ]
    outbox.queue_many(digest(world.engineer, "ticket.sla_warning", warnings))
    unread = world.engineer.notifications.filter(channel="in_app", read_at=None).count()
    page = page_as("engineer", viewport=viewport, language=language)

    # then: the header names the product in the page's language, and the title ends with it
    name = t(language, settings.SITE_NAME)
    expect(page.locator("header .brand")).to_have_text(name)
    assert page.title().endswith(f" · {name}")
    # ... the bell shows the unread count, legible: at least 4.5:1 (WCAG AA)
    count = page.locator("#notification-bell .bell-count")
    expect(count).to_have_text(str(unread))
    colours = count.evaluate("node => [getComputedStyle(node).color, getComputedStyle(node).backgroundColor]")
    assert contrast(*colours) >= 4.5
    expect(page.locator("#notification-bell")).to_have_attribute(
        "aria-label", t(language, "Notifications, %(count)s unread") % {"count": unread}
    )
    shot(page, "header")

    # when: the engineer opens the bell
    with page.expect_navigation():
        page.locator("#notification-bell").click()

    # then: unread notifications say so, and the digest links each of its tickets
    expect(page.locator("main h1")).to_have_text(t(language, "Notifications"))
    expect(page.locator("main .notification.unread .unread-mark")).to_have_count(unread)
    expect(page.locator("main .notification.unread .unread-mark").first).to_have_text(t(language, "Unread"))
    links = page.locator("main .notification p a")
    expect(links).to_have_text([ticket.number for ticket in tickets])
    assert_accessible(page)
    shot(page, "list")

    # when: the engineer follows the second ticket's number
    with page.expect_navigation():
        links.nth(1).click()

    # then: that ticket's page opens
    assert page.url.endswith(f"/tickets/{tickets[1].number}/")
    expect(page.locator("main h1")).to_have_text(tickets[1].title)
