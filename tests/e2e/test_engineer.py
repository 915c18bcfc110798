"""The engineer works a fault from a phone, from accepting it to the fault handling report."""

import pytest
from playwright.sync_api import expect

from tickets.acts import ACTS
from tickets.choices import Event, Status, WorkMethod

from .harness import LANGUAGES, do_act, t


def done(language: str, act: str) -> str:
    """What the page says once the act (named by its button's label) succeeded."""
    return t(language, next(each.done for each in ACTS.values() if t("en", each.label) == act))


def expect_status(page, language: str, status: Status) -> None:
    expect(page.locator("main .ticket-head .badge").first).to_have_text(t(language, status.label))


@pytest.mark.parametrize("language", LANGUAGES)
def test_engineer_works_a_fault_on_a_phone(page_as, world, shot, assert_accessible, language):
    # given: a Level II fault logged by the hotline and assigned to the engineer
    ticket = world.log_call(title="核心交换机宕机 / core switch down", on_site_required=True)
    page = page_as("engineer", viewport="phone", language=language)

    # when: the engineer opens it from my work
    assert page.url.endswith("/work/")
    assert_accessible(page)
    shot(page, "my-work")
    with page.expect_navigation():
        page.locator("main a.ticket-card", has_text=ticket.number).click()
    expect(page.locator("main h1")).to_have_text(ticket.title)
    expect_status(page, language, Status.ASSIGNED)
    assert_accessible(page)
    shot(page, "assigned")

    # wrong step: the same ticket is open in a second tab; accepting in the first makes it stale
    stale = page.context.new_page()
    stale.goto(page.url)
    do_act(page, "accept")
    expect(page.locator("main .flash-success")).to_have_text(done(language, "Accept"))
    expect_status(page, language, Status.IN_PROGRESS)
    do_act(stale, "accept")
    # then: the second tab's accept is refused, shows the ticket as it is now, and changes nothing
    refusal = stale.locator("main .flash-error[role=alert]")
    expect(refusal).to_contain_text(ticket.number)
    expect(refusal).to_contain_text(t(language, Status.IN_PROGRESS.label))
    expect_status(stale, language, Status.IN_PROGRESS)
    shot(stale, "refused")
    assert_accessible(stale)
    stale.close()
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert list(ticket.events.order_by("pk").values_list("kind", flat=True)) == [Event.LOGGED, Event.ACCEPTED]

    # when: travel, arrival, work on site
    do_act(page, "start_travel")
    expect(page.locator("main .flash-success")).to_have_text(done(language, "Start travel"))
    do_act(page, "arrive")
    expect_status(page, language, Status.ON_SITE)
    assert_accessible(page)
    do_act(page, "log_work", minutes="45", method=WorkMethod.ON_SITE, note="更换电源模块 / replaced the PSU")
    expect(page.locator("main .flash-success")).to_have_text(done(language, "Log work"))
    expect(page.locator("main .event-work_logged")).to_contain_text("45 min")
    shot(page, "on-site")

    # and: a part is awaited, then work resumes
    do_act(page, "wait_for_parts", note="风扇模块 FAN-02")
    expect_status(page, language, Status.WAITING_PARTS)
    assert_accessible(page)
    do_act(page, "resume", note="备件已到 / part arrived")
    expect_status(page, language, Status.IN_PROGRESS)

    # and: the fault is resolved with notes
    resolution, root_cause = "更换风扇模块后恢复 / fan replaced", "风扇老化 / worn fan"
    do_act(page, "resolve", resolution=resolution, root_cause=root_cause)
    expect_status(page, language, Status.RESOLVED)
    expect(page.locator("main .ticket-main")).to_contain_text(resolution)
    assert_accessible(page)
    shot(page, "resolved", readme="engineer")

    # and: the fault handling report is written
    with page.expect_navigation():
        page.locator(f"main a[href$='/tickets/{ticket.number}/report/']").click()
    assert_accessible(page)
    page.fill("#id_fault_class", "硬件故障 / hardware")
    page.fill("#id_cause", "风扇老化导致过热 / overheating")
    page.fill("#id_method", "更换风扇模块 / replaced the fan")
    page.fill("#id_loss", "业务中断两小时 / two hours down")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: the report shows what was written
    expect(page.locator("main .flash-success")).to_have_text(t(language, "Fault handling report saved."))
    facts = page.locator("main dl.report-facts")
    for text in ["硬件故障 / hardware", "风扇老化导致过热 / overheating", "两小时 / two hours down"]:
        expect(facts).to_contain_text(text)
    assert_accessible(page)
    shot(page, "report")

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert (ticket.resolution, ticket.root_cause) == (resolution, root_cause)
    assert ticket.fault_report.fault_class == "硬件故障 / hardware"
    assert list(ticket.work_logs.values_list("minutes", "method")) == [(45, WorkMethod.ON_SITE)]
    assert list(ticket.events.order_by("pk").values_list("kind", flat=True)) == [
        Event.LOGGED,
        Event.ACCEPTED,
        Event.TRAVEL_STARTED,
        Event.ARRIVED,
        Event.WORK_LOGGED,
        Event.WAITING_PARTS,
        Event.RESUMED,
        Event.RESOLVED,
        Event.REPORT_WRITTEN,
    ]
