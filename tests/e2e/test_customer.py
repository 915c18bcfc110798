"""The customer files a request with a file on the portal, follows it, and confirms or reopens it."""

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.choices import Channel, Event, Level, Status
from tickets.models import Ticket

from .harness import act_form, do_act, t, ticket_number_in

# Each language on each screen, and each way the story ends in each language and on each screen.
RUNS = [
    ("zh-hans", "desktop", "confirm"),
    ("en", "desktop", "reopen"),
    ("zh-hans", "phone", "reopen"),
    ("en", "phone", "confirm"),
]


@pytest.mark.parametrize(("language", "viewport", "ending"), RUNS, ids=["-".join(run) for run in RUNS])
def test_customer_files_and_follows_a_request(
    page_as, world, shot, assert_accessible, tmp_path, language, viewport, ending
):
    log = tmp_path / "switch-log.txt"
    log.write_text("2026-11-20 09:12 PSU1 FAILED\n", encoding="utf-8")
    device = world.devices["alice"]
    page = page_as("alice", viewport=viewport, language=language)

    # given: the portal, the organisation's requests
    assert page.url.endswith("/portal/")
    assert_accessible(page)

    # when: alice files a request about one of her devices, with a log file attached
    with page.expect_navigation():
        page.locator("main a[href$='/portal/new/']").click()
    assert_accessible(page)
    page.select_option("#id_site", str(device.site.pk))
    page.select_option("#id_equipment", str(device.pk))
    page.check("input[name=level][value='3']")
    page.fill("#id_title", "交换机告警 / switch alarm")
    page.fill("#id_description", "电源指示灯红色 / the power light is red")
    page.set_input_files("#id_files", log)
    shot(page, "new-request")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: her request page shows it, with the file
    flash = page.locator("main .flash-success")
    number = ticket_number_in(flash.inner_text())
    filed = t(language, "Request %(number)s filed. We will answer soon.") % {"number": number}
    expect(flash).to_have_text(filed)
    ticket = Ticket.objects.get(number=number)
    assert (ticket.equipment, ticket.level, ticket.channel) == (device, Level.III, Channel.PORTAL)
    download = page.locator("main .ticket-facts a[href*='/attachments/']", has_text="switch-log.txt")
    expect(download).to_be_visible()
    assert page.request.get(download.get_attribute("href")).text() == log.read_text(encoding="utf-8")
    assert_accessible(page)

    # when: the engineer takes it and answers in public, and notes something internal
    services.assign(ticket, by=world.agent, team=world.teams[1], assignee=world.engineer)
    services.accept(ticket, by=world.engineer)
    services.add_comment(ticket, by=world.engineer, body="已安排备件 / a spare PSU is on its way")
    services.add_comment(ticket, by=world.engineer, body="客户机房钥匙在前台", is_internal=True)

    # then: alice following her request sees the public comment, never the internal note
    page.reload()
    comments = page.locator("main section[aria-labelledby=comments-heading]")
    expect(comments).to_contain_text("已安排备件 / a spare PSU is on its way")
    expect(page.locator("main")).not_to_contain_text("客户机房钥匙在前台")
    expect(page.locator("main .ticket-head .badge").first).to_have_text(t(language, Status.IN_PROGRESS.label))
    assert_accessible(page)
    shot(page, "comment", readme="customer" if viewport == "desktop" else None)

    # when: the engineer resolves it
    services.resolve(ticket, by=world.engineer, resolution="更换电源 / PSU replaced")
    page.reload()
    expect(page.locator("main .ticket-head .badge").first).to_have_text(t(language, Status.RESOLVED.label))
    assert_accessible(page)

    # and: alice confirms the resolution, or reopens it with a reason
    if ending == "confirm":
        # Confirming is the likely next step: its form is open, and asks for a score.
        form = act_form(page, "confirm")
        form.locator("input[name=score][value='5']").check()
        form.locator("[name=comment]").fill("谢谢 / thank you")
        form.locator("button[type=submit]").click()
        expected, event = Status.CLOSED, Event.CONFIRMED
    else:
        do_act(page, "reopen", reason="告警又出现了 / the alarm is back")
        expected, event = Status.REOPENED, Event.REOPENED

    # then
    expect(page.locator("main .ticket-head .badge").first).to_have_text(t(language, expected.label))
    expect(page.locator(f"main .timeline .event-{event}")).to_be_visible()
    assert_accessible(page)
    shot(page, ending)
    ticket.refresh_from_db()
    assert ticket.status == expected

    # wrong step: alice opens bob's ticket by its address
    other = world.log_call(customer="bob", team=None, assignee=None, title="乙单位的故障")
    response = page.goto(f"/tickets/{other.number}/")

    # then: as if it did not exist
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text(t(language, "Not found"))
    expect(page.locator("main")).not_to_contain_text("乙单位的故障")
    assert_accessible(page)
    shot(page, "other-organisation")
