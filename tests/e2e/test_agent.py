"""The hotline agent logs a Level I fault call with the keyboard alone, on the intake console."""

import pytest
from playwright.sync_api import expect

from tickets.choices import Event, Kind, Level, Status
from tickets.models import Ticket

from .harness import LANGUAGES, focused, t, tab_to, ticket_number_in


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_logs_a_level_one_fault_by_keyboard(page_as, world, shot, assert_accessible, language):
    page = page_as("agent", viewport="desktop", language=language)
    keyboard = page.keyboard

    # given: the console, the cursor waiting in the search box
    page.goto("/intake/")
    assert focused(page, "#caller-query")
    assert_accessible(page)

    # when: the agent types the serial number the caller reads out; matches appear as they type
    keyboard.type("SN-A-0001")
    hit = page.locator("#caller-results a", has_text="SN-A-0001")
    expect(hit).to_be_visible()
    shot(page, "search")
    assert_accessible(page)

    # and: Tab to the device, Enter to pick it
    tab_to(page, "#caller-results a[href*='SN-A-0001']")
    with page.expect_navigation():
        keyboard.press("Enter")

    # then: the entitlement says covered, and the cursor waits in the title
    entitlement = page.locator("article.entitlement")
    expect(entitlement).to_have_class("entitlement covered")
    expect(entitlement.locator("h2")).to_contain_text(t(language, "Covered"))
    expect(page.locator("#id_title")).to_be_focused()
    expect(page.locator("#id_team")).to_have_value(str(world.teams[1].pk))
    expect(page.locator("#id_assignee")).to_have_value(str(world.engineer.pk))
    shot(page, "entitlement", readme="agent")
    assert_accessible(page)

    # wrong step: the agent sends the fault without a level
    keyboard.type("服务器宕机 / server down")
    tab_to(page, "#id_assignee")
    with page.expect_navigation():
        keyboard.press("Control+Enter")

    # then: refused, the level is asked for, and what was typed is still there
    refusal = page.locator("main .flash-error[role=alert]")
    expect(refusal).to_have_text(t(language, "Check the highlighted fields."))
    expect(page.locator(".field-level .error")).to_have_text(t(language, "A fault needs a level, I to IV."))
    expect(page.locator("#id_title")).to_have_value("服务器宕机 / server down")
    assert not Ticket.objects.exists()
    shot(page, "refused")
    assert_accessible(page)

    # when: from the title, Tab to the class (a fault already), on to the level; arrows pick Level I
    expect(page.locator("#id_title")).to_be_focused()
    tab_to(page, "input[name=kind]")
    assert focused(page, "input[name=kind][value=fault]:checked")
    tab_to(page, "input[name=level]")
    keyboard.press("ArrowDown")
    keyboard.press("ArrowUp")
    expect(page.locator("input[name=level][value='1']")).to_be_checked()
    # and: on to the suggested team and the engineer on duty, and Ctrl+Enter logs the call
    tab_to(page, "#id_team")
    expect(page.locator("#id_team")).to_have_value(str(world.teams[1].pk))
    tab_to(page, "#id_assignee")
    expect(page.locator("#id_assignee")).to_have_value(str(world.engineer.pk))
    shot(page, "call")
    with page.expect_navigation():
        keyboard.press("Control+Enter")

    # then: the ticket is logged, Level I, assigned to the tier-1 team and its engineer
    flash = page.locator("main .flash-success")
    expect(flash).to_contain_text(t(language, "Open it"))
    ticket = Ticket.objects.get(number=ticket_number_in(flash.inner_text()))
    assert (ticket.kind, ticket.level, ticket.status) == (Kind.FAULT, Level.I, Status.ASSIGNED)
    assert (ticket.team, ticket.assignee, ticket.logged_by) == (world.teams[1], world.engineer, world.agent)
    assert ticket.title == "服务器宕机 / server down"
    assert ticket.contract == world.devices["alice"].contract
    assert list(ticket.events.order_by("pk").values_list("kind", flat=True)) == [Event.LOGGED]
    shot(page, "logged")
    assert_accessible(page)
