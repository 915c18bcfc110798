"""The manager watches the SLA queue, sees a ticket breach and escalate, and reassigns it."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from sla import services as clock
from sla.choices import State
from sla.models import Deadline
from tickets.acts import ACTS
from tickets.choices import Event, Level

from .harness import LANGUAGES, do_act, t


@pytest.mark.parametrize("language", LANGUAGES)
def test_manager_sees_a_breach_escalate_and_reassigns(page_as, world, shot, assert_accessible, language):
    # given: a Level II fault under a 7x24 contract (response due in 30 minutes), nobody accepts it
    ticket = world.log_call(title="数据库响应缓慢 / database slow", level=Level.II)
    response = Deadline.objects.for_object(ticket).get(kind="ticket.response")

    # when: the server's clock moves 35 minutes on and the sweep runs
    later = ticket.created_at + timedelta(minutes=35)
    with time_machine.travel(later, tick=True):
        clock.sweep()
        page = page_as("manager", viewport="desktop", language=language)
        # The browser's clock agrees with the server's, for the countdowns.
        page.clock.set_fixed_time(later)

        # then: the SLA queue shows the ticket breached
        page.goto("/sla/queue/")
        row = page.locator("main table tbody tr", has_text=ticket.number)
        expect(row.locator(".badge.sla-breached")).to_have_text(t(language, State.BREACHED.label))
        expect(row).to_contain_text(t(language, "First response"))
        assert_accessible(page)
        shot(page, "queue", readme="manager")

        # and: its page shows the escalation to tier 2 in the timeline
        with page.expect_navigation():
            row.locator(f"a[href$='/tickets/{ticket.number}/']").click()
        escalated = page.locator("main .timeline .event-escalated")
        expect(escalated).to_contain_text(t(language, Event.ESCALATED.label))
        expect(escalated.locator(".changes")).to_contain_text(world.teams[2].name)
        expect(page.locator("main .ticket-head .badge.tier-2")).to_be_visible()
        assert_accessible(page)
        shot(page, "escalated")

        # when: the manager reassigns it to the tier-2 team's engineer
        do_act(
            page,
            "assign",
            team=str(world.teams[2].pk),
            assignee=str(world.engineer2.pk),
            note="请陈工今天处理 / for Chen today",
        )

        # then: the timeline shows the assignment
        expect(page.locator("main .flash-success")).to_have_text(t(language, ACTS["assign"].done))
        assigned = page.locator("main .timeline .event-assigned").last
        expect(assigned).to_contain_text(str(world.engineer2))
        expect(assigned).to_contain_text("请陈工今天处理 / for Chen today")
        assert_accessible(page)
        shot(page, "reassigned")

    response.refresh_from_db()
    assert response.state == State.BREACHED
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.team, ticket.assignee) == (2, world.teams[2], world.engineer2)
    assert list(ticket.events.order_by("pk").values_list("kind", flat=True)) == [
        Event.LOGGED,
        Event.SLA_WARNING,
        Event.ESCALATED,
        Event.ASSIGNED,
    ]

    # wrong step: an engineer who supervises no team opens the SLA queue
    engineer = page_as("engineer", viewport="desktop", language=language)
    answer = engineer.goto("/sla/queue/")

    # then: refused, and the queue is not shown
    assert answer.status == 403
    expect(engineer.locator("main h1")).to_have_text(t(language, "Not for your role"))
    expect(engineer.locator("main")).not_to_contain_text(ticket.number)
    assert_accessible(engineer)
    shot(engineer, "queue-refused")
