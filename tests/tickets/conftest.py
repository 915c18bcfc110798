"""Fixtures for ticket tests: a customer world with a team, and tickets built through the services."""

import pytest

from accounts.choices import Role, Tier
from tests.factories import ContractFactory, EquipmentFactory, SiteFactory, TeamFactory, UserFactory
from tickets import services
from tickets.choices import Kind, Level


@pytest.fixture
def team(centre, engineer):
    """The tier-1 team of the centre, supervised by `supervisor`, with `engineer` as a member."""
    supervisor = UserFactory(username="supervisor", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, supervisor)
    return team


@pytest.fixture
def other_engineer(db, centre):
    """An engineer of another team: sees none of `team`'s tickets."""
    person = UserFactory(username="stranger", role=Role.ENGINEER, centre=centre)
    TeamFactory(name="另一服务组", centre=centre).members.add(person)
    return person


@pytest.fixture
def device(alice, centre):
    """Equipment of alice's organisation under an active contract, at a site of `centre`."""
    organisation = alice.contact.organisation
    site = SiteFactory(organisation=organisation, centre=centre, name="本部机房")
    contract = ContractFactory(organisation=organisation, number="HT-2026-0100")
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-A-0001")


@pytest.fixture
def bob_device(bob, centre):
    organisation = bob.contact.organisation
    site = SiteFactory(organisation=organisation, centre=centre, name="乙机房")
    contract = ContractFactory(organisation=organisation, number="HT-2026-0200")
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-B-0001")


@pytest.fixture
def make_ticket(agent, device):
    """Log a call for alice's organisation through the service; keyword arguments override details."""

    def make(*, by=None, team=None, assignee=None, equipment=None, **details):
        equipment = equipment or device
        fields = {
            "organisation": equipment.site.organisation,
            "title": "核心交换机宕机",
            "description": "全部业务中断",
            "kind": Kind.FAULT,
            "level": Level.II,
            "site": equipment.site,
            "equipment": equipment,
            "contract": equipment.contract,
        } | details
        return services.log_call(services.CallDetails(**fields), by=by or agent, team=team, assignee=assignee)

    return make


@pytest.fixture
def ticket(make_ticket, team, engineer):
    """A Level II fault assigned to `engineer` of `team`."""
    return make_ticket(team=team, assignee=engineer)
