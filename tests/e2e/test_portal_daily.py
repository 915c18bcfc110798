"""
The customer's portal day to day: a refused request keeps the file already chosen (and the site and
device lists follow each other), and confirming a resolution asks how the service was.
"""

import pytest
from playwright.sync_api import expect

from tests.factories import EquipmentFactory, SiteFactory
from tickets import services
from tickets.choices import Event, Level, Status
from tickets.models import ServiceRating, StagedUpload, Ticket

from .harness import act_form, assert_labelled, t, ticket_number_in

RUNS = [("zh-hans", "desktop"), ("en", "desktop"), ("zh-hans", "phone"), ("en", "phone")]
IDS = ["-".join(run) for run in RUNS]
HOTLINE = "400-820-1234"


def open_step(page, act: str):
    """The form of one step of the ticket page, unfolded if it is folded (under "more" or its own)."""
    form = act_form(page, act)
    expect(form).to_have_count(1)
    for folded in ("details.more-steps", "details.act"):
        details = page.locator(f"main {folded}", has=form)
        if details.count() and details.get_attribute("open") is None:
            details.locator("summary").first.click()
    return form


@pytest.fixture
def hotline(world):
    world.centre.hotline = HOTLINE
    world.centre.save(update_fields=["hotline"])
    return HOTLINE


@pytest.mark.parametrize(("language", "viewport"), RUNS, ids=IDS)
def test_a_customers_attachment_kept_across_a_refused_form(
    page_as, world, hotline, shot, assert_accessible, tmp_path, language, viewport
):
    # given: alice's organisation has a second site with a device of its own
    device = world.devices["alice"]
    branch = SiteFactory(organisation=device.site.organisation, centre=world.centre, name="甲单位 分部机房")
    branch_device = EquipmentFactory(site=branch, serial_number="SN-A-0002")
    log = tmp_path / "switch-log.txt"
    log.write_text("2026-11-20 09:12 PSU1 FAILED\n", encoding="utf-8")
    page = page_as("alice", viewport=viewport, language=language)

    # when: she reports a fault on her device from the equipment page
    page.goto("/portal/equipment/")
    report = page.locator("main td.report-fault a", has_text=device.serial_number)
    expect(report).to_have_text(t(language, "Report a fault") + " " + device.serial_number)
    report.scroll_into_view_if_needed()
    shot(page, "equipment")
    assert_accessible(page)
    with page.expect_navigation():
        report.click()

    # then: the new request has her device and its site chosen
    expect(page.locator("#id_site")).to_have_value(str(device.site.pk))
    expect(page.locator("#id_equipment")).to_have_value(str(device.pk))
    # the page says to call the hotline for a system that is down, as a phone link
    expect(page.locator(f"main .hotline a[href='tel:{HOTLINE}']")).to_have_text(HOTLINE)
    page.select_option("#id_site", "")

    # when: she chooses a file and fills everything but the site
    page.check("input[name=level][value='3']")
    page.fill("#id_title", "交换机告警 / switch alarm")
    page.set_input_files("#id_files", log)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: refused, saying what to do, and the file is still listed as kept
    expect(page.locator("main .field-site .error")).to_have_text(
        t(language, "Choose the site of the request.")
    )
    expect(page.locator("main")).not_to_contain_text(t(language, "This field is required."))
    kept = page.locator("main .kept-files")
    expect(kept).to_contain_text("switch-log.txt")
    assert StagedUpload.objects.get().owner == world.alice
    expect(page.locator("#id_title")).to_have_value("交换机告警 / switch alarm")
    kept.scroll_into_view_if_needed()
    shot(page, "refused-kept")
    assert_accessible(page)

    # when: she picks the branch's device first, its site is chosen with it
    page.select_option("#id_equipment", str(branch_device.pk))
    expect(page.locator("#id_site")).to_have_value(str(branch.pk))
    # and: choosing the main site clears the device that is not there and offers only its own
    page.select_option("#id_site", str(device.site.pk))
    expect(page.locator("#id_equipment")).to_have_value("")
    expect(page.locator(f"#id_equipment option[value='{branch_device.pk}']")).to_be_hidden()
    page.select_option("#id_equipment", str(device.pk))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: the request is filed with the kept file, and its timeline says it came from the portal
    number = ticket_number_in(page.locator("main .flash-success").inner_text())
    ticket = Ticket.objects.get(number=number)
    assert (ticket.site, ticket.equipment, ticket.level) == (device.site, device, Level.III)
    assert list(ticket.attachments.values_list("original_name", flat=True)) == ["switch-log.txt"]
    assert not StagedUpload.objects.exists()
    download = page.locator("main .ticket-facts a[href*='/attachments/']", has_text="switch-log.txt")
    assert page.request.get(download.get_attribute("href")).text() == log.read_text(encoding="utf-8")
    expect(page.locator(f"main .timeline .event-{Event.FILED}")).to_contain_text(
        t(language, Event.FILED.label)
    )
    expect(page.locator("main .timeline")).not_to_contain_text(t(language, Event.LOGGED.label))
    expect(page.locator(f"main .hotline a[href='tel:{HOTLINE}']")).to_be_visible()
    shot(page, "filed")
    assert_accessible(page)


@pytest.mark.parametrize(("language", "viewport"), RUNS, ids=IDS)
def test_a_confirmation_with_a_rating(page_as, world, hotline, shot, assert_accessible, language, viewport):
    # given: a request of alice's, resolved by the engineer, and one still open
    ticket = world.log_call(title="核心交换机宕机 / core switch down")
    services.accept(ticket, by=world.engineer)
    services.resolve(ticket, by=world.engineer, resolution="更换电源 / PSU replaced")
    still_open = world.log_call(title="打印机卡纸 / printer jam")
    page = page_as("alice", viewport=viewport, language=language)

    # when: she follows the banner of requests awaiting her confirmation
    expect(page.locator(f"main .hotline a[href='tel:{HOTLINE}']")).to_be_visible()
    with page.expect_navigation():
        page.locator("main .flash.to-confirm a").click()
    assert page.url.endswith("?state=to_confirm")
    expect(page.locator(f"main a[href$='/tickets/{ticket.number}/']").first).to_be_visible()
    expect(page.locator(f"main a[href$='/tickets/{still_open.number}/']")).to_have_count(0)
    with page.expect_navigation():
        page.locator(f"main a[href$='/tickets/{ticket.number}/']").first.click()
    expect(page.locator("main .ticket-head")).not_to_contain_text(t(language, "Tier 1"))

    # and: opens the confirmation (the likely next step) and sends it without a score
    form = open_step(page, "confirm")
    assert_labelled(page)
    expect(form.locator("legend")).to_have_text(t(language, "How was the service?"))
    shot(page, "asked")
    assert_accessible(page)
    form.locator("button[type=submit]").click()

    # then: refused, nothing changed
    expect(page.locator("main")).to_contain_text(
        t(language, "How was the service? Choose a score from 5 to 0.")
    )
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED

    # when: she chooses "very satisfied" and says a word
    form = open_step(page, "confirm")
    form.locator("label", has=page.locator("input[name=score][value='5']")).click()
    form.locator("[name=comment]").fill("响应很快 / quick response")
    form.locator("button[type=submit]").click()

    # then: closed, rated, and the rating is shown on the ticket and in its timeline
    expect(page.locator("main .ticket-head .badge").first).to_have_text(t(language, Status.CLOSED.label))
    rating = page.locator("main .rating-given")
    expect(rating).to_contain_text(t(language, "Very satisfied"))
    expect(rating).to_contain_text("响应很快 / quick response")
    expect(page.locator(f"main .timeline .event-{Event.RATED}")).to_be_visible()
    saved = ServiceRating.objects.get(ticket=ticket)
    assert (saved.score, saved.comment, saved.rated_by) == (5, "响应很快 / quick response", world.alice)
    shot(page, "rated")
    assert_accessible(page)

    # and: the desk sees the same rating on the ticket
    desk = page_as("agent", viewport=viewport, language=language)
    desk.goto(f"/tickets/{ticket.number}/")
    expect(desk.locator("main .rating-given")).to_contain_text(t(language, "Very satisfied"))
    expect(desk.locator(f"main .timeline .event-{Event.RATED}")).to_be_visible()
