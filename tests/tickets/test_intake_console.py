"""The intake console without dead ends: new callers, customers to be confirmed, the suggestion, history."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import Role, Tier
from customers.choices import Billing
from customers.models import Contact, Organisation
from customers.selectors import find_caller, organisation_of
from tests.factories import (
    ContactFactory,
    EquipmentFactory,
    ShiftFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Event, Kind, Level, Status
from tickets.models import Ticket


def call(**fields):
    """The intake form's POST for a Level II fault; keyword arguments override or add fields."""
    return {
        "channel": "phone",
        "kind": Kind.FAULT,
        "level": Level.II,
        "urgency": "general",
        "action": "log",
    } | fields


def unconfirmed_ticket(agent, **details):
    fields = {
        "organisation": None,
        "title": "打印机卡纸",
        "level": Level.III,
        "caller_name": "陌生人",
        "caller_phone": "13800001111",
    }
    return services.log_call(services.CallDetails(**(fields | details)), by=agent)


# 1a. A contact added to a found organisation


def test_agent_adds_the_caller_to_a_found_organisation_and_takes_the_call(client, agent, device):
    organisation = device.site.organisation
    client.force_login(agent)

    response = client.post(
        "/intake/contact/",
        {
            "add-contact-organisation": organisation.pk,
            "add-contact-name": "钱新",
            "add-contact-phone": "13911112222",
        },
    )

    contact = Contact.objects.get(name="钱新")
    assert (contact.organisation, contact.phone) == (organisation, "13911112222")
    assert response["Location"] == f"/intake/?contact={contact.pk}"
    page = client.get(response["Location"])
    assert page.context["form"].initial["contact"] == contact
    # and: the only device of the organisation is chosen, as if by its serial
    assert page.context["form"].initial["equipment"] == device


def test_adding_a_contact_keeps_the_serial_being_checked(client, agent, device):
    client.force_login(agent)
    response = client.post(
        "/intake/contact/",
        {
            "add-contact-organisation": device.site.organisation.pk,
            "add-contact-name": "钱新",
            "serial": "SN-A-0001",
        },
    )
    contact = Contact.objects.get(name="钱新")
    assert response["Location"] == f"/intake/?contact={contact.pk}&serial=SN-A-0001"


@pytest.mark.parametrize(
    "organisation, name, message",
    [
        ("999999", "钱新", "There is no such customer: find the caller again."),
        ("abc", "钱新", "There is no such customer: find the caller again."),
        ("placeholder", "钱新", "There is no such customer: find the caller again."),
        ("own", "", "This field is required."),
    ],
)
def test_adding_a_contact_refuses_bad_input_and_adds_nothing(
    client, agent, device, english, organisation, name, message
):
    placeholder = services.placeholder_organisation()
    pk = {"placeholder": placeholder.pk, "own": device.site.organisation.pk}.get(organisation, organisation)
    before = Contact.objects.count()
    client.force_login(agent)

    response = client.post("/intake/contact/", {"add-contact-organisation": pk, "add-contact-name": name})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Contact.objects.count() == before


def test_placeholder_gets_no_contact_through_the_service(agent):
    with pytest.raises(services.TicketError):
        services.add_contact(services.placeholder_organisation(), by=agent, name="某人")
    assert not Contact.objects.exists()


# 1b. A new customer


def test_agent_adds_a_new_customer_and_gets_the_call_form_for_it(client, agent, english):
    client.force_login(agent)

    response = client.post(
        "/intake/customer/",
        {
            "new-customer-organisation_name": "丙公司",
            "new-customer-contact_name": "周立",
            "new-customer-phone": "025-88880000",
        },
    )

    organisation = Organisation.objects.get(name="丙公司")
    contact = organisation.contacts.get()
    assert (contact.name, contact.phone, organisation.is_placeholder) == ("周立", "025-88880000", False)
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.context["form"].initial["organisation"] == organisation.pk
    assert page.context["form"].initial["contact"] == contact
    # and: no contract on file, said plainly, and the call can be logged as paid service
    assert "丙公司 has no service contract on file: the call is logged as paid service." in body


def test_a_new_customer_with_the_name_of_one_on_file_is_refused(client, agent, device, english):
    client.force_login(agent)
    response = client.post(
        "/intake/customer/", {"new-customer-organisation_name": "甲单位", "new-customer-contact_name": "周立"}
    )
    assert response.status_code == 400
    assert "甲单位 is already a customer: find it and add the caller to it." in response.content.decode()
    assert 'value="周立"' in response.content.decode()
    assert Organisation.objects.filter(name="甲单位").count() == 1
    assert not Contact.objects.filter(name="周立").exists()


@pytest.mark.parametrize("path", ["/intake/contact/", "/intake/customer/", "/intake/engineers/"])
def test_engineers_and_customers_may_not_use_the_console_endpoints(client, engineer, alice, team, path):
    for person in (engineer, alice):
        client.force_login(person)
        response = (
            client.post(path, {}) if path != "/intake/engineers/" else client.get(path, {"team": team.pk})
        )
        assert response.status_code == 403
    assert Organisation.objects.count() == 1


# 1c. Customer to be confirmed


def test_an_unknown_caller_is_logged_as_customer_to_be_confirmed(client, agent, team, engineer, english):
    client.force_login(agent)
    form_page = client.get(
        "/intake/", {"unconfirmed": "1", "caller_name": "陌生人", "caller_phone": "13800001111"}
    )
    assert 'value="陌生人"' in form_page.content.decode()
    assert "Customer to be confirmed" in form_page.content.decode()

    response = client.post(
        "/intake/",
        call(
            to_be_confirmed="True",
            caller_name="陌生人",
            caller_phone="13800001111",
            title="打印机卡纸",
            team=team.pk,
            assignee=engineer.pk,
        ),
    )

    ticket = Ticket.objects.get()
    assert response["Location"] == f"/intake/?logged={ticket.number}"
    assert ticket.organisation.is_placeholder
    assert (ticket.caller_name, ticket.caller_phone, ticket.billing) == (
        "陌生人",
        "13800001111",
        Billing.PER_CALL,
    )
    assert (ticket.team, ticket.assignee, ticket.status) == (team, engineer, Status.ASSIGNED)
    detail = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "陌生人" in detail
    assert 'href="tel:13800001111"' in detail
    assert "Identify the customer" in detail


def test_the_placeholder_is_made_once(agent):
    first = unconfirmed_ticket(agent)
    second = unconfirmed_ticket(agent, caller_name="另一人")
    assert first.organisation == second.organisation
    assert Organisation.objects.filter(is_placeholder=True).count() == 1


def test_a_call_to_be_confirmed_needs_the_callers_name_or_phone(client, agent, team, english):
    client.force_login(agent)
    response = client.post(
        "/intake/", call(to_be_confirmed="True", title="打印机卡纸", team=team.pk, leave_with_team="on")
    )
    assert response.status_code == 400
    assert (
        "Write down the caller&#x27;s name or phone, so that the desk can call back."
        in response.content.decode()
    )
    assert 'value="打印机卡纸"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_placeholder_cannot_be_named_as_the_organisation_of_a_call(client, agent, team, engineer):
    placeholder = services.placeholder_organisation()
    client.force_login(agent)
    response = client.post(
        "/intake/", call(organisation=placeholder.pk, title="x", team=team.pk, assignee=engineer.pk)
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    with pytest.raises(services.TicketError):
        services.log_call(services.CallDetails(organisation=placeholder, title="x", level=2), by=agent)


def test_the_placeholder_is_never_a_hit_nor_a_customers_organisation(client, agent):
    placeholder = services.placeholder_organisation()
    user = UserFactory(username="stray", role=Role.CUSTOMER)
    ContactFactory(organisation=placeholder, user=user, name="待确认 someone")
    unconfirmed_ticket(agent)

    assert not find_caller("待确认")
    assert organisation_of(user) is None
    client.force_login(user)
    assert client.get("/portal/").status_code == 404
    api = APIClient()
    api.force_login(user)
    assert api.get("/api/tickets/").json()["results"] == []


# Identifying the customer


def test_the_desk_identifies_the_customer_of_a_call(client, agent, device, english):
    ticket = unconfirmed_ticket(agent)
    organisation = device.site.organisation
    contact = organisation.contacts.get()
    client.force_login(agent)

    response = client.post(
        f"/tickets/{ticket.number}/act/identify_customer/",
        {
            "version": ticket.version,
            "organisation": organisation.pk,
            "contact": contact.pk,
            "serial_number": "sn-a-0001",
        },
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.organisation, ticket.contact, ticket.equipment) == (organisation, contact, device)
    assert (ticket.site, ticket.centre, ticket.contract) == (device.site, device.site.centre, device.contract)
    assert (ticket.billing, ticket.version) == (Billing.CONTRACT, 2)
    assert (ticket.caller_name, ticket.caller_phone) == ("陌生人", "13800001111")
    event = ticket.events.order_by("pk").last()
    assert event.kind == Event.CUSTOMER_IDENTIFIED
    assert event.after["organisation"] == "甲单位"
    detail = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Identify the customer" not in detail


def test_identifying_without_equipment_takes_the_organisations_only_contract_in_force(agent, device):
    ticket = unconfirmed_ticket(agent)
    services.identify_customer(ticket, by=agent, organisation=device.site.organisation)
    ticket.refresh_from_db()
    assert (ticket.contract, ticket.equipment, ticket.site, ticket.billing) == (
        device.contract,
        None,
        None,
        Billing.CONTRACT,
    )


@pytest.mark.parametrize("mistake", ["equipment of another organisation", "contact of another organisation"])
def test_identifying_with_records_of_another_organisation_changes_nothing(
    agent, device, bob_device, english, mistake
):
    ticket = unconfirmed_ticket(agent)
    bob_contact = bob_device.site.organisation.contacts.get()
    fields = {
        "equipment of another organisation": {"serial_number": bob_device.serial_number},
        "contact of another organisation": {"contact": bob_contact},
    }[mistake]

    with pytest.raises(services.TicketError) as refused:
        services.identify_customer(ticket, by=agent, organisation=device.site.organisation, **fields)

    assert (
        refused.value.message
        == {
            "equipment of another organisation": "甲单位 has no equipment with serial number SN-B-0001.",
            "contact of another organisation": f"{bob_contact} does not belong to 甲单位.",
        }[mistake]
    )
    ticket.refresh_from_db()
    assert ticket.organisation.is_placeholder and ticket.version == 1
    assert list(ticket.events.values_list("kind", flat=True)) == [Event.LOGGED]


def test_a_known_customers_ticket_is_not_identified_again(agent, ticket, bob_device, english):
    with pytest.raises(services.TicketError) as refused:
        services.identify_customer(ticket, by=agent, organisation=bob_device.site.organisation)
    assert refused.value.message == "The customer of this ticket is already known."
    ticket.refresh_from_db()
    assert ticket.organisation.name == "甲单位"


def test_identifying_through_the_api(agent, engineer, alice, device, team):
    ticket = unconfirmed_ticket(agent, caller_name="陌生人")
    services.assign(ticket, by=agent, team=team, assignee=engineer)
    body = {"version": 2, "organisation": device.site.organisation.pk, "serial_number": device.serial_number}
    url = f"/api/tickets/{ticket.number}/identify_customer/"

    def as_user(user):
        client = APIClient()
        client.force_login(user)
        return client.post(url, body, format="json")

    # the engineer on the ticket may not; alice cannot even see it (not her organisation's)
    assert as_user(engineer).status_code == 403
    assert as_user(alice).status_code == 404
    ticket.refresh_from_db()
    assert ticket.organisation.is_placeholder
    response = as_user(agent)
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 3
    ticket.refresh_from_db()
    assert ticket.equipment == device
    # placeholder as the target: a choice that does not exist
    other = unconfirmed_ticket(agent)
    client = APIClient()
    client.force_login(agent)
    refused = client.post(
        f"/api/tickets/{other.number}/identify_customer/",
        {"version": 1, "organisation": other.organisation.pk},
        format="json",
    )
    assert refused.status_code == 400


# 1d. A caller found by phone or name; by serial


def test_a_contact_with_several_devices_gets_the_entitlement_and_the_device_list(
    client, agent, device, english
):
    second = EquipmentFactory(site=device.site, contract=device.contract, serial_number="SN-A-0002")
    contact = device.site.organisation.contacts.get()
    client.force_login(agent)

    page = client.get("/intake/", {"contact": contact.pk})

    body = page.content.decode()
    assert "Covered by contract HT-2026-0100" in body
    assert page.context["devices"] == [device, second]
    assert f'href="?serial=SN-A-0002&amp;contact={contact.pk}"' in body
    assert page.context["form"].initial["equipment"] is None
    # one click chooses the device, keeping the contact
    chosen = client.get("/intake/", {"serial": "SN-A-0002", "contact": contact.pk})
    assert (chosen.context["form"].initial["equipment"], chosen.context["form"].initial["contact"]) == (
        second,
        contact,
    )


def test_found_by_serial_the_only_contact_is_the_caller(client, agent, device):
    client.force_login(agent)
    page = client.get("/intake/", {"serial": device.serial_number})
    assert page.context["form"].initial["contact"] == device.site.organisation.contacts.get()
    ContactFactory(organisation=device.site.organisation, name="第二人")
    page = client.get("/intake/", {"serial": device.serial_number})
    assert page.context["form"].initial["contact"] is None


@pytest.mark.parametrize(
    "params, message",
    [
        ({"organisation": "999999"}, "There is no such customer: find the caller again."),
        ({"contact": "999999"}, "There is no such contact: find the caller again."),
        ({"organisation": "x"}, "“organisation” must be a whole number."),
    ],
)
def test_the_console_says_plainly_what_it_cannot_find(client, agent, english, params, message):
    client.force_login(agent)
    response = client.get("/intake/", params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["form"] is None


def test_a_contact_of_another_organisation_than_the_serial_is_refused(
    client, agent, device, bob_device, english
):
    client.force_login(agent)
    bob_contact = bob_device.site.organisation.contacts.get()
    response = client.get("/intake/", {"serial": device.serial_number, "contact": bob_contact.pk})
    assert response.status_code == 400
    assert f"{bob_contact.name} is not a contact of 甲单位." in response.content.decode()


# 2. The suggestion fills the form


@pytest.fixture
def other_centre_team(db):
    return TeamFactory(name="上海本地组", centre=SupportCentreFactory(name="上海中心"), tier=Tier.LOCAL)


def test_the_site_centres_teams_come_first_and_the_engineer_on_duty_is_named(
    client, agent, device, team, engineer, other_centre_team, english
):
    ShiftFactory(user=engineer, centre=device.site.centre, starts_at=timezone.now() - timedelta(hours=1))
    client.force_login(agent)

    page = client.get("/intake/", {"serial": device.serial_number})

    form = page.context["form"]
    assert list(form.fields["team"].queryset)[0] == team
    assert (form.initial["team"], form.initial["assignee"]) == (team, engineer)
    labels = dict(form.fields["assignee"].choices)
    assert labels[engineer.pk] == f"{engineer} · 0 open · on duty"


def test_without_anyone_on_duty_the_engineer_with_fewest_open_tickets_is_suggested(
    client, agent, device, team, engineer, make_ticket, english
):
    supervisor = team.supervisor
    make_ticket(team=team, assignee=engineer)
    client.force_login(agent)

    page = client.get("/intake/", {"serial": device.serial_number})

    form = page.context["form"]
    assert form.initial["assignee"] == supervisor
    labels = dict(form.fields["assignee"].choices)
    assert labels[engineer.pk] == f"{engineer} · 1 open"
    assert labels[supervisor.pk] == f"{supervisor} · 0 open"
    assert f"Suggested: {supervisor}, fewest open tickets" in page.content.decode()


def test_the_engineer_list_follows_the_team(client, agent, team, engineer, other_centre_team, english):
    stranger = UserFactory(username="sh-engineer", display_name="上海工程师", role=Role.ENGINEER)
    other_centre_team.members.add(stranger)
    client.force_login(agent)

    response = client.get(
        "/intake/engineers/", {"team": other_centre_team.pk}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<option") == 2  # the empty choice and the team's only engineer
    assert f'<option value="{stranger.pk}" selected>上海工程师 · 0 open</option>' in body
    assert client.get("/intake/engineers/", {"team": "999999"}).status_code == 404
    assert client.get("/intake/engineers/", {"team": "x"}).status_code == 400


def test_a_call_without_an_engineer_needs_the_agent_to_say_so(client, agent, device, team, english):
    client.force_login(agent)
    fields = call(
        organisation=device.site.organisation.pk, equipment=device.pk, title="存储告警", team=team.pk
    )

    refused = client.post("/intake/", fields)

    assert refused.status_code == 400
    assert (
        "Name the engineer, or tick “Leave it with the team, nobody named yet”." in refused.content.decode()
    )
    assert 'value="存储告警"' in refused.content.decode()
    assert not Ticket.objects.exists()

    client.post("/intake/", fields | {"leave_with_team": "on"})
    ticket = Ticket.objects.get()
    assert (ticket.team, ticket.assignee, ticket.status) == (team, None, Status.ASSIGNED)


def test_fields_of_another_class_are_ignored(client, agent, device, team, engineer, ticket):
    client.force_login(agent)
    client.post(
        "/intake/",
        call(
            organisation=device.site.organisation.pk,
            title="硬盘告警",
            team=team.pk,
            assignee=engineer.pk,
            about_ticket=ticket.number,
            about_engineer=engineer.pk,
            answer="已答复",
        ),
    )
    logged = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (logged.about_ticket, logged.about_engineer, logged.resolution) == (None, None, "")


# 3, 4. One screen, shortcuts and the caller's history


def test_the_console_shows_its_shortcuts_and_the_callers_history(client, agent, make_ticket, team, english):
    tickets = [make_ticket(title=f"故障 {n}") for n in range(8)]
    for closed in tickets[:7]:
        Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    client.force_login(agent)

    page = client.get("/intake/", {"serial": "SN-A-0001"})

    body = page.content.decode()
    assert "logs the call" in body and "focuses the search" in body
    assert page.context["open_tickets"] == [tickets[7]]
    assert page.context["closed_tickets"] == list(reversed(tickets[2:7]))
    assert f'href="/tickets/{tickets[7].number}/"' in body
    assert f'href="/tickets/{tickets[1].number}/"' not in body


def test_the_history_is_not_shown_before_a_caller_is_chosen(client, agent, english):
    client.force_login(agent)
    body = client.get("/intake/").content.decode()
    assert "Open tickets of this customer" not in body
    assert "New customer" in body
    assert "customer to be confirmed" in body


def test_search_results_offer_the_ways_on(client, agent, device, english):
    client.force_login(agent)
    response = client.get(
        "/intake/", {"q": "甲单位"}, headers={"HX-Request": "true", "HX-Target": "caller-results"}
    )
    body = response.content.decode()
    assert f'href="?organisation={device.site.organisation.pk}"' in body
    assert "Caller not listed: add them to a customer found" in body
    nothing = client.get(
        "/intake/", {"q": "13300000000"}, headers={"HX-Request": "true", "HX-Target": "caller-results"}
    )
    text = nothing.content.decode()
    assert "Nothing matches." in text
    # the number typed becomes the new caller's phone
    assert 'value="13300000000"' in text
    assert "New customer" in text


def test_a_portal_user_cannot_be_linked_to_the_placeholder(db, english):
    from django.core.exceptions import ValidationError

    user = UserFactory(username="stray", role=Role.CUSTOMER)
    contact = Contact(organisation=services.placeholder_organisation(), name="某人", user=user)
    with pytest.raises(ValidationError) as refused:
        contact.full_clean()
    assert refused.value.message_dict["user"] == [
        "The customer to be confirmed has no portal users: link the user to a real customer."
    ]


def test_a_flag_spelt_otherwise_is_read_as_the_checkbox_reads_it(client, agent, team, english):
    # "yes" ticks the box for Django's checkbox: the form shows the caller's fields and checks them.
    client.force_login(agent)
    response = client.post(
        "/intake/",
        {"to_be_confirmed": "yes", "title": "打印机不出纸", "kind": "consultation", "team": team.pk},
    )
    assert response.status_code == 400
    assert "Write down the caller&#x27;s name or phone" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_new_customer_cannot_take_the_name_of_the_customer_to_be_confirmed(client, agent, english):
    client.force_login(agent)
    for name in ("待确认客户", "Customer to be confirmed"):
        response = client.post(
            "/intake/customer/",
            {"new-customer-organisation_name": name, "new-customer-contact_name": "张三"},
        )
        assert response.status_code == 400
        assert "Log the call as “customer to be confirmed” instead" in response.content.decode()
    assert not Organisation.objects.filter(is_placeholder=False, name__in=["待确认客户"]).exists()
    assert services.placeholder_organisation().is_placeholder
