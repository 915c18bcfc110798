"""
Group robots (DingTalk, WeCom) hear the ticket events they subscribe to, for their centres and
teams: new Level I/II faults, deadline warnings, breaches and later escalations, each once.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.choices import Role, Tier
from notifications import services as outbox
from notifications.choices import Channel, RobotEvent, RobotKind
from notifications.models import Notification, Robot
from sla import services as clock_services
from sla.models import Deadline
from sla.services import Step
from tests.factories import (
    ContractFactory,
    EquipmentFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tests.security.test_hostile_input import LINKS, XSS, _markdown, assert_markdown_inert
from tickets import services
from tickets.choices import Kind, Level
from tickets.deadlines import TicketEscalation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
# A Level I fault under the 7x24 plan owes its first response in 30 minutes: warned at 75 %
# (22 min 30 s), breached at 30 min, escalation level 2 after 50 % more (45 min).
WARNING_AT = datetime(2026, 11, 23, 10, 22, 30, tzinfo=SHANGHAI)
BREACH_AT = datetime(2026, 11, 23, 10, 30, tzinfo=SHANGHAI)
LEVEL_2_AT = datetime(2026, 11, 23, 10, 45, tzinfo=SHANGHAI)
NUMBER = "SD-2026-000001"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://desk.example.com"


@pytest.fixture
def clock(time_machine):
    def move_to(moment):
        time_machine.move_to(moment, tick=False)
        return moment

    return move_to


@pytest.fixture
def shanghai_centre(db):
    return SupportCentreFactory(name="上海技术支持中心", code="shanghai")


@pytest.fixture
def team(centre, engineer):
    supervisor = UserFactory(username="supervisor", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, supervisor)
    return team


@pytest.fixture
def tier2(centre):
    team = TeamFactory(name="南京专职维护组", centre=centre, tier=Tier.DEDICATED)
    team.members.add(UserFactory(username="t2_a", role=Role.ENGINEER, centre=centre))
    return team


@pytest.fixture
def device(alice, centre):
    """Equipment of alice's organisation (甲单位) under a 7x24 contract, at a site of `centre`."""
    organisation = alice.contact.organisation
    site = SiteFactory(organisation=organisation, centre=centre, name="本部机房")
    contract = ContractFactory(organisation=organisation, number="HT-2026-0724")
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-7X24-0001")


@pytest.fixture
def make_ticket(agent, device, team, engineer):
    """Log a call at the clock's time: by default a Level I fault assigned to `engineer` of `team`."""

    def make(**details):
        fields = {
            "organisation": device.site.organisation,
            "title": "核心交换机宕机",
            "kind": Kind.FAULT,
            "level": Level.I,
            "site": device.site,
            "equipment": device,
            "contract": device.contract,
        } | details
        return services.log_call(services.CallDetails(**fields), by=agent, team=team, assignee=engineer)

    return make


def robot(name, *, centres=(), teams=(), events=None, **fields) -> Robot:
    values = {"kind": RobotKind.WECOM, "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={name}"}
    if events is not None:
        values["events"] = list(events)
    made = Robot.objects.create(name=name, **(values | fields))
    made.centres.set(centres)
    made.teams.set(teams)
    return made


def posts(to: Robot, kind: str | None = None) -> list[str]:
    """The subjects of the messages queued for this robot, oldest first."""
    rows = Notification.objects.filter(robot=to, channel=Channel.WEBHOOK)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk").values_list("subject", flat=True))


# Who hears what


def test_subscriptions_match_the_centre_or_team_and_the_event(centre, shanghai_centre, team, tier2):
    # given
    of_centre = robot("centre", centres=[centre])
    of_team = robot("team", teams=[team], events=[RobotEvent.WARNING])
    everywhere = robot("everywhere", events=[RobotEvent.BREACH])
    elsewhere = robot("elsewhere", centres=[shanghai_centre])
    robot("silent", centres=[centre], events=[])
    robot("off", centres=[centre], is_active=False)
    # when
    subscriptions = outbox.Subscriptions()

    def hearing(event, centre_id, *team_ids):
        return {found.name for found in subscriptions.hearing(event, centre_id=centre_id, team_ids=team_ids)}

    # then
    assert hearing(RobotEvent.WARNING, centre.pk, team.pk) == {of_centre.name, of_team.name}
    assert hearing(RobotEvent.WARNING, None, team.pk) == {of_team.name}
    assert hearing(RobotEvent.WARNING, centre.pk, tier2.pk) == {of_centre.name}
    assert hearing(RobotEvent.BREACH, centre.pk, team.pk) == {of_centre.name, everywhere.name}
    assert hearing(RobotEvent.BREACH, shanghai_centre.pk) == {elsewhere.name, everywhere.name}
    assert hearing(RobotEvent.NEW_LEVEL_1, None) == set()


def test_a_new_level_i_fault_is_posted_to_each_robot_of_its_centre_or_team(
    clock, make_ticket, centre, shanghai_centre, team
):
    # given
    of_centre = robot("centre", centres=[centre])
    of_team = robot("team", teams=[team], kind=RobotKind.DINGTALK)
    everywhere = robot("everywhere")
    elsewhere = robot("elsewhere", centres=[shanghai_centre])
    level_2_only = robot("level 2", centres=[centre], events=[RobotEvent.NEW_LEVEL_2])
    off = robot("off", centres=[centre], is_active=False)
    clock(MONDAY_10)
    # when
    make_ticket(title="核心交换机宕机")
    # then
    for hearing in (of_centre, of_team, everywhere):
        assert posts(hearing) == [f"New Level I fault {NUMBER}"]
    for deaf in (elsewhere, level_2_only, off):
        assert posts(deaf) == []
    row = Notification.objects.get(robot=of_team)
    assert (row.kind, row.url) == ("ticket.logged", f"/tickets/{NUMBER}/")
    assert row.body.splitlines() == [f"{NUMBER} · Fault · Level I", "核心交换机宕机", "甲单位"]
    text = outbox.robot_payload(row)["markdown"]["text"]
    assert f"(https://desk.example.com/tickets/{NUMBER}/)" in text


def test_a_new_level_ii_fault_reaches_only_the_robots_that_hear_level_ii(clock, make_ticket, centre):
    level_1_only = robot("level 1", centres=[centre], events=[RobotEvent.NEW_LEVEL_1])
    level_2_only = robot("level 2", centres=[centre], events=[RobotEvent.NEW_LEVEL_2])
    clock(MONDAY_10)

    make_ticket(level=Level.II)

    assert posts(level_1_only) == []
    assert posts(level_2_only) == [f"New Level II fault {NUMBER}"]


def test_only_new_level_i_and_ii_faults_are_posted(clock, make_ticket, centre):
    of_centre = robot("centre", centres=[centre])
    clock(MONDAY_10)

    make_ticket(level=Level.III)
    make_ticket(level=Level.IV)
    make_ticket(kind=Kind.COMPLAINT, level=None, title="工程师态度差")
    make_ticket(level=Level.I)

    assert posts(of_centre) == ["New Level I fault SD-2026-000004"]


# The sweep


def test_the_sweep_posts_a_warning_and_a_breach_once_each_even_when_swept_twice(
    clock, make_ticket, centre, shanghai_centre, tier2
):
    # given
    of_centre = robot("centre", centres=[centre])
    breaches_only = robot("breaches", centres=[centre], events=[RobotEvent.BREACH])
    elsewhere = robot("elsewhere", centres=[shanghai_centre])
    clock(MONDAY_10)
    make_ticket()
    # when the response deadline warns, and the sweep runs twice
    clock(WARNING_AT)
    clock_services.sweep()
    clock_services.sweep()
    # then
    assert posts(of_centre, "ticket.sla_warning") == [f"{NUMBER}: First response due soon"]
    assert posts(breaches_only) == []
    # when it lapses, swept twice again
    clock(BREACH_AT)
    clock_services.sweep()
    clock_services.sweep()
    # then
    breach = f"{NUMBER}: First response overdue, escalated to level 1"
    assert posts(of_centre, "ticket.escalated") == [breach]
    assert posts(breaches_only) == [breach]
    assert posts(elsewhere) == []
    row = Notification.objects.get(robot=breaches_only)
    assert row.body.splitlines() == [f"{NUMBER} · Fault · Level I", "核心交换机宕机", "甲单位"]
    assert row.url == f"/tickets/{NUMBER}/"


def test_a_batch_handed_to_the_handler_again_posts_nothing_twice(clock, make_ticket, centre):
    # given the warning was posted
    of_centre = robot("centre", centres=[centre], events=[RobotEvent.WARNING])
    clock(MONDAY_10)
    ticket = make_ticket()
    clock(WARNING_AT)
    clock_services.sweep()
    assert posts(of_centre) == [f"{NUMBER}: First response due soon"]
    # when a redelivered task acts on the same step again
    response = Deadline.objects.for_object(ticket).get(kind="ticket.response")
    TicketEscalation().act([Step(deadline=response, level=0, rule=None)], now=WARNING_AT)
    # then the robot still has one message
    assert posts(of_centre) == [f"{NUMBER}: First response due soon"]


def test_a_breach_reaches_the_robots_of_the_team_it_leaves_and_the_team_it_goes_to(
    clock, make_ticket, centre, team, tier2
):
    # given
    tier_1_group = robot("tier 1", teams=[team], events=[RobotEvent.BREACH])
    tier_2_group = robot("tier 2", teams=[tier2], events=[RobotEvent.BREACH, RobotEvent.ESCALATION])
    escalations_only = robot("escalations", centres=[centre], events=[RobotEvent.ESCALATION])
    clock(MONDAY_10)
    make_ticket()
    # when it is breached, the ticket moves from `team` to `tier2`
    clock(BREACH_AT)
    clock_services.sweep()
    # then
    breach = f"{NUMBER}: First response overdue, escalated to level 1"
    assert posts(tier_1_group) == [breach]
    assert posts(tier_2_group) == [breach]
    assert posts(escalations_only) == []
    # when it is escalated further
    clock(LEVEL_2_AT)
    clock_services.sweep()
    # then only the robots hearing later escalations hear it
    level_2 = f"{NUMBER}: First response overdue, escalated to level 2"
    assert posts(tier_1_group) == [breach]
    assert posts(tier_2_group) == [breach, level_2]
    assert posts(escalations_only) == [level_2]


def test_after_an_outage_a_robot_gets_one_digest(clock, make_ticket, centre, settings):
    # given three Level I faults whose responses warn at once, and a digest after 2
    settings.SLA_DIGEST_AFTER = 2
    of_centre = robot("centre", centres=[centre], events=[RobotEvent.WARNING])
    clock(MONDAY_10)
    tickets = [make_ticket(title=f"核心交换机宕机 {n}") for n in range(3)]
    # when
    clock(WARNING_AT)
    clock_services.sweep()
    clock_services.sweep()
    # then
    digest = Notification.objects.get(robot=of_centre)
    assert digest.subject == "3 ticket deadlines due soon"
    assert digest.body.splitlines() == [f"{ticket.number}: First response due soon" for ticket in tickets]


@pytest.mark.parametrize("kind", RobotKind.values)
def test_a_hostile_ticket_title_stays_inert_in_every_robot_message(clock, make_ticket, centre, kind):
    # given
    of_centre = robot("centre", centres=[centre], kind=kind)
    clock(MONDAY_10)
    title = " ".join(LINKS[:3]) + "\n# 标题\n" + XSS
    # when it is logged, warned and breached
    make_ticket(title=title[:200])
    for moment in (WARNING_AT, BREACH_AT):
        clock(moment)
        clock_services.sweep()
    # then no message posts a link, image or tag of the title's making, nor a line of its own
    rows = list(Notification.objects.filter(robot=of_centre))
    assert len(rows) == 3
    for row in rows:
        assert_markdown_inert(_markdown(outbox.robot_payload(row)), f"{kind} {row.kind}")
        assert len(row.body.splitlines()) == 3


# The admin


def test_the_admin_sets_a_robots_centres_teams_and_events(client, admin_user, centre, team):
    # given
    client.force_login(admin_user)
    page = client.get("/admin/notifications/robot/add/").content.decode()
    assert "With no centre and no team it posts about every centre." in page
    assert "With none ticked it posts only test messages." in page
    # when
    response = client.post(
        "/admin/notifications/robot/add/",
        {
            "name": "南京值班群",
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "is_active": "on",
            "centres": [centre.pk],
            "teams": [team.pk],
            "events": [RobotEvent.BREACH, RobotEvent.NEW_LEVEL_1],
        },
    )
    # then
    assert response.status_code == 302
    saved = Robot.objects.get()
    assert (list(saved.centres.all()), list(saved.teams.all())) == ([centre], [team])
    assert saved.events == [RobotEvent.NEW_LEVEL_1, RobotEvent.BREACH]
    listing = client.get("/admin/notifications/robot/").content.decode()
    assert "New Level I fault, Deadline breached (escalation level 1)" in listing


def test_the_admin_refuses_an_unknown_event(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/notifications/robot/add/",
        {"name": "群", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/x", "events": ["everything"]},
    )

    assert response.status_code == 200
    assert (
        "Select a valid choice. everything is not one of the available choices." in response.content.decode()
    )
    assert not Robot.objects.exists()
