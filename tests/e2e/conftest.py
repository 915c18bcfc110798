"""
Browser journeys: Playwright drives Debian's chromium against the live server that pytest-django
starts in a thread of this process, on the test database (PostgreSQL in CI, SQLite locally).

Every test in this folder is marked `e2e` (deselected by `make test`, run by `make e2e`) and runs
in a transactional database, because the server thread must see the data the test creates. To
add a journey: build what it needs with `world`, open pages with `page_as`, and call `shot` and
`assert_accessible` on each screen.
"""

import os
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from accounts.choices import Role, Tier
from customers.choices import Coverage
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    ShiftFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Kind, Level

from . import harness

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark every journey before `-m` selects: e2e, on a database the live server can see."""
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
            # serialized_rollback: the SLA policies of the data migration come back after each flush.
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the journey failed, so that its pages' last screens are kept."""
    report = yield
    if report.when == "call":
        item.journey_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(harness.CHROMIUM):
        pytest.fail(f"no browser at {harness.CHROMIUM}: apt-get install chromium (or set CHROMIUM=...)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls a journey makes
    # between browser steps are ordinary blocking calls and must not be refused as "async unsafe".
    # Set here, not at import, so that the unit tests collected alongside keep Django's check.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads of a journey go to its own folder (the live server shares these settings)."""
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    """The people and records every journey starts from."""

    people: dict = field(default_factory=dict)
    centre: object = None
    teams: dict = field(default_factory=dict)
    devices: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.people[name]
        except KeyError:
            raise AttributeError(name) from None

    def log_call(self, *, customer="alice", by="agent", team=1, assignee="engineer", **details):
        """A call logged by the hotline for the customer's device, assigned to a team and engineer."""
        equipment = self.devices[customer]
        fields = {
            "organisation": equipment.site.organisation,
            "title": "核心交换机宕机 / core switch down",
            "description": "全部业务中断",
            "kind": Kind.FAULT,
            "level": Level.II,
            "site": equipment.site,
            "equipment": equipment,
            "contract": equipment.contract,
        } | details
        return services.log_call(
            services.CallDetails(**fields),
            by=self.people[by],
            team=self.teams[team] if team else None,
            assignee=self.people[assignee] if assignee else None,
        )


def _person(username, display_name, role, **extra):
    return UserFactory(
        username=username, display_name=display_name, role=role, password=harness.PASSWORD, **extra
    )


@pytest.fixture
def world(live_server):
    """
    A support centre with its manager, an agent, a team in each tier (the tier-1 team's supervisor
    and its engineer, who is on duty now), and two customers: alice of organisation A and bob of
    organisation B, each with a site and a device under a 7x24 contract.
    """
    manager = _person("manager", "赵经理", Role.MANAGER)
    centre = SupportCentreFactory(name="南京技术支持中心", code="nanjing", manager=manager)
    manager.centre = centre
    manager.save(update_fields=["centre"])
    world = World(centre=centre)
    world.people["manager"] = manager
    world.people["agent"] = _person("agent", "李娜", Role.AGENT, centre=centre)
    for tier, (team_name, supervisor, member) in {
        Tier.LOCAL: ("南京本地服务组", ("supervisor", "张组长"), ("engineer", "王工")),
        Tier.DEDICATED: ("南京二线维护组", ("supervisor2", "孙组长"), ("engineer2", "陈工")),
        Tier.EXPERT: ("产品专家组", ("supervisor3", "吴组长"), ("engineer3", "周专家")),
    }.items():
        lead = _person(*supervisor, Role.ENGINEER, centre=centre)
        person = _person(*member, Role.ENGINEER, centre=centre)
        team = TeamFactory(name=team_name, centre=centre, tier=tier, supervisor=lead)
        team.members.add(lead, person)
        world.teams[int(tier)] = team
        world.people[supervisor[0]] = lead
        world.people[member[0]] = person
    now = timezone.now()
    ShiftFactory(
        user=world.people["engineer"],
        centre=centre,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=11),
    )
    for username, display_name, organisation, serial in [
        ("alice", "刘爱丽", "甲单位 Org A", "SN-A-0001"),
        ("bob", "孙博", "乙单位 Org B", "SN-B-0001"),
    ]:
        customer = _person(username, display_name, Role.CUSTOMER)
        organisation = OrganisationFactory(name=organisation)
        ContactFactory(organisation=organisation, user=customer, name=display_name)
        site = SiteFactory(organisation=organisation, centre=centre, name=f"{organisation.name} 本部机房")
        contract = ContractFactory(organisation=organisation, coverage=Coverage.FULL)
        world.people[username] = customer
        world.devices[username] = EquipmentFactory(site=site, contract=contract, serial_number=serial)
    return world


@pytest.fixture
def page_as(browser, live_server, world, request):
    """
    `page_as("engineer", viewport="phone", language="en")`: a new browser (own cookies) signed in
    as that person of the world through the real sign-in form, in that language and screen size
    (`sign_in=False`: left on the sign-in page).
    Pages collect script errors and Content Security Policy violations; any fails the test.
    """
    contexts, problems = [], []

    def open_page(who: str, *, viewport: str = "desktop", language: str = "zh-hans", sign_in: bool = True):
        context = browser.new_context(
            base_url=live_server.url, viewport=harness.VIEWPORTS[viewport], locale=language
        )
        context.set_default_timeout(10_000)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        contexts.append(context)

        def watch(page):
            page.journey = {"language": language, "viewport": viewport}
            page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))

            def refused_by_policy(message):
                if "Content Security Policy" in message.text:
                    problems.append(f"{page.url}: {message.text}")

            page.on("console", refused_by_policy)

        # Every tab of this browser (a second tab opened by the journey too) is watched alike.
        context.on("page", watch)
        page = context.new_page()
        page.goto("/login/")
        if not sign_in:
            return page
        page.fill("#id_username", world.people[who].username)
        page.fill("#id_password", harness.PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/login/" not in page.url, f"{who} could not sign in"
        return page

    yield open_page
    failed = getattr(request.node, "journey_failed", False)
    for context in contexts:
        for number, page in enumerate(context.pages if failed else []):
            journey = page.journey
            name = request.node.originalname.removeprefix("test_")
            shot_name = harness.screenshot_name(
                name, journey["language"], journey["viewport"], f"failed-{number}"
            )
            harness.save_screenshot(page, harness.SCREENSHOTS / shot_name)
        context.close()
    assert not problems, "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def shot(request):
    """
    `shot(page, "entitlement")` saves the screen under artifacts/screenshots/, named
    <test>-<language>-<viewport>-<name>.png. With `readme="agent"` and UPDATE_README_SCREENSHOTS=1
    in the environment, the English desktop or phone shot also replaces docs/screenshots/agent.png.
    """
    test = request.node.originalname.removeprefix("test_")

    def take(page, name: str, *, readme: str | None = None):
        journey = page.journey
        path = harness.SCREENSHOTS / harness.screenshot_name(
            test, journey["language"], journey["viewport"], name
        )
        harness.save_screenshot(page, path)
        if readme and journey["language"] == "en" and os.environ.get("UPDATE_README_SCREENSHOTS") == "1":
            harness.README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, harness.README_SCREENSHOTS / f"{readme}.png")
        return path

    return take


@pytest.fixture
def assert_accessible():
    return harness.assert_accessible
