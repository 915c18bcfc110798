"""
The emergency plan of a Level I fault: delivered (and revised) by the engineers on the ticket,
shown to the customer with its files, and meeting the emergency-plan deadline.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.choices import Role
from notifications.models import Notification
from sla import services as clock
from sla.choices import State
from sla.models import Deadline, Escalation
from tests.factories import UserFactory
from tickets import services
from tickets.choices import Event, Level
from tickets.models import Attachment, EmergencyPlan, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN = "切换至备用核心交换机，业务走备用链路；备件今晚到场"
REVISED = "备用链路已稳定；明早 8:00 更换主用交换机电源模块"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of Monday 23 November 2026, in Shanghai."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def text_file(name="应急方案.txt", content="1. 切换备用链路\n2. 观察 30 分钟\n"):
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(at(23, 9), tick=False)
    return time_machine


@pytest.fixture
def level_one(monday, make_ticket, team, engineer):
    """A Level I fault on a 7x24 contract, logged Monday 09:00 and accepted by `engineer`."""
    return services.accept(make_ticket(level=Level.I, team=team, assignee=engineer), by=engineer)


def emergency_deadline(ticket) -> Deadline:
    return Deadline.objects.for_object(ticket).get(kind="ticket.emergency_plan")


def api(user) -> APIClient:
    client = APIClient()
    client.cookies["django_language"] = "en"  # messages in English, as the assertions read them
    client.force_authenticate(user)
    return client


def test_emergency_plan_act_meets_the_deadline_before_it_lapses(monday, level_one, engineer):
    # given: on 7x24 the plan is due 16 hours after the call, Tuesday 01:00
    assert emergency_deadline(level_one).due_at == at(24, 1)
    leader = UserFactory(username="leader", role=Role.MANAGER, is_company_leader=True)
    # when the engineer delivers it on Monday at 20:00
    monday.move_to(at(23, 20), tick=False)
    services.deliver_emergency_plan(level_one, by=engineer, plan=PLAN)
    # then the deadline is met at that moment
    deadline = emergency_deadline(level_one)
    assert (deadline.state, deadline.met_at) == (State.MET, at(23, 20))
    # and when the sweep runs after the plan's due time, nobody hears of a late plan
    monday.move_to(at(24, 2), tick=False)
    clock.sweep()
    assert not Escalation.objects.filter(deadline=deadline).exists()
    assert emergency_deadline(level_one).state == State.MET
    told = Notification.objects.filter(recipient=leader).values_list("subject", flat=True)
    assert not [subject for subject in told if "mergency" in subject]


def test_customer_sees_the_emergency_plan_and_its_files(client, level_one, engineer, alice, bob):
    # given: the engineer delivers the plan with a file, from the ticket page
    client.force_login(engineer)
    response = client.post(
        f"/tickets/{level_one.number}/act/deliver_emergency_plan/",
        {"version": level_one.version, "plan": PLAN, "files": [text_file()]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Attachment.objects.get()
    assert (stored.original_name, stored.is_internal, stored.emergency_plan.plan) == (
        "应急方案.txt",
        False,
        PLAN,
    )
    # when alice opens her ticket on the portal
    client.force_login(alice)
    page = client.get(f"/tickets/{level_one.number}/").content.decode()
    # then she reads the plan and downloads its file
    assert "Emergency plan" in page
    assert PLAN in page
    assert f"/attachments/{stored.pk}/" in page
    download = client.get(f"/attachments/{stored.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == "1. 切换备用链路\n2. 观察 30 分钟\n"
    # and through the API
    plan = api(alice).get(f"/api/tickets/{level_one.number}/").json()["emergency_plan"]
    assert (plan["plan"], plan["delivered_by"]["id"]) == (PLAN, engineer.pk)
    assert [file["name"] for file in plan["attachments"]] == ["应急方案.txt"]
    # another organisation's customer gets neither the ticket nor the file
    client.force_login(bob)
    assert client.get(f"/attachments/{stored.pk}/").status_code == 404
    assert api(bob).get(f"/api/tickets/{level_one.number}/").status_code == 404


def test_customer_is_told_of_the_emergency_plan(level_one, engineer, alice):
    services.deliver_emergency_plan(level_one, by=engineer, plan=PLAN)

    told = [(m.subject, m.body) for m in Notification.objects.inbox(alice) if "Emergency" in m.subject]
    assert told == [(f"Emergency plan for {level_one.number}", PLAN)]


def test_a_revised_plan_is_current_and_the_first_stays_in_the_timeline(monday, level_one, engineer, alice):
    # given a plan delivered at 20:00
    monday.move_to(at(23, 20), tick=False)
    services.deliver_emergency_plan(level_one, by=engineer, plan=PLAN)
    # when it is revised at 23:00
    monday.move_to(at(23, 23), tick=False)
    services.deliver_emergency_plan(Ticket.objects.get(pk=level_one.pk), by=engineer, plan=REVISED)
    # then the revision is the plan shown; both deliveries are in the customer's timeline
    ticket = Ticket.objects.get(pk=level_one.pk)
    assert ticket.emergency_plan.plan == REVISED
    detail = api(alice).get(f"/api/tickets/{ticket.number}/").json()
    assert detail["emergency_plan"]["plan"] == REVISED
    delivered = [event for event in detail["timeline"] if event["event"] == Event.EMERGENCY_PLAN]
    assert [(event["note"], event["created_at"]) for event in delivered] == [
        (PLAN, "2026-11-23T20:00:00+08:00"),
        (REVISED, "2026-11-23T23:00:00+08:00"),
    ]
    # and the deadline counts the first delivery
    assert emergency_deadline(ticket).met_at == at(23, 20)
    told = [m.subject for m in Notification.objects.inbox(alice) if "Emergency" in m.subject]
    assert told == [f"Emergency plan for {ticket.number} revised", f"Emergency plan for {ticket.number}"]


def test_emergency_plan_through_the_api_with_and_without_files(level_one, engineer):
    # as JSON, without files
    response = api(engineer).post(
        f"/api/tickets/{level_one.number}/deliver_emergency_plan/",
        {"version": level_one.version, "plan": PLAN},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["emergency_plan"]["attachments"] == []
    # as multipart, with a file
    response = api(engineer).post(
        f"/api/tickets/{level_one.number}/deliver_emergency_plan/",
        {"version": response.json()["version"], "plan": REVISED, "files": [text_file("拓扑.txt")]},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    plan = response.json()["emergency_plan"]
    assert (plan["plan"], [file["name"] for file in plan["attachments"]]) == (REVISED, ["拓扑.txt"])
    assert EmergencyPlan.objects.filter(ticket=level_one).count() == 2


def test_emergency_plan_is_offered_for_level_one_faults_only(client, make_ticket, team, engineer):
    # given a Level II fault
    ticket = services.accept(make_ticket(level=Level.II, team=team, assignee=engineer), by=engineer)
    client.force_login(engineer)
    # then the page does not offer the act, and trying it is refused with the reason
    assert "deliver_emergency_plan" not in client.get(f"/tickets/{ticket.number}/").content.decode()
    response = client.post(
        f"/tickets/{ticket.number}/act/deliver_emergency_plan/", {"version": ticket.version, "plan": PLAN}
    )
    assert response.status_code == 400
    assert "An emergency plan is delivered for Level I faults only." in response.content.decode()
    assert not EmergencyPlan.objects.exists()
    assert not ticket.events.filter(kind=Event.EMERGENCY_PLAN).exists()


def test_customer_and_hotline_cannot_deliver_the_plan(level_one, alice, agent):
    for person in (alice, agent):
        with pytest.raises(PermissionDenied):
            services.deliver_emergency_plan(level_one, by=person, plan=PLAN)
        response = api(person).post(
            f"/api/tickets/{level_one.number}/deliver_emergency_plan/",
            {"version": level_one.version, "plan": PLAN},
            format="json",
        )
        assert response.status_code == 403
    assert not EmergencyPlan.objects.exists()
    assert emergency_deadline(level_one).state == State.PENDING


def test_an_empty_plan_or_a_disguised_file_is_refused_and_nothing_is_kept(client, level_one, engineer):
    client.force_login(engineer)
    url = f"/tickets/{level_one.number}/act/deliver_emergency_plan/"
    empty = client.post(url, {"version": level_one.version, "plan": "  "})
    disguised = client.post(
        url,
        {
            "version": level_one.version,
            "plan": PLAN,
            "files": [
                SimpleUploadedFile("方案.pdf", b"MZ\x90\x00\x03\x00\x00\x00", content_type="application/pdf")
            ],
        },
    )

    assert (empty.status_code, disguised.status_code) == (400, 400)
    assert PLAN in disguised.content.decode()  # what was typed is kept
    assert not EmergencyPlan.objects.exists()
    assert not Attachment.objects.exists()
    assert emergency_deadline(level_one).state == State.PENDING
    assert Ticket.objects.get(pk=level_one.pk).version == level_one.version
