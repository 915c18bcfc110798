"""
API fuzzing: schemathesis generates requests for every operation of the OpenAPI schema the app serves
at /api/schema/, sends them to the app in process (its WSGI integration, no network), as a customer
and as a hotline agent, each with an API token, and checks that no response is a server error and
that every response conforms to the schema (documented status code, content type, headers, body).

Every operation is fuzzed; none is excluded. To reach past "404: no such ticket", half of the
generated requests name a real ticket (the caller's, or another organisation's, which must be 404),
and half of those that carry a version carry the ticket's current one, so that acts go through and
change the tickets as the run goes on (the others are refused as stale: 409 with the ticket as it is).

The fuzzing found six bugs (two server errors, four answers outside the schema); each is fixed,
and the one request that showed it is kept at the end of the file as a regression test.

Each operation is a subtest of one test per role and check family: schemathesis' own pytest loader
(`schemathesis.pytest.from_fixture`, 4.32.5) fails under pytest 9.2 with "'Function' object has no
attribute '_nodeid'", so the operations are run here with `operation.as_strategy()`.
FUZZ_EXAMPLES sets the examples per operation (8 by default: the whole file runs in under a minute);
the runs are derandomized, so CI sends the same requests every time. A failure shows the request
that caused it as a curl command.
"""

import os
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.choices import Role, Tier
from servicedesk.wsgi import application
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Kind, Level
from tickets.models import Ticket

# Transactional: the app runs through its WSGI handler, whose request_started signal closes the
# connection (CONN_HEALTH_CHECKS), which a test inside one transaction would not survive.
pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SCHEMA_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class World:
    numbers: list[str]  # tickets of organisation A (the customer's), then one of organisation B
    tokens: dict[str, str]


@pytest.fixture
def world(transactional_db) -> World:
    """Organisation A (customer alice) and B, a centre with an agent and a team, tickets of both."""
    centre = SupportCentreFactory(name="南京技术支持中心", code="nanjing")
    agent = UserFactory(username="agent", role=Role.AGENT, centre=centre, email="agent@example.cn")
    engineer = UserFactory(username="engineer", role=Role.ENGINEER, centre=centre, email="eng@example.cn")
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=engineer)
    team.members.add(engineer)
    TeamFactory(name="南京二线专家组", centre=centre, tier=Tier.DEDICATED)
    alice = UserFactory(username="alice", role=Role.CUSTOMER, email="alice@example.cn")
    numbers = []
    for name, customer in (("甲单位", alice), ("乙单位", None)):
        organisation = OrganisationFactory(name=name)
        if customer:
            ContactFactory(organisation=organisation, user=customer)
        site = SiteFactory(organisation=organisation, centre=centre)
        contract = ContractFactory(organisation=organisation)
        device = EquipmentFactory(site=site, contract=contract)
        kinds = (
            [(Kind.FAULT, Level.I), (Kind.FAULT, Level.III), (Kind.CONSULTATION, None)] if customer else []
        )
        for kind, level in kinds or [(Kind.FAULT, Level.II)]:
            details = services.CallDetails(
                organisation=organisation,
                title="核心交换机宕机" if kind == Kind.FAULT else "如何导出日志",
                kind=kind,
                level=level,
                site=site,
                equipment=device,
                contract=contract,
            )
            assigned = {"team": team, "assignee": engineer} if level == Level.I else {}
            numbers.append(services.log_call(details, by=agent, **assigned).number)
    tokens = {user.username: Token.objects.create(user=user).key for user in (alice, agent)}
    return World(numbers=numbers, tokens=tokens)


def auth(world: World, username: str) -> dict:
    return {"Authorization": f"Token {world.tokens[username]}"}


def load(world: World, username: str):
    """The schema as the app serves it to `username`, with hooks that aim at real tickets."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth(world, username))

    @schema.hook("flatmap_case")
    def aim_at_real_tickets(context, case):
        """Half the cases keep their generated ticket number; the others name a real ticket, and
        half of those that carry a version carry its current one, read as the case is drawn."""
        if "number" not in case.path_parameters:
            return st.just(case)

        def aimed(choice: int):
            derived = case.derive()
            number = world.numbers[choice % len(world.numbers)]
            derived.path_parameters["number"] = number
            body = derived.body
            if isinstance(body, dict) and isinstance(body.get("version"), int) and choice % 2:
                version = Ticket.objects.filter(number=number).values_list("version", flat=True).first()
                body["version"] = version
            return derived

        return st.one_of(st.just(case), st.integers(0, 2 * len(world.numbers) - 1).map(aimed))

    @schema.hook("filter_failure")
    def not_a_known_bug(context, failure, case, response):
        # A server error is the no-server-error tests' finding, not a schema one.
        return response.status_code < 500 or failure.code == "ST101"

    return schema


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def fuzz(world: World, username: str, checks: list, subtests) -> int:
    """Fuzz every operation as `username`, one subtest per operation; returns how many there were."""
    schema = load(world, username)
    headers = auth(world, username)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # an operation the schema describes badly fails here
        operations += 1
        with subtests.test(msg=f"{operation.method.upper()} {operation.path}"):

            @FUZZ
            @given(case=operation.as_strategy())
            def run(case):
                case.call_and_validate(headers=headers, checks=checks)

            run()
    return operations


def test_no_server_error_as_a_customer(world, subtests):
    assert fuzz(world, "alice", [not_a_server_error], subtests) >= 20


def test_no_server_error_as_an_agent(world, subtests):
    assert fuzz(world, "agent", [not_a_server_error], subtests) >= 20


def test_responses_conform_to_the_schema_as_a_customer(world, subtests):
    assert fuzz(world, "alice", SCHEMA_CHECKS, subtests) >= 20


def test_responses_conform_to_the_schema_as_an_agent(world, subtests):
    assert fuzz(world, "agent", SCHEMA_CHECKS, subtests) >= 20


# The bugs the fuzzing found, one request each, checked by the same schemathesis checks.


def call(world: World, username: str, method: str, path: str, checks=SCHEMA_CHECKS, **case):
    """Send one request as `username` and validate it against the schema (unfiltered)."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth(world, username))
    operation = schema.find_operation_by_path(method, path)
    request = operation.Case(**case)
    response = request.call(headers=auth(world, username))
    request.validate_response(response, checks=checks)
    return response


def test_a_refused_payload_answers_as_the_schema_says(world):
    response = call(
        world,
        "agent",
        "POST",
        "/api/tickets/{number}/respond/",
        path_parameters={"number": world.numbers[0]},
        body={"version": 1, "note": "已回电", "colour": "red"},
        media_type="application/json",
    )
    assert response.status_code == 400
    assert "colour" in response.json()["errors"]


def test_a_ticket_never_analysed_reads_as_the_schema_says(world):
    call(world, "alice", "GET", "/api/tickets/{number}/", path_parameters={"number": world.numbers[0]})


def test_an_invalid_cursor_answers_as_the_schema_says(world):
    response = call(world, "agent", "GET", "/api/tickets/", query={"cursor": "not-a-cursor"})
    assert response.status_code == 400


def test_an_assignment_without_a_team_is_no_server_error(world):
    response = call(
        world,
        "agent",
        "POST",
        "/api/tickets/{number}/assign/",
        path_parameters={"number": world.numbers[1]},
        body={"version": 1, "note": "转二线"},
        media_type="application/json",
        checks=[not_a_server_error],
    )
    assert response.status_code == 400
    assert Ticket.objects.get(number=world.numbers[1]).version == 1  # nothing changed


def test_a_far_time_zone_offset_is_no_server_error(world):
    # 10:00 at +18:00 is 16:00 UTC the day before: the tickets, logged now, are all after it
    response = call(
        world, "agent", "GET", "/api/tickets/", query={"created_before": "2026-05-01T10:00:00+18:00"},
        checks=[not_a_server_error],
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_number_with_a_dot_answers_as_the_schema_says(world):
    response = call(world, "alice", "GET", "/api/tickets/{number}/", path_parameters={"number": "SD.2026"})
    assert response.status_code == 404
    assert list(response.json()) == ["detail"]
