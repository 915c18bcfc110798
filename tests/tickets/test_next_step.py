"""The ticket page's steps: one likely next step, the rest folded; in place with htmx; comments once."""

import re

import pytest

from tickets import services
from tickets.acts import ACTS, NEXT_STEP_ORDER, next_step
from tickets.choices import Event, Kind, Level, Status
from tickets.models import Ticket
from tickets.views.detail import _offered_acts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def primary_of(client, ticket) -> str | None:
    """The step the page shows as its one large button (the act its form posts to)."""
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    match = re.search(r'class="act[^"]*act-primary[^"]*"|act-primary', body)
    if match is None:
        return None
    form = body[: match.end()].rsplit("<form", 1)[1]
    return re.search(r"/act/([a-z_]+)/", form).group(1)


def test_the_order_names_only_acts_of_the_page():
    assert set(NEXT_STEP_ORDER) <= set(ACTS)
    assert len(NEXT_STEP_ORDER) == len(set(NEXT_STEP_ORDER))


def test_an_engineers_next_step_through_a_site_visit(client, engineer, make_ticket, team):
    # given: a fault that needs someone on site, assigned to the engineer
    ticket = make_ticket(team=team, assignee=engineer, on_site_required=True)
    client.force_login(engineer)
    # then, step by step, the large button is the step the engineer takes next
    assert primary_of(client, ticket) == "accept"
    ticket = services.accept(ticket, by=engineer)
    assert primary_of(client, ticket) == "start_travel"
    ticket = services.start_travel(ticket, by=engineer)
    assert primary_of(client, ticket) == "arrive"
    ticket = services.record_arrival(ticket, by=engineer)
    assert primary_of(client, ticket) == "depart"
    ticket = services.record_departure(ticket, by=engineer)
    # Back from the site: the visit is done, so resolving comes first, no second trip.
    assert primary_of(client, ticket) == "resolve"
    ticket = services.pause(ticket, by=engineer, reason="等客户确认业务")
    assert primary_of(client, ticket) == "resume"


def test_without_a_visit_resolving_follows_accepting(client, engineer, ticket):
    client.force_login(engineer)
    ticket = services.accept(ticket, by=engineer)
    assert primary_of(client, ticket) == "resolve"


@pytest.mark.parametrize("persona", ["agent", "alice"])
def test_confirming_is_the_next_step_of_a_resolved_ticket(client, request, engineer, ticket, persona):
    ticket = services.resolve(services.accept(ticket, by=engineer), by=engineer, resolution="更换电源")
    client.force_login(request.getfixturevalue(persona))
    assert primary_of(client, ticket) == "confirm"


def test_the_desk_answers_a_consultation_and_assigns_a_fault(client, agent, make_ticket):
    client.force_login(agent)
    assert primary_of(client, make_ticket(kind=Kind.CONSULTATION, level=None)) == "answer"
    assert primary_of(client, make_ticket()) == "assign"


def test_no_next_step_when_nothing_is_likely(client, engineer, make_ticket, team):
    # A resolved Level III fault (no report owed) waits for the customer: the engineer has only
    # side steps, shown plainly.
    ticket = make_ticket(level=Level.III, team=team, assignee=engineer)
    ticket = services.resolve(services.accept(ticket, by=engineer), by=engineer, resolution="更换电源")
    client.force_login(engineer)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert primary_of(client, ticket) is None
    assert "more-steps" not in body
    assert f"/tickets/{ticket.number}/act/set_billing/" in body


def test_the_other_steps_fold_under_more_steps(client, engineer, ticket, english):
    client.force_login(engineer)
    ticket = services.accept(ticket, by=engineer)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    folded = body.split('<details class="more-steps"')[1].split("</details>\n          </details>")[0]
    assert "More steps" in folded
    assert "/act/pause/" in folded and "/act/resolve/" not in folded


def test_the_primary_step_with_fields_shows_its_form_open(client, engineer, ticket, english):
    client.force_login(engineer)
    ticket = services.accept(ticket, by=engineer)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    primary = body.split('class="act act-primary"')[1].split("</form>")[0]
    assert 'name="resolution"' in primary
    assert "<details" not in body.split('class="act act-primary"')[0].split('id="acts-heading"')[1]


def test_next_step_skips_travel_once_the_site_was_reached(engineer, make_ticket, team):
    ticket = services.accept(make_ticket(team=team, assignee=engineer, on_site_required=True), by=engineer)
    assert next_step(_offered_acts(engineer, ticket), ticket).name == "start_travel"
    ticket.arrived_at = ticket.created_at
    assert next_step(_offered_acts(engineer, ticket), ticket).name == "resolve"


# htmx: the ticket's content swapped in place; without JS the redirect flow


def test_a_step_without_htmx_redirects_to_the_page(client, engineer, ticket):
    client.force_login(engineer)
    response = client.post(f"/tickets/{ticket.number}/act/accept/", {"version": ticket.version})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"


def test_a_step_with_htmx_gets_the_ticket_content_and_its_message(client, engineer, ticket, english):
    client.force_login(engineer)
    response = client.post(f"/tickets/{ticket.number}/act/accept/", {"version": ticket.version}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="ticket"')
    assert "<html" not in body
    assert "data-flash" in body and 'tabindex="-1"' in body
    assert ACTS["accept"].done_message(Ticket.objects.get(pk=ticket.pk)) in body
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    # The message was shown in place: the next page load does not repeat it.
    assert "data-flash" not in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_a_refused_step_with_htmx_gets_the_content_with_the_reason(client, engineer, ticket, english):
    client.force_login(engineer)
    response = client.post(
        f"/tickets/{ticket.number}/act/resolve/", {"version": ticket.version, "resolution": "好了"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith('<div id="ticket"')
    assert 'role="alert" tabindex="-1" data-flash' in body
    assert "Allowed now:" in body


def test_a_stale_step_with_htmx_is_409_and_keeps_the_text(client, engineer, agent, ticket, english):
    client.force_login(engineer)
    seen = ticket.version
    services.set_billing(ticket, by=agent, billing="per_call", reason="合同过期")
    response = client.post(
        f"/tickets/{ticket.number}/act/respond/", {"version": seen, "note": "我的回复：稍后到场"}, **HTMX
    )
    assert response.status_code == 409
    assert "我的回复：稍后到场" in response.content.decode()


def test_a_comment_with_htmx_is_swapped_in(client, alice, ticket, english):
    client.force_login(alice)
    response = client.post(
        f"/tickets/{ticket.number}/comment/", {"version": ticket.version, "body": "请尽快处理"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Comment added." in body and "请尽快处理" in body


def test_a_step_taking_the_ticket_out_of_sight_sends_htmx_home(client, engineer, ticket, team, centre):
    from tests.factories import TeamFactory

    TeamFactory(name="二线", centre=centre, tier=2)
    supervisor = team.supervisor
    client.force_login(supervisor)
    response = client.post(
        f"/tickets/{ticket.number}/act/escalate/", {"version": ticket.version, "reason": "需要二线"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/"


# Each comment shown once


def test_a_comment_is_shown_once_and_its_timeline_row_links_to_it(client, engineer, ticket, english):
    comment = services.add_comment(ticket, by=engineer, body="已远程查看日志，磁盘已满")
    client.force_login(engineer)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert body.count("已远程查看日志，磁盘已满") == 1
    assert f'href="#comment-{comment.pk}"' in body
    assert f'id="comment-{comment.pk}"' in body
    assert Ticket.objects.get(pk=ticket.pk).events.filter(kind=Event.COMMENTED).count() == 1


def test_an_internal_note_stays_hidden_from_the_customer(client, engineer, alice, ticket):
    services.add_comment(ticket, by=engineer, body="内部：怀疑固件缺陷", is_internal=True)
    services.add_comment(ticket, by=alice, body="客户：请上门")
    client.force_login(alice)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "内部：怀疑固件缺陷" not in body
    assert body.count("客户：请上门") == 1


@pytest.fixture
def resolved_level_two(make_ticket, team, engineer):
    ticket = make_ticket(team=team, assignee=engineer)  # a Level II fault
    return services.resolve(services.accept(ticket, by=engineer), by=engineer, resolution="更换风扇后恢复")


def test_the_report_owed_is_the_engineers_next_step_once_the_fault_is_resolved(
    client, engineer, resolved_level_two, english
):
    # given a Level II fault the engineer resolved, without its fault handling report
    client.force_login(engineer)
    # when they open the ticket
    body = client.get(f"/tickets/{resolved_level_two.number}/").content.decode()
    # then writing the report is the one large step, and the other steps fold under "More steps"
    report = f"/tickets/{resolved_level_two.number}/report/"
    assert (
        f'<a role="button" class="act-main report-step" href="{report}">Write the fault handling report</a>'
        in body
    )
    assert '<details class="more-steps"' in body
    assert "act-primary" not in body


def test_once_the_report_is_written_no_step_is_large(client, engineer, resolved_level_two):
    services.write_fault_report(
        resolved_level_two, by=engineer, fault_class="硬件", cause="风扇损坏", method="更换风扇", loss="无"
    )
    client.force_login(engineer)
    body = client.get(f"/tickets/{resolved_level_two.number}/").content.decode()
    assert "report-step" not in body
    assert f'href="/tickets/{resolved_level_two.number}/report/"' in body
