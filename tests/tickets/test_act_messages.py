"""After each step the page says what happened as a person would, not "<step>: done."."""

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from accounts.choices import Role, Tier, tier_name
from tests.factories import TeamFactory
from tickets.acts import ACTS
from tickets.models import Ticket
from tickets.views.detail import ACT_SERVICES

pytestmark = pytest.mark.django_db


def step(client, ticket: Ticket, name: str, **fields) -> list[str]:
    """Post one step from the ticket page; the flash messages the ticket page then shows."""
    version = Ticket.objects.get(pk=ticket.pk).version
    url = f"/tickets/{ticket.number}/"
    response = client.post(f"{url}act/{name}/", {"version": version, **fields}, follow=True)
    assert response.redirect_chain == [(url, 302)], response.content.decode()[:2000]
    shown = [str(message) for message in response.context["messages"]]
    assert all(message in response.content.decode() for message in shown)
    return shown


def test_every_step_of_the_page_has_its_own_message():
    # each step's message is its own sentence, none is the old "<label>: done."
    messages = {name: str(ACTS[name].done) for name in ACT_SERVICES}
    assert all(messages.values())
    assert len(set(messages.values())) == len(messages)
    assert not any(message.endswith(": done.") for message in messages.values())


def test_a_field_visit_reads_as_a_person_says_it(client, engineer, agent, ticket, english):
    # given: a Level II fault assigned to the engineer
    client.force_login(engineer)
    # when the engineer works it step by step, then: each step says what happened
    assert step(client, ticket, "accept") == ["You have the ticket."]
    assert step(client, ticket, "start_travel") == ["On your way. Travel safely."]
    assert step(client, ticket, "arrive") == ["Arrived on site."]
    assert step(client, ticket, "log_work", minutes=40, method="on_site", note="更换电源模块") == [
        "Work logged."
    ]
    assert step(client, ticket, "depart", signed_off_by="王主任") == ["Left the site."]
    assert step(client, ticket, "resolve", resolution="电源模块已更换") == [
        "Resolved: the customer is asked to confirm."
    ]
    # and the desk confirms for the customer
    client.force_login(agent)
    assert step(client, ticket, "confirm") == ["Confirmed. Thank you."]


def test_escalating_names_the_tier_the_ticket_went_to(client, manager, centre, ticket, english):
    # given: the centre's tier-2 and tier-3 teams
    TeamFactory(name="南京专职维护组", centre=centre, tier=Tier.DEDICATED)
    TeamFactory(name="产品专家组", centre=centre, tier=Tier.EXPERT)
    client.force_login(manager)
    # when the manager escalates twice, then: each message names the new tier
    assert step(client, ticket, "escalate", reason="现场无法恢复") == ["Escalated to Tier 2."]
    assert step(client, ticket, "escalate", reason="需要原厂专家") == ["Escalated to Tier 3."]
    assert Ticket.objects.get(pk=ticket.pk).tier == 3


def test_a_refused_step_says_no_success(client, engineer, ticket, english):
    client.force_login(engineer)
    response = client.post(
        f"/tickets/{ticket.number}/act/resolve/", {"version": ticket.version, "resolution": "x"}
    )
    assert response.status_code == 400
    assert [str(message) for message in get_messages(response.wsgi_request)] == []


@pytest.mark.parametrize(
    ("language", "names"),
    [("en", ["Tier 1", "Tier 2", "Tier 3"]), ("zh-hans", ["一线", "二线", "三线"])],
)
def test_tier_names_as_staff_say_them(language, names):
    with translation.override(language):
        assert [tier_name(tier) for tier in (1, 2, 3)] == names
        # a value that is no tier is shown as it is rather than failing the page
        assert tier_name("") == ""


def test_customers_see_no_tier_badge_and_staff_do(client, alice, agent, ticket, english):
    client.force_login(alice)
    assert "badge tier-" not in client.get(f"/tickets/{ticket.number}/").content.decode()
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert '<span class="badge tier-1">Tier 1</span>' in page


def test_the_team_list_names_tiers(client, engineer, team, english):
    assert engineer.role == Role.ENGINEER
    client.force_login(engineer)
    page = client.get("/work/").content.decode()
    assert 'title="Tier 1 · local service specialist">Tier 1</span>' in page
