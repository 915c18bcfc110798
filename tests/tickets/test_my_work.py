"""The engineer's /work/: one list by time left, the team's unassigned tickets included."""

from datetime import UTC, datetime, timedelta

import pytest

from sla.models import Deadline
from tests.factories import TeamFactory
from tickets import services

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, 09:00 in Shanghai.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def due(ticket, kind: str, at) -> None:
    """The ticket's deadline `kind` falls due at `at`; its other promises much later."""
    Deadline.objects.for_object(ticket).update(due_at=NOW + timedelta(days=3))
    Deadline.objects.for_object(ticket).filter(kind=f"ticket.{kind}").update(due_at=at)


@pytest.fixture
def queue(make_ticket, team, engineer, centre):
    """Five tickets whose next deadlines are worked out by hand, and one of another team."""
    late = make_ticket(title="已超时两小时", team=team, assignee=engineer)
    due(late, "resolution", NOW - timedelta(hours=2))
    team_late = make_ticket(title="组内未分配", team=team)
    due(team_late, "response", NOW - timedelta(minutes=30))
    soon = make_ticket(title="十五分钟后", team=team, assignee=engineer, urgency="very_urgent")
    due(soon, "workaround", NOW + timedelta(minutes=15))
    calm = make_ticket(title="三小时后", team=team, assignee=engineer)
    due(calm, "response", NOW + timedelta(hours=3))
    # Waiting for the customer: every clock is stopped, so nothing is due; it comes last.
    waiting = services.pause(
        services.accept(make_ticket(title="等客户", team=team, assignee=engineer), by=engineer),
        by=engineer,
        reason="等待客户提供日志",
    )
    elsewhere = make_ticket(title="别的组", team=TeamFactory(name="别的服务组", centre=centre))
    due(elsewhere, "response", NOW - timedelta(hours=5))
    return {"late": late, "team_late": team_late, "soon": soon, "calm": calm, "waiting": waiting}


def test_cards_are_ordered_by_time_left_overdue_first(client, engineer, queue):
    # when
    client.force_login(engineer)
    response = client.get("/work/")
    # then: most overdue first, then least time left, then no running clock; not another team's
    titles = [ticket.title for ticket in response.context["queue"]]
    assert titles == ["已超时两小时", "组内未分配", "十五分钟后", "三小时后", "等客户"]
    assert (response.context["mine_count"], response.context["unassigned_count"]) == (4, 1)


def test_each_card_shows_its_next_deadline_with_a_live_countdown(client, engineer, queue, english):
    client.force_login(engineer)
    body = client.get("/work/").content.decode()
    cards = body.split('<a class="ticket-card ')[1:]
    # The first card: the resolution, two hours overdue (07:00 in Shanghai), marked overdue.
    assert cards[0].startswith("urgency-general is-overdue")
    assert "Resolution" in cards[0]
    assert 'datetime="2026-11-23T07:00:00+08:00" data-countdown' in cards[0]
    # The team's unassigned ticket says so; the engineer's own do not.
    assert "Unassigned — take it" in cards[1]
    assert "First response" in cards[1]
    assert "Unassigned — take it" not in cards[0]
    assert 'datetime="2026-11-23T09:15:00+08:00"' in cards[2] and "Workaround" in cards[2]
    assert "is-overdue" not in cards[2].split(">")[0]
    # Waiting for the customer: no countdown at all.
    assert "data-countdown" not in cards[4]


def test_the_portal_cards_show_no_deadline_and_no_take_it(client, alice, queue, english):
    client.force_login(alice)
    body = client.get("/portal/").content.decode()
    assert "已超时两小时" in body
    assert "take it" not in body
    assert "data-countdown" not in body
