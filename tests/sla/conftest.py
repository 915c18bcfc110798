"""
Fixtures for the deadline clock seen through tickets: a centre with a team in each tier, alice's
organisation with a 7x24 and a 5x8 contract, and tickets logged through the services.

Times are Asia/Shanghai wall times; the clock stands still (`tick=False`) and moves when told.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.choices import Role, Tier
from customers.choices import Coverage, Zone
from sla.models import Deadline
from tests.factories import ContractFactory, EquipmentFactory, SiteFactory, TeamFactory, UserFactory
from tickets import services
from tickets.choices import Kind, Level

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=SHANGHAI)


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def deadlines_of(ticket) -> dict:
    """The ticket's deadlines by kind, fresh from the database."""
    rows = Deadline.objects.for_object(ticket).order_by("pk")
    found = {}
    for row in rows:
        assert row.kind not in found, f"two deadlines of kind {row.kind}"
        found[row.kind] = row
    return found


@pytest.fixture
def clock(time_machine):
    """The frozen clock: `clock.move_to(shanghai(...))` sets the time; it stays there."""

    class Clock:
        def move_to(self, moment: datetime) -> datetime:
            time_machine.move_to(moment, tick=False)
            return moment

    return Clock()


@pytest.fixture
def supervisor(db, centre):
    return UserFactory(username="supervisor", role=Role.ENGINEER, centre=centre)


@pytest.fixture
def team(centre, engineer, supervisor):
    """The tier-1 team of the centre, supervised by `supervisor`, with `engineer` as a member."""
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, supervisor)
    return team


@pytest.fixture
def tier2(centre):
    """The centre's dedicated maintenance team: two members and their supervisor."""
    lead = UserFactory(username="t2_lead", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(name="南京专职维护组", centre=centre, tier=Tier.DEDICATED, supervisor=lead)
    team.members.add(
        lead,
        UserFactory(username="t2_a", role=Role.ENGINEER, centre=centre),
        UserFactory(username="t2_b", role=Role.ENGINEER, centre=centre),
    )
    return team


@pytest.fixture
def tier3(centre):
    """The centre's product and technical experts: two members, no supervisor."""
    team = TeamFactory(name="南京产品专家组", centre=centre, tier=Tier.EXPERT)
    team.members.add(
        UserFactory(username="t3_a", role=Role.ENGINEER, centre=centre),
        UserFactory(username="t3_b", role=Role.ENGINEER, centre=centre),
    )
    return team


@pytest.fixture
def leader(db):
    return UserFactory(username="leader", role=Role.MANAGER, is_company_leader=True)


@pytest.fixture
def site(alice, centre):
    """alice's machine room in the city, served by `centre`."""
    return SiteFactory(organisation=alice.contact.organisation, centre=centre, name="本部机房")


@pytest.fixture
def remote_site(alice, centre):
    """A branch site 90 minutes' travel from the centre."""
    return SiteFactory(
        organisation=alice.contact.organisation,
        centre=centre,
        name="县分中心机房",
        zone=Zone.REMOTE,
        travel_minutes=90,
    )


@pytest.fixture
def device(site):
    """Equipment under a 7x24 contract (the factory's default coverage)."""
    contract = ContractFactory(organisation=site.organisation, number="HT-2026-0724", coverage=Coverage.FULL)
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-7X24-0001")


@pytest.fixture
def device_5x8(site):
    """Equipment under a 5x8 contract (working hours only)."""
    contract = ContractFactory(
        organisation=site.organisation, number="HT-2026-0508", coverage=Coverage.BUSINESS
    )
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-5X8-0001")


@pytest.fixture
def make_ticket(agent, device, team, engineer):
    """
    Log a call through the service at the clock's current time: by default a Level I fault on the
    7x24 `device`, assigned to `engineer` of `team`. Keywords override the call's details;
    `team=None` / `assignee=None` leave it unassigned.
    """

    def make(*, equipment=None, team=team, assignee=engineer, **details):
        equipment = equipment or device
        fields = {
            "organisation": equipment.site.organisation,
            "title": "核心交换机宕机",
            "description": "全部业务中断",
            "kind": Kind.FAULT,
            "level": Level.I,
            "site": equipment.site,
            "equipment": equipment,
            "contract": equipment.contract,
        } | details
        return services.log_call(services.CallDetails(**fields), by=agent, team=team, assignee=assignee)

    return make


@pytest.fixture
def remote_device(remote_site):
    """Equipment under a 7x24 contract at the remote site."""
    contract = ContractFactory(
        organisation=remote_site.organisation, number="HT-2026-0725", coverage=Coverage.FULL
    )
    return EquipmentFactory(site=remote_site, contract=contract, serial_number="SN-REMOTE-0001")
