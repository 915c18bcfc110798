"""
The staff ticket list (`/tickets/`) as an agent uses it: search across the caller's details,
several statuses at once, sortable columns, the total, the time left to each ticket's next
deadline, and filters saved per person. The API's list answers the same filter.
"""

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sla.choices import State
from sla.models import Deadline
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    SiteFactory,
)
from tickets.choices import Kind, Level, Status
from tickets.models import SavedFilter, Ticket

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Monday 23 November 2026, 09:00 in Shanghai; time moves only when told."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def rows(response) -> list[str]:
    """The ticket numbers of the table, top to bottom."""
    assert response.status_code == 200, response.content.decode()[:2000]
    body = response.content.decode()
    return re.findall(r'data-label="[^"]*"><a href="/tickets/([A-Z0-9-]+)/">', body)


def api_numbers(user, query: str) -> list[str]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/tickets/?{query}")
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


@pytest.fixture
def bank(centre):
    """丙银行's switch SN-C-7788 under contract, with its contact 钱志强 (13912345678)."""
    organisation = OrganisationFactory(name="丙银行南京分行")
    site = SiteFactory(organisation=organisation, centre=centre, name="数据中心")
    contract = ContractFactory(organisation=organisation, number="HT-2026-0300")
    contact = ContactFactory(organisation=organisation, name="钱志强", phone="13912345678")
    return EquipmentFactory(site=site, contract=contract, serial_number="SN-C-7788"), contact


# Search


@pytest.fixture
def two_tickets(make_ticket, bank):
    """The bank's ticket, and one of alice's organisation that matches none of the bank's words."""
    equipment, contact = bank
    theirs = make_ticket(equipment=equipment, contact=contact, title="交换机端口故障")
    ours = make_ticket(title="打印机卡纸")
    Ticket.objects.filter(pk=ours.pk).update(caller_name="陌生来电人", caller_phone="02588886666")
    return theirs, ours


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ("c-778", "theirs"),  # the equipment's serial number, any case, in part
        ("丙银行", "theirs"),  # the organisation's name
        ("钱志强", "theirs"),  # the contact's name
        ("13912345678", "theirs"),  # the contact's phone
        ("陌生来电人", "ours"),  # the caller's name, for a customer still to be confirmed
        ("88886666", "ours"),  # the caller's phone
        ("打印机", "ours"),  # the title, as before
    ],
)
def test_search_finds_a_ticket_by_each_detail_of_the_caller(client, agent, two_tickets, words, found):
    theirs, ours = two_tickets
    client.force_login(agent)

    shown = rows(client.get("/tickets/", {"q": words}))

    assert shown == [{"theirs": theirs, "ours": ours}[found].number]


def test_search_matching_several_fields_lists_the_ticket_once(client, agent, bank, make_ticket, english):
    equipment, contact = bank
    # "7788" is in the serial number, the title and the description.
    ticket = make_ticket(
        equipment=equipment, contact=contact, title="7788 宕机", description="SN-C-7788 重启"
    )
    client.force_login(agent)

    response = client.get("/tickets/", {"q": "7788"})

    assert rows(response) == [ticket.number]
    assert "<strong>1 ticket</strong>" in response.content.decode()


# Several statuses, and every open one


@pytest.fixture
def four_states(make_ticket, team, engineer):
    """New, assigned, resolved and cancelled: logged a minute apart, newest last."""
    tickets = {}
    for status in (Status.NEW, Status.ASSIGNED, Status.RESOLVED, Status.CANCELLED):
        ticket = make_ticket(title=f"工单 {status}")
        Ticket.objects.filter(pk=ticket.pk).update(status=status)
        tickets[status] = ticket
    return tickets


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["new", "resolved"], ["resolved", "new"]),
        (["open"], ["assigned", "new"]),
        (["open", "resolved"], ["resolved", "assigned", "new"]),
        ([], ["cancelled", "resolved", "assigned", "new"]),
    ],
)
def test_several_statuses_at_once_and_all_open(client, agent, four_states, statuses, expected):
    client.force_login(agent)

    shown = rows(client.get("/tickets/", {"status": statuses, "ordering": "-number"}))

    assert shown == [four_states[status].number for status in expected]
    # And the API answers the same filter.
    query = urlencode({"status": statuses, "ordering": "-number"}, doseq=True)
    assert api_numbers(agent, query) == shown


def test_the_page_shows_the_chosen_statuses(client, agent, four_states, english):
    client.force_login(agent)

    body = client.get("/tickets/", {"status": ["open", "resolved"]}).content.decode()

    assert '<input type="checkbox" name="status" value="open" checked>' in body
    assert '<input type="checkbox" name="status" value="resolved" checked>' in body
    assert '<input type="checkbox" name="status" value="new">' in body
    assert "· Status: All open, Resolved" in body
    # The folded filters say how many are active.
    assert '<span class="badge">1 active</span>' in body


def test_filters_are_folded_until_opened_even_when_one_is_active(client, agent, four_states):
    # On a phone the results come first: the folded panel's summary counts the active filters.
    client.force_login(agent)

    plain = client.get("/tickets/", {"ordering": "number"}).content.decode()
    filtered = client.get("/tickets/", {"status": "open", "kind": "fault"}).content.decode()

    assert '<details class="filter-panel" data-filter-panel>' in plain
    assert '<details class="filter-panel" data-filter-panel>' in filtered
    assert "2 active" in filtered or "已启用 2 项" in filtered


def test_a_refused_query_opens_the_filters(client, agent, four_states):
    client.force_login(agent)

    body = client.get("/tickets/", {"status": "lost"}).content.decode()

    assert '<details class="filter-panel" data-filter-panel open>' in body


def test_an_unknown_status_is_refused_clearly(client, agent, four_states, english):
    client.force_login(agent)

    response = client.get("/tickets/", {"status": "lost"})

    assert response.status_code == 400
    assert "Select a valid choice. lost is not one of the available choices." in response.content.decode()


# Sorting


@pytest.fixture
def sortable(make_ticket, team, engineer, bank, clock):
    """
    Three tickets logged an hour apart: at 07:00 a Level III of the bank (unassigned), at 08:00
    a Level I of 甲单位 assigned to `engineer`, at 09:00 a consultation of 甲单位 (no level).
    """
    equipment, contact = bank
    clock.move_to(NOW - timedelta(hours=2), tick=False)
    old = make_ticket(equipment=equipment, contact=contact, title="端口告警", level=Level.III)
    clock.move_to(NOW - timedelta(hours=1), tick=False)
    urgent = make_ticket(title="核心系统宕机", level=Level.I, team=team, assignee=engineer)
    clock.move_to(NOW, tick=False)
    question = make_ticket(title="咨询备份策略", kind=Kind.CONSULTATION, level=None)
    return {"old": old, "urgent": urgent, "question": question}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["question", "urgent", "old"]),  # newest first by default
        ("created_at", ["old", "urgent", "question"]),
        ("-created_at", ["question", "urgent", "old"]),
        ("level", ["urgent", "old", "question"]),  # no level last, both ways
        ("-level", ["old", "urgent", "question"]),
        ("organisation", ["old", "urgent", "question"]),  # 丙 (U+4E19) before 甲 (U+7532)
        ("-organisation", ["question", "urgent", "old"]),  # the id breaks the tie, reversed too
        ("assignee", ["urgent", "old", "question"]),  # nobody assigned last, both ways
        ("-assignee", ["urgent", "question", "old"]),
    ],
)
def test_sorting_by_a_column_either_way(client, agent, sortable, ordering, expected):
    client.force_login(agent)

    shown = rows(client.get("/tickets/", {"ordering": ordering} if ordering else {}))

    assert shown == [sortable[name].number for name in expected]


def test_sorting_by_the_next_deadline_either_way(client, agent, sortable):
    # given: under the 7x24 policy the Level I logged at 08:00 owes its response at 08:30 (past,
    # breached), the consultation logged at 09:00 its response at 09:30, and the Level III logged
    # at 07:00 its response at 09:00 (now). The consultation's deadlines are all met: no deadline.
    Deadline.objects.for_object(sortable["question"]).update(state=State.MET, met_at=NOW)
    client.force_login(agent)

    ascending = rows(client.get("/tickets/", {"ordering": "next_due"}))
    descending = rows(client.get("/tickets/", {"ordering": "-next_due"}))

    assert ascending == [sortable["urgent"].number, sortable["old"].number, sortable["question"].number]
    # Reversed, and the ticket without a deadline still last.
    assert descending == [sortable["old"].number, sortable["urgent"].number, sortable["question"].number]


def test_headers_link_to_their_sort_and_mark_the_current_one(client, agent, sortable):
    client.force_login(agent)

    body = client.get("/tickets/", {"ordering": "level", "kind": "fault", "page": "1"}).content.decode()

    # The sorted column says so and links to the reverse order; the page is dropped, filters kept.
    assert (
        '<th scope="col" aria-sort="ascending"><a class="sort" href="?kind=fault&amp;ordering=-level">'
        in body
    )
    # Another column sorts ascending first.
    assert '<th scope="col"><a class="sort" href="?kind=fault&amp;ordering=next_due">' in body
    assert body.count("aria-sort=") == 1


def test_default_order_marks_logged_as_descending(client, agent, sortable):
    client.force_login(agent)

    body = client.get("/tickets/").content.decode()

    assert '<th scope="col" aria-sort="descending"><a class="sort" href="?ordering=created_at">' in body


# The total


def test_the_total_counts_every_matching_ticket_not_only_the_page(client, agent, make_ticket, english):
    for number in range(32):
        make_ticket(title=f"批量工单 {number}")
    make_ticket(title="其他")
    client.force_login(agent)

    response = client.get("/tickets/", {"q": "批量"})

    assert len(rows(response)) == 30  # one page
    assert "<strong>32 tickets</strong>" in response.content.decode()


# The time left to the next deadline


def test_time_left_shows_the_deadline_that_falls_due_first(client, agent, make_ticket, english):
    # given: a ticket whose response is due in 30 minutes and its resolution in 4 hours
    ticket = make_ticket(title="数据库缓慢")
    deadlines = Deadline.objects.for_object(ticket)
    deadlines.exclude(kind__in=["ticket.response", "ticket.resolution"]).delete()
    deadlines.filter(kind="ticket.response").update(due_at=NOW + timedelta(minutes=30))
    deadlines.filter(kind="ticket.resolution").update(due_at=NOW + timedelta(hours=4))
    client.force_login(agent)

    # then: the response, due at 09:30 Shanghai time
    body = client.get("/tickets/").content.decode()
    assert '<span class="deadline-label">First response</span>' in body
    assert 'datetime="2026-11-23T09:30:00+08:00" data-countdown>11-23 09:30</time>' in body

    # when: the response is met, the resolution is next (13:00)
    deadlines.filter(kind="ticket.response").update(state=State.MET, met_at=NOW)
    body = client.get("/tickets/").content.decode()
    assert '<span class="deadline-label">Resolution</span>' in body
    assert 'datetime="2026-11-23T13:00:00+08:00" data-countdown>11-23 13:00</time>' in body

    # when: the resolution's clock is paused (waiting for the customer), nothing is counting down
    deadlines.filter(kind="ticket.resolution").update(paused_at=NOW)
    body = client.get("/tickets/").content.decode()
    assert "data-countdown" not in body
    assert '<td class="time-left" data-label="Time left">—</td>' in body


def test_the_list_runs_the_same_queries_for_one_row_or_thirty(client, agent, make_ticket, team, engineer):
    SavedFilter.objects.create(owner=agent, name="我的未结", query="status=open")
    client.force_login(agent)
    make_ticket(team=team, assignee=engineer)
    query = {"status": "open", "q": "宕机", "ordering": "next_due"}
    with CaptureQueriesContext(connection) as one:
        assert len(rows(client.get("/tickets/", query))) == 1
    for _ in range(29):
        make_ticket(team=team, assignee=engineer)
    with CaptureQueriesContext(connection) as thirty:
        assert len(rows(client.get("/tickets/", query))) == 30
    assert len(thirty) == len(one)


# Saved filters


def test_saving_a_filter_keeps_the_query_without_its_page(client, agent, four_states, english):
    client.force_login(agent)

    response = client.post(
        "/tickets/filters/save/", {"name": "  未结工单 ", "query": "status=open&ordering=-number&page=2"}
    )

    saved = SavedFilter.objects.get(owner=agent)
    assert (saved.name, saved.query) == ("未结工单", "status=open&ordering=-number")
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?status=open&ordering=-number"
    # The list shows it as a link to that query, and opening it shows the open tickets.
    page = client.get(response["Location"]).content.decode()
    assert "Filter “未结工单” saved." in page
    assert '<a href="/tickets/?status=open&amp;ordering=-number" aria-current="true">未结工单</a>' in page
    assert rows(client.get(response["Location"])) == [
        four_states["assigned"].number,
        four_states["new"].number,
    ]


def test_a_second_filter_of_the_same_name_is_refused(client, agent, four_states, english):
    SavedFilter.objects.create(owner=agent, name="未结工单", query="status=open")
    client.force_login(agent)

    response = client.post("/tickets/filters/save/", {"name": "未结工单", "query": "status=new"})

    assert response.status_code == 400
    assert "You already have a filter named “未结工单”: choose another name." in response.content.decode()
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["status=open"]
    # The list is shown as it was being saved: new tickets only.
    assert four_states["new"].number in response.content.decode()
    assert four_states["resolved"].number not in response.content.decode()


def test_another_person_may_use_the_same_name(client, agent, manager, four_states):
    SavedFilter.objects.create(owner=manager, name="未结工单", query="status=open")
    client.force_login(agent)

    response = client.post("/tickets/filters/save/", {"name": "未结工单", "query": "status=new"})

    assert response.status_code == 302
    assert SavedFilter.objects.filter(name="未结工单").count() == 2


UNREADABLE = "This filter cannot be read: change it and save it again."


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "query": "status=open"}, "Give the filter a name."),
        ({"name": "   ", "query": "status=open"}, "Give the filter a name."),
        ({"name": "x" * 61, "query": ""}, "Ensure this value has at most 60 characters (it has 61)."),
        ({"name": "坏的", "query": "organisation__name=甲"}, "Unknown parameter: organisation__name."),
        (
            {"name": "坏的", "query": "status=lost"},
            "This filter cannot be read: change it and save it again.",
        ),
        ({"name": "坏的", "query": "q=%00"}, "This filter cannot be read: change it and save it again."),
        ({"name": "坏\x00的", "query": ""}, "Null characters are not allowed."),
        ({"name": "长的", "query": "q=" + "a" * 2000}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_bad_input_is_refused_clearly_and_saves_nothing(client, agent, ticket, english, form, message):
    client.force_login(agent)

    response = client.post("/tickets/filters/save/", form)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_a_person_sees_only_their_own_saved_filters(client, agent, manager, ticket):
    SavedFilter.objects.create(owner=agent, name="我的过滤", query="status=open")
    SavedFilter.objects.create(owner=manager, name="经理的过滤", query="status=new")
    client.force_login(agent)

    body = client.get("/tickets/").content.decode()

    assert "我的过滤" in body
    assert "经理的过滤" not in body


def test_deleting_a_saved_filter(client, agent, ticket, english):
    saved = SavedFilter.objects.create(owner=agent, name="我的过滤", query="status=open")
    client.force_login(agent)

    response = client.post(f"/tickets/filters/{saved.pk}/delete/", {"query": "kind=fault&page=3"})

    assert not SavedFilter.objects.exists()
    assert response["Location"] == "/tickets/?kind=fault"
    assert "Filter “我的过滤” deleted." in client.get(response["Location"]).content.decode()


def test_another_persons_saved_filter_cannot_be_deleted(client, agent, manager, ticket):
    theirs = SavedFilter.objects.create(owner=manager, name="经理的过滤", query="status=new")
    client.force_login(agent)

    assert client.post(f"/tickets/filters/{theirs.pk}/delete/").status_code == 404
    assert client.post("/tickets/filters/999999/delete/").status_code == 404
    assert client.get(f"/tickets/filters/{theirs.pk}/delete/").status_code == 405
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()


def test_a_bad_return_query_after_deleting_goes_back_to_the_plain_list(client, agent, ticket):
    saved = SavedFilter.objects.create(owner=agent, name="我的过滤", query="status=open")
    client.force_login(agent)

    response = client.post(f"/tickets/filters/{saved.pk}/delete/", {"query": "password=x"})

    assert response["Location"] == "/tickets/"


def test_customers_have_no_saved_filters(client, alice, ticket):
    client.force_login(alice)

    assert client.post("/tickets/filters/save/", {"name": "我的", "query": ""}).status_code == 403
    assert not SavedFilter.objects.exists()


# The API answers the same filter


@pytest.mark.parametrize("words", ["c-778", "丙银行", "钱志强", "13912345678", "打印机"])
def test_api_search_matches_the_page(client, agent, two_tickets, words):
    client.force_login(agent)

    assert api_numbers(agent, urlencode({"q": words})) == rows(client.get("/tickets/", {"q": words}))


def test_api_search_never_reaches_another_organisations_tickets(alice, two_tickets):
    theirs, ours = two_tickets

    assert api_numbers(alice, urlencode({"q": "丙银行"})) == []
    assert api_numbers(alice, urlencode({"q": "打印机"})) == [ours.number]


def test_api_refuses_sorting_by_the_next_deadline(agent, ticket):
    client = APIClient()
    client.force_authenticate(agent)

    response = client.get("/api/tickets/", {"ordering": "next_due"})

    assert response.status_code == 400
    assert "ordering=[-]created_at, [-]updated_at, [-]number" in response.json()["detail"]


@pytest.mark.parametrize("ordering", ["created_at,", ",", "-,number"])
def test_an_ordering_with_an_empty_term_is_read_without_it(client, agent, four_states, ordering):
    client.force_login(agent)
    response = client.get("/tickets/", {"ordering": ordering})
    assert response.status_code in (200, 400)
