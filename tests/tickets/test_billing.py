"""
Billing on the ticket: set at intake from the entitlement (contract, warranty, or charged per call
or per year), shown to staff and customer, corrected by staff with a timeline row.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from customers.choices import Billing, FaultArea, PaidService, Scope
from tests.factories import EquipmentFactory
from tickets.choices import Event, Kind, Level
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def monday(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def out_of_contract(device):
    """Alice's equipment under no contract: hardware warranty ended, system warranty running."""
    return EquipmentFactory(
        site=device.site,
        contract=None,
        serial_number="SN-A-0099",
        hardware_warranty_ends_on=date(2026, 6, 30),
        system_warranty_ends_on=date(2027, 6, 30),
    )


def api(user) -> APIClient:
    client = APIClient()
    client.cookies["django_language"] = "en"  # messages in English, as the assertions read them
    client.force_authenticate(user)
    return client


def intake(client, equipment, **fields):
    form = {
        "organisation": equipment.site.organisation.pk,
        "contract_number": equipment.contract.number if equipment.contract else "",
        "site": equipment.site.pk,
        "equipment": equipment.pk,
        "channel": "phone",
        "kind": Kind.FAULT,
        "level": Level.III,
        "urgency": "general",
        "title": "硬盘告警",
        "leave_with_team": "on",
        "action": "log",
    } | fields
    response = client.post("/intake/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Ticket.objects.get(number=response["Location"].rsplit("=", 1)[1])


def test_hardware_fault_after_hardware_warranty_is_paid_service_at_intake(client, agent, out_of_contract):
    # given the agent checks the serial: the card shows both warranty dates and what they mean
    client.force_login(agent)
    card = client.get("/intake/", {"serial": out_of_contract.serial_number}).content.decode()
    assert "Hardware warranty" in card
    assert "ended on 2026-06-30" in card
    assert "a hardware fault is paid service" in card
    assert "System warranty" in card
    assert "until 2027-06-30" in card
    # when a hardware fault is logged
    ticket = intake(client, out_of_contract, fault_area=FaultArea.HARDWARE)
    # then it is charged per call
    assert (ticket.fault_area, ticket.billing, ticket.contract) == (
        FaultArea.HARDWARE,
        Billing.PER_CALL,
        None,
    )
    assert ticket.is_paid_service


def test_ticket_records_billing(client, agent, alice, device, out_of_contract):
    client.force_login(agent)
    # when: a call on a service contract, and system and hardware faults under no contract
    covered = intake(client, device, fault_area=FaultArea.HARDWARE, title="合同内")
    warranty = intake(client, out_of_contract, fault_area=FaultArea.SYSTEM, title="系统保修内")
    charged = intake(client, out_of_contract, fault_area=FaultArea.HARDWARE, title="硬件过保")
    # then each records how the work is paid for
    assert [covered.billing, warranty.billing, charged.billing] == [
        Billing.CONTRACT,
        Billing.WARRANTY,
        Billing.PER_CALL,
    ]
    assert not warranty.is_paid_service
    # shown on the ticket page to staff and to the customer, and in the API
    for person in (agent, alice):
        client.force_login(person)
        assert "Charged per call" in client.get(f"/tickets/{charged.number}/").content.decode()
        assert "Covered by the warranty" in client.get(f"/tickets/{warranty.number}/").content.decode()
        detail = api(person).get(f"/api/tickets/{charged.number}/").json()
        assert (detail["billing"], detail["fault_area"], detail["is_paid_service"]) == (
            "per_call",
            "hardware",
            True,
        )


def test_annual_paid_service_of_a_warranty_contract_is_charged_per_year(client, agent, device):
    contract = device.contract
    contract.scope, contract.paid_service = Scope.WARRANTY, PaidService.PER_YEAR
    contract.save()
    device.hardware_warranty_ends_on = date(2026, 6, 30)
    device.save()
    client.force_login(agent)

    ticket = intake(client, device, fault_area=FaultArea.HARDWARE)

    # the contract in force is recorded: its terms (and its promised times) apply to the paid work
    assert (ticket.billing, ticket.contract) == (Billing.PER_YEAR, contract)


def test_portal_request_records_billing(client, alice, out_of_contract):
    client.force_login(alice)
    response = client.post(
        "/portal/new/",
        {
            "site": out_of_contract.site.pk,
            "equipment": out_of_contract.pk,
            "kind": Kind.FAULT,
            "level": 3,
            "fault_area": FaultArea.SYSTEM,
            "urgency": "general",
            "title": "系统启动慢",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.fault_area, ticket.billing) == (FaultArea.SYSTEM, Billing.WARRANTY)


def test_api_call_records_billing(agent, out_of_contract):
    response = api(agent).post(
        "/api/tickets/",
        {
            "organisation": out_of_contract.site.organisation_id,
            "equipment": out_of_contract.pk,
            "kind": "fault",
            "level": 3,
            "fault_area": "hardware",
            "title": "电源故障",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["billing"], response.json()["fault_area"]) == ("per_call", "hardware")


def test_fault_area_is_for_faults_only(agent, device):
    response = api(agent).post(
        "/api/tickets/",
        {
            "organisation": device.site.organisation_id,
            "equipment": device.pk,
            "kind": "consultation",
            "fault_area": "hardware",
            "title": "如何导出报表",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "hardware or the system" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_staff_change_the_billing_with_a_timeline_row(client, agent, alice, ticket):
    # given a call covered by the contract
    assert ticket.billing == Billing.CONTRACT
    client.force_login(agent)
    # when the agent corrects it from the ticket page
    response = client.post(
        f"/tickets/{ticket.number}/act/set_billing/",
        {"version": ticket.version, "billing": Billing.PER_CALL, "reason": "故障由客户误操作造成"},
    )
    # then the ticket is charged per call, and the timeline says so, to the customer too
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.billing == Billing.PER_CALL
    event = ticket.events.get(kind=Event.BILLING_CHANGED)
    assert (event.actor, event.note, event.is_internal) == (agent, "故障由客户误操作造成", False)
    assert event.changes() == [("billing", "Covered by the service contract", "Charged per call")]
    timeline = api(alice).get(f"/api/tickets/{ticket.number}/timeline/").json()
    assert [row["event"] for row in timeline][-1] == "billing_changed"


def test_billing_change_needs_a_reason_and_a_change_and_staff(client, agent, alice, ticket):
    client.force_login(agent)
    url = f"/tickets/{ticket.number}/act/set_billing/"
    same = client.post(url, {"version": ticket.version, "billing": Billing.CONTRACT, "reason": "核对"})
    no_reason = client.post(url, {"version": ticket.version, "billing": Billing.PER_CALL, "reason": ""})
    by_customer = api(alice).post(
        f"/api/tickets/{ticket.number}/set_billing/",
        {"version": ticket.version, "billing": "warranty", "reason": "应在保修内"},
        format="json",
    )

    assert (same.status_code, no_reason.status_code, by_customer.status_code) == (400, 400, 403)
    assert "already “Covered by the service contract”" in same.content.decode()
    ticket.refresh_from_db()
    assert (ticket.billing, ticket.version) == (Billing.CONTRACT, 1)
    assert not ticket.events.filter(kind=Event.BILLING_CHANGED).exists()


def test_billing_change_through_the_api(engineer, ticket):
    response = api(engineer).post(
        f"/api/tickets/{ticket.number}/set_billing/",
        {"version": ticket.version, "billing": "per_year", "reason": "年度有偿服务协议"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["billing"] == "per_year"
