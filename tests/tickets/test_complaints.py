"""A complaint names the ticket (of its own organisation) or the engineer it is about."""

import pytest
from rest_framework.test import APIClient

from tickets import services
from tickets.choices import Kind
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def api(user) -> APIClient:
    client = APIClient()
    client.cookies["django_language"] = "en"  # messages in English, as the assertions read them
    client.force_authenticate(user)
    return client


@pytest.fixture
def bob_ticket(bob_device, make_ticket):
    return make_ticket(equipment=bob_device, title="乙单位服务器宕机")


def complaint_form(device, **fields) -> dict:
    return {
        "organisation": device.site.organisation.pk,
        "site": device.site.pk,
        "channel": "phone",
        "kind": Kind.COMPLAINT,
        "urgency": "urgent",
        "title": "工程师迟到两小时",
        "leave_with_team": "on",
        "action": "log",
    } | fields


def test_complaint_links_to_ticket_and_engineer(client, agent, engineer, alice, device, ticket):
    # when the agent logs a complaint about alice's ticket and its engineer
    client.force_login(agent)
    response = client.post(
        "/intake/", complaint_form(device, about_ticket=ticket.number, about_engineer=engineer.pk)
    )
    # then the complaint names both
    assert response.status_code == 302, response.content.decode()[:3000]
    complaint = Ticket.objects.get(kind=Kind.COMPLAINT)
    assert (complaint.about_ticket, complaint.about_engineer) == (ticket, engineer)
    # its page links to the ticket it is about and names the engineer
    page = client.get(f"/tickets/{complaint.number}/").content.decode()
    assert f'href="/tickets/{ticket.number}/"' in page
    assert str(engineer) in page
    # the ticket complained about lists the complaint to staff
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Complaints about this ticket" in page
    assert f'href="/tickets/{complaint.number}/"' in page
    assert api(agent).get(f"/api/tickets/{ticket.number}/").json()["complaints"] == [complaint.number]
    # and not to the customer
    client.force_login(alice)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Complaints about this ticket" not in page
    assert complaint.number not in page
    assert api(alice).get(f"/api/tickets/{ticket.number}/").json()["complaints"] == []
    # the complaint itself shows the customer what it is about
    detail = api(alice).get(f"/api/tickets/{complaint.number}/").json()
    assert (detail["about_ticket"], detail["about_engineer"]["id"]) == (ticket.number, engineer.pk)


def test_customer_names_an_own_ticket_in_a_complaint(client, alice, device, ticket):
    client.force_login(alice)
    response = client.post(
        "/portal/new/",
        {
            "site": device.site.pk,
            "kind": Kind.COMPLAINT,
            "urgency": "general",
            "title": "处理太慢",
            "about_ticket": ticket.number,
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get(kind=Kind.COMPLAINT).about_ticket == ticket

    response = api(alice).post(
        "/api/tickets/",
        {"site": device.site.pk, "kind": "complaint", "title": "再次投诉", "about_ticket": ticket.number},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["about_ticket"] == ticket.number


def test_complaint_cannot_name_another_organisations_ticket(client, agent, alice, device, bob_ticket):
    before = Ticket.objects.count()
    # on the portal
    client.force_login(alice)
    portal = client.post(
        "/portal/new/",
        {
            "site": device.site.pk,
            "kind": Kind.COMPLAINT,
            "urgency": "general",
            "title": "处理太慢",
            "about_ticket": bob_ticket.number,
        },
    )
    assert portal.status_code == 400
    assert f"There is no ticket {bob_ticket.number} of this organisation." in portal.content.decode()
    assert bob_ticket.title not in portal.content.decode()
    # through the API, the same answer as for a number that does not exist
    foreign = api(alice).post(
        "/api/tickets/",
        {"site": device.site.pk, "kind": "complaint", "title": "投诉", "about_ticket": bob_ticket.number},
        format="json",
    )
    missing = api(alice).post(
        "/api/tickets/",
        {"site": device.site.pk, "kind": "complaint", "title": "投诉", "about_ticket": "SD-1999-999999"},
        format="json",
    )
    assert (foreign.status_code, missing.status_code) == (400, 400)
    assert foreign.json()["errors"]["about_ticket"] == [
        f"There is no ticket {bob_ticket.number} in your organisation."
    ]
    assert missing.json()["errors"]["about_ticket"] == [
        "There is no ticket SD-1999-999999 in your organisation."
    ]
    # the hotline cannot tie a complaint of A to B's ticket either, on the page or through the API
    client.force_login(agent)
    page = client.post("/intake/", complaint_form(device, about_ticket=bob_ticket.number))
    assert page.status_code == 400
    call = api(agent).post(
        "/api/tickets/",
        {
            "organisation": device.site.organisation_id,
            "kind": "complaint",
            "title": "投诉",
            "about_ticket": bob_ticket.number,
        },
        format="json",
    )
    assert call.status_code == 400
    assert "There is no ticket" in call.json()["detail"]
    assert Ticket.objects.count() == before


def test_only_a_complaint_names_what_it_is_about(agent, engineer, device, ticket):
    response = api(agent).post(
        "/api/tickets/",
        {
            "organisation": device.site.organisation_id,
            "kind": "fault",
            "level": 3,
            "title": "打印机卡纸",
            "about_ticket": ticket.number,
            "about_engineer": engineer.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Only a complaint names the ticket or the engineer it is about."
    assert Ticket.objects.count() == 1


def test_complaint_about_someone_who_is_no_engineer_is_refused(agent, alice, device):
    details = services.CallDetails(
        organisation=device.site.organisation, title="投诉", kind=Kind.COMPLAINT, about_engineer=alice
    )
    with pytest.raises(services.TicketError, match="is not an engineer"):
        services.log_call(details, by=agent)
    response = api(agent).post(
        "/api/tickets/",
        {
            "organisation": device.site.organisation_id,
            "kind": "complaint",
            "title": "投诉",
            "about_engineer": alice.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
