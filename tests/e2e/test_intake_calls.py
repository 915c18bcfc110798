"""
The hotline agent's calls without dead ends: an unknown caller logged as "customer to be
confirmed" and identified later, and a call whose engineer the console fills in.
"""

import pytest
from playwright.sync_api import expect

from tickets.choices import Event, Level, Status
from tickets.models import Ticket

from .harness import LANGUAGES, act_form, assert_labelled, t, ticket_number_in

# The hotline's own screen: the call form must fit it without scrolling.
HOTLINE_SCREEN = {"width": 1366, "height": 768}


def open_more_steps(page):
    """The ticket page folds the steps after the next one under "More steps": open it if closed."""
    more = page.locator("main details.more-steps")
    if more.count() and more.get_attribute("open") is None:
        more.locator("> summary").click()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_caller_logged(page_as, world, shot, assert_accessible, language, viewport):
    page = page_as("agent", viewport=viewport, language=language)
    if viewport == "desktop":
        page.set_viewport_size(HOTLINE_SCREEN)

    # given: a caller whose number is nowhere on file
    page.goto("/intake/")
    page.locator("#caller-query").fill("13912345678")
    expect(page.locator("#caller-results")).to_contain_text(t(language, "Nothing matches."))
    shot(page, "nothing-matches")
    assert_accessible(page)

    # when: the agent logs the call for a customer to be confirmed; the number typed is the phone
    page.locator(
        "#caller-results summary", has_text=t(language, "Log the call as “customer to be confirmed”")
    ).click()
    expect(page.locator("#unconfirmed-phone")).to_have_value("13912345678")
    page.locator("#unconfirmed-name").fill("马先生")
    with page.expect_navigation():
        page.locator("#unconfirmed-name").press("Enter")

    # then: the call form; the agent's centre's tier-1 team and its engineer on duty are filled in
    expect(page.locator("#call-heading")).to_have_text(t(language, "Customer to be confirmed"))
    expect(page.locator("#id_caller_name")).to_have_value("马先生")
    expect(page.locator("#id_caller_phone")).to_have_value("13912345678")
    expect(page.locator("#id_team")).to_have_value(str(world.teams[1].pk))
    expect(page.locator("#id_assignee")).to_have_value(str(world.engineer.pk))
    page.locator("#id_title").fill("服务器无法开机 / server will not start")
    page.locator("input[name=level][value='2']").check()
    shot(page, "call-form")
    assert_accessible(page)
    with page.expect_navigation():
        page.locator("button[name=action][value=log]").click()

    # then: logged for the customer to be confirmed, with who called
    flash = page.locator("main .flash-success")
    ticket = Ticket.objects.get(number=ticket_number_in(flash.inner_text()))
    assert ticket.organisation.is_placeholder
    assert (ticket.caller_name, ticket.caller_phone) == ("马先生", "13912345678")
    assert (ticket.assignee, ticket.status) == (world.engineer, Status.ASSIGNED)

    # when: the ticket page shows the caller; the desk names the customer: alice's organisation, device
    with page.expect_navigation():
        flash.locator("a").click()
    facts = page.locator(".ticket-facts")
    expect(facts).to_contain_text(t(language, "Customer to be confirmed"))
    expect(facts).to_contain_text("马先生")
    expect(facts.locator("a[href='tel:13912345678']")).to_be_visible()
    shot(page, "to-be-confirmed")
    assert_accessible(page)
    open_more_steps(page)
    form = act_form(page, "identify_customer")
    details = page.locator("main details.act", has=form)
    if details.count() and details.get_attribute("open") is None:
        details.locator("> summary").click()
    assert_labelled(page)
    device = world.devices["alice"]
    form.locator("[name=organisation]").select_option(str(device.site.organisation.pk))
    form.locator("[name=serial_number]").fill(device.serial_number)
    shot(page, "identify")
    form.locator("button[type=submit]").click()

    # then: the ticket is the customer's, with its site, contract and billing (the page updates in place)
    expect(page.locator(".ticket-facts")).to_contain_text(device.site.organisation.name)
    ticket.refresh_from_db()
    assert (ticket.organisation, ticket.equipment, ticket.contract) == (
        device.site.organisation,
        device,
        device.contract,
    )
    assert ticket.events.order_by("pk").last().kind == Event.CUSTOMER_IDENTIFIED
    expect(page.locator(".ticket-facts")).to_contain_text(device.site.organisation.name)
    expect(page.locator("main")).to_contain_text(t(language, "Customer identified"))
    shot(page, "identified")
    assert_accessible(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_logged_with_the_engineer_filled_in(page_as, world, shot, assert_accessible, language):
    page = page_as("agent", viewport="desktop", language=language)
    page.set_viewport_size(HOTLINE_SCREEN)

    # given: the console; "/" puts the cursor in the search box
    page.goto("/intake/")
    page.locator("body").click()
    page.keyboard.press("/")
    expect(page.locator("#caller-query")).to_be_focused()

    # when: the agent finds the caller by name and picks her
    page.keyboard.type("刘爱丽")
    hit = page.locator("#caller-results a", has_text="刘爱丽")
    expect(hit).to_be_visible()
    with page.expect_navigation():
        hit.click()

    # then: her entitlement, her only device chosen, the team and the engineer on duty filled in
    expect(page.locator("article.entitlement")).to_have_class("entitlement covered")
    expect(page.locator("#id_equipment")).to_have_value(str(world.devices["alice"].pk))
    expect(page.locator("#id_contact option:checked")).to_have_text("刘爱丽")
    expect(page.locator("#id_team")).to_have_value(str(world.teams[1].pk))
    expect(page.locator("#id_assignee")).to_have_value(str(world.engineer.pk))
    expect(page.locator("#id_assignee option:checked")).to_have_text(
        t(language, "%(name)s · %(count)s open · on duty") % {"name": "王工", "count": 0}
    )
    # and: the shortcuts are on the screen, and the Log button fits it without scrolling
    expect(page.locator(".shortcuts")).to_contain_text(t(language, "logs the call"))
    log = page.locator("button[name=action][value=log]")
    box = log.bounding_box()
    assert box["y"] + box["height"] <= HOTLINE_SCREEN["height"], f"the Log button is below the screen: {box}"
    # and: the answer of a consultation is not offered for a fault
    expect(page.locator(".field-answer")).to_be_hidden()
    shot(page, "call-form", readme="agent-call")
    assert_accessible(page)

    # when: the agent picks the tier-2 team: the engineer list follows it
    page.locator("#id_team").select_option(str(world.teams[2].pk))
    expect(page.locator("#id_assignee option", has_text="陈工")).to_have_count(1)
    expect(page.locator("#id_assignee option", has_text="王工")).to_have_count(0)
    shot(page, "other-team")
    # and: back to the tier-1 team, its engineer on duty is named again
    page.locator("#id_team").select_option(str(world.teams[1].pk))
    expect(page.locator("#id_assignee")).to_have_value(str(world.engineer.pk))

    # wrong step: no engineer named and "leave it with the team" not ticked
    page.locator("#id_assignee").select_option("")
    page.locator("#id_title").fill("存储阵列告警 / storage alarm")
    page.locator("input[name=level][value='3']").check()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expect(page.locator(".field-leave_with_team .error")).to_have_text(
        t(language, "Name the engineer, or tick “Leave it with the team, nobody named yet”.")
    )
    expect(page.locator("#id_title")).to_have_value("存储阵列告警 / storage alarm")
    assert not Ticket.objects.exists()
    shot(page, "refused")
    assert_accessible(page)

    # when: the engineer is named after all, Ctrl+Enter logs the call
    page.locator("#id_assignee").select_option(str(world.engineer.pk))
    page.locator("#id_title").focus()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    flash = page.locator("main .flash-success")
    ticket = Ticket.objects.get(number=ticket_number_in(flash.inner_text()))
    assert (ticket.level, ticket.assignee, ticket.team) == (Level.III, world.engineer, world.teams[1])
    assert ticket.contact.name == "刘爱丽"

    # then: the caller's history lists the new ticket, one click from a follow-up call
    with page.expect_navigation():
        page.goto(f"/intake/?contact={ticket.contact.pk}")
    history = page.locator(".caller-history")
    expect(history.locator(f"a[href='/tickets/{ticket.number}/']")).to_be_visible()
    # and: the warning of an open ticket on the device does not push the Log button off the screen
    expect(page.locator(".duplicates")).to_contain_text(ticket.number)
    box = page.locator("button[name=action][value=log]").bounding_box()
    assert box["y"] + box["height"] <= HOTLINE_SCREEN["height"], f"the Log button is below the screen: {box}"
    shot(page, "history")
    assert_accessible(page)
