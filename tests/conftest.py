"""Named personas shared by every test, and the markers for tests that need real servers."""

import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from accounts.choices import Role
from tests.factories import ContactFactory, OrganisationFactory, SupportCentreFactory, UserFactory


@pytest.fixture(autouse=True)
def broker_not_known_down():
    """A broker found unreachable by one test is not assumed down in the next."""
    from notifications import services

    services._broker_unreachable_until = 0.0


@pytest.fixture(autouse=True)
def fresh_cache():
    """Sign-in failure counters and the like never carry over from one test to the next."""
    from accounts import throttle

    for store in (cache, throttle._local):  # the shared cache, and the counters kept while it is down
        store.clear()
    yield
    for store in (cache, throttle._local):
        store.clear()


@pytest.fixture
def centre(db):
    return SupportCentreFactory(name="南京技术支持中心", code="nanjing")


@pytest.fixture
def agent(db, centre):
    return UserFactory(username="agent", role=Role.AGENT, centre=centre)


@pytest.fixture
def engineer(db, centre):
    return UserFactory(username="engineer", role=Role.ENGINEER, centre=centre)


@pytest.fixture
def manager(centre):
    return centre.manager


@pytest.fixture
def admin_user(db, centre):
    return UserFactory(username="admin", role=Role.ADMIN, centre=centre, is_staff=True, is_superuser=True)


@pytest.fixture
def alice(db):
    """A customer user of organisation A."""
    user = UserFactory(username="alice", role=Role.CUSTOMER)
    ContactFactory(organisation=OrganisationFactory(name="甲单位"), user=user)
    return user


@pytest.fixture
def bob(db):
    """A customer user of organisation B."""
    user = UserFactory(username="bob", role=Role.CUSTOMER)
    ContactFactory(organisation=OrganisationFactory(name="乙单位"), user=user)
    return user


def pytest_runtest_setup(item):
    """Tests marked postgres or redis skip on a laptop without them, and fail in CI instead."""
    in_ci = os.environ.get("CI") == "true"
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if in_ci:
            pytest.fail("CI must run the postgres tests: set DATABASE_URL to a PostgreSQL database")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        if in_ci:
            pytest.fail("CI must run the redis tests: set REDIS_URL")
        pytest.skip("needs Redis: set REDIS_URL=redis://...")


@pytest.fixture
def english(client):
    """Run the test in English, pages included, for assertions on exact messages."""
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def broker_connection_attempts(monkeypatch) -> list[str]:
    """Every attempt any code makes to connect to a Celery broker, by its address."""
    from kombu.connection import Connection

    attempts: list[str] = []
    establish = Connection._establish_connection

    def counted(self):
        attempts.append(self.as_uri())
        return establish(self)

    monkeypatch.setattr(Connection, "_establish_connection", counted)
    return attempts
