"""
Reads of tickets: which an engineer sees (their own, their teams', the teams they supervise;
each once), and a timeline's changes named in each language.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role, Tier
from tests.factories import TeamFactory, UserFactory
from tickets import selectors


def test_an_engineer_sees_their_own_their_teams_and_the_teams_they_supervise(
    make_ticket, team, engineer, other_engineer, centre
):
    # given: the engineer is a member of `team` and of a second team, and supervises a third
    second = TeamFactory(name="二线维护组", centre=centre, tier=Tier.DEDICATED)
    second.members.add(engineer, other_engineer)
    supervised = TeamFactory(name="三线专家组", centre=centre, tier=Tier.EXPERT, supervisor=engineer)
    elsewhere = TeamFactory(name="外地组", centre=centre)
    elsewhere.members.add(engineer)
    mine = make_ticket(assignee=engineer, team=elsewhere)
    elsewhere.members.remove(engineer)  # still theirs after leaving that team
    of_team = make_ticket(team=team)
    of_second = make_ticket(team=second, assignee=other_engineer)
    of_supervised = make_ticket(team=supervised)
    make_ticket(team=elsewhere)  # neither theirs nor their teams'
    make_ticket()  # not assigned at all
    # when
    seen = list(selectors.visible_tickets(engineer).order_by("pk"))
    # then: each of the four once, nothing else
    assert seen == [mine, of_team, of_second, of_supervised]


def test_an_engineers_tickets_are_read_without_de_duplicating_the_table(make_ticket, team, engineer):
    make_ticket(team=team, assignee=engineer)
    with CaptureQueriesContext(connection) as queries:
        list(selectors.visible_tickets(engineer))
    assert not any("DISTINCT" in query["sql"].upper() for query in queries.captured_queries)


def test_an_engineer_without_a_team_sees_only_what_is_assigned_to_them(make_ticket, centre, team):
    loner = UserFactory(username="loner", role=Role.ENGINEER, centre=centre)
    team.members.add(loner)
    theirs = make_ticket(team=team, assignee=loner)
    team.members.remove(loner)  # left the team: what is assigned to them stays theirs
    make_ticket(team=team)
    assert list(selectors.visible_tickets(loner)) == [theirs]


def test_a_timelines_changes_read_in_each_language_in_turn(make_ticket, team):
    # The names of a change are worked out once per language: switching languages never mixes them.
    from django.utils import translation

    from tickets.choices import Event

    event = make_ticket(team=team).events.get(kind=Event.LOGGED)
    event.before, event.after = {"status": "new"}, {"status": "assigned", "tier": 2}
    for _ in range(2):
        with translation.override("en"):
            assert [row[1:] for row in event.changes()] == [("New", "Assigned"), ("", "Tier 2")]
        with translation.override("zh-hans"):
            assert [row[1:] for row in event.changes()] == [("新建", "已派单"), ("", "二线")]
