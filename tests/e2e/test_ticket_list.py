"""The agent narrows the ticket list to open tickets, sorts it by time left, saves it, opens it again."""

from urllib.parse import parse_qsl

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tickets.choices import Level, Status
from tickets.models import SavedFilter, Ticket

from .harness import LANGUAGES, t


def total(language: str, count: int) -> str:
    """The list's total as `language` words it."""
    with translation.override(language):
        return translation.ngettext("%(counter)s ticket", "%(counter)s tickets", count) % {"counter": count}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_filters_sorts_and_saves_the_ticket_list(
    page_as, world, shot, assert_accessible, language, viewport
):
    # given: a Level I fault (response due in 30 minutes under 7x24), a Level III fault of the
    # other customer (response in 2 hours), and a resolved ticket
    urgent = world.log_call(title="核心交换机宕机 / core switch down", level=Level.I)
    slow = world.log_call(customer="bob", title="打印机卡纸 / printer jam", level=Level.III, assignee=None)
    solved = world.log_call(title="已恢复 / restored", level=Level.IV)
    Ticket.objects.filter(pk=solved.pk).update(status=Status.RESOLVED)
    page = page_as("agent", viewport=viewport, language=language)
    phone = viewport == "phone"

    # when: the agent opens the list
    page.goto("/tickets/")

    # then: three tickets; the filters are open on a desktop and folded on a phone
    expect(page.locator("main .list-total")).to_contain_text(total(language, 3))
    panel = page.locator("main details.filter-panel")
    if phone:
        expect(panel).not_to_have_attribute("open", "")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    else:
        expect(panel).to_have_attribute("open", "")
    expect(page.locator("main .time-left", has_text=t(language, "First response"))).to_have_count(3)
    assert_accessible(page)
    shot(page, "list", readme="ticket-list" if not phone else None)

    # when: they tick "All open" (unfolding the filters on the phone) and, on the phone, choose to
    # see the least time left first, then filter
    if phone:
        panel.locator("summary").click()
        page.select_option("#f-ordering", "next_due")
    page.get_by_label(t(language, "All open")).check()
    with page.expect_navigation():
        page.locator("main form.filters button[type=submit]").click()

    # then: the resolved ticket is gone, and the choice is shown
    summary = page.locator("main .list-total")
    expect(summary).to_contain_text(total(language, 2))
    expect(summary).to_contain_text(t(language, "All open"))
    expect(page.locator("main table")).not_to_contain_text(solved.number)

    # when: on a desktop the agent clicks the "Time left" heading
    header = page.locator("main th", has_text=t(language, "Time left"))
    if not phone:
        with page.expect_navigation():
            header.locator("a").click()
    # then: least time left first, and the column says it is sorted
    expect(header).to_have_attribute("aria-sort", "ascending")
    numbers = page.locator("main tbody tr td:first-child a")
    expect(numbers).to_have_text([urgent.number, slow.number])

    # and: clicking again (or choosing descending) reverses it
    if phone:
        # the filters stay folded on a phone after filtering: the results come first
        expect(panel).not_to_have_attribute("open", "")
        panel.locator("summary").click()
        page.select_option("#f-ordering", "-next_due")
        with page.expect_navigation():
            page.locator("main form.filters button[type=submit]").click()
    else:
        with page.expect_navigation():
            header.locator("a").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(numbers).to_have_text([slow.number, urgent.number])
    assert_accessible(page)
    shot(page, "sorted")

    # when: they save this filter under a name
    page.fill("#f-save-name", "我的未结 / my open")
    with page.expect_navigation():
        page.locator("main form.save-filter button[type=submit]").click()

    # then: it is kept, and listed above the table as the current one
    expect(page.locator("main .flash-success")).to_have_text(
        t(language, "Filter “%(name)s” saved.") % {"name": "我的未结 / my open"}
    )
    saved = page.locator("main .saved-filter-list a", has_text="我的未结 / my open")
    expect(saved).to_have_attribute("aria-current", "true")
    query = SavedFilter.objects.get(owner=world.agent).query
    assert sorted(parse_qsl(query)) == [("ordering", "-next_due"), ("status", "open")]
    assert_accessible(page)
    shot(page, "saved")

    # wrong step: the same name again is refused, and nothing more is kept
    page.fill("#f-save-name", "我的未结 / my open")
    with page.expect_navigation():
        page.locator("main form.save-filter button[type=submit]").click()
    expect(page.locator("#f-save-error")).to_have_text(
        t(language, "You already have a filter named “%(name)s”: choose another name.")
        % {"name": "我的未结 / my open"}
    )
    expect(page.locator("#f-save-name")).to_have_attribute("aria-invalid", "true")
    assert SavedFilter.objects.filter(owner=world.agent).count() == 1
    assert_accessible(page)
    shot(page, "duplicate-name")

    # when: later, from the plain list, they open the saved filter
    page.goto("/tickets/")
    expect(page.locator("main .list-total")).to_contain_text(total(language, 3))
    with page.expect_navigation():
        page.locator("main .saved-filter-list a", has_text="我的未结 / my open").click()

    # then: the same tickets in the same order, with "All open" ticked
    expect(numbers).to_have_text([slow.number, urgent.number])
    expect(page.get_by_label(t(language, "All open"))).to_be_checked()

    # when: they delete it
    with page.expect_navigation():
        page.locator("main .saved-filter-list button.delete-filter").click()

    # then: it is gone, and the list they were looking at stays
    expect(page.locator("main .saved-filter-list")).to_have_count(0)
    expect(numbers).to_have_text([slow.number, urgent.number])
    assert not SavedFilter.objects.exists()
    if phone:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
