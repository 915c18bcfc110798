"""The ticket API: who sees what, intake per role, every act, filters, paging and the schema."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.factories import (
    ContractFactory,
    EquipmentFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.api import TicketCursorPagination
from tickets.choices import Kind, Level, ProblemType, Status, WorkMethod
from tickets.models import Attachment, Comment, FaultReport, RiskApproval, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)

# Every path of the schema, each requested by at least one test below: a new endpoint fails
# `test_schema_documents_exactly_the_endpoints_tested` until a test covers it and it is listed.
TESTED_PATHS = {
    "/api/tickets/",
    "/api/tickets/{number}/",
    "/api/tickets/{number}/comments/",
    "/api/tickets/{number}/timeline/",
    "/api/tickets/{number}/work_logs/",
    "/api/tickets/{number}/visits/",
    "/api/tickets/{number}/assign/",
    "/api/tickets/{number}/identify_customer/",  # tests/tickets/test_intake_console.py
    "/api/tickets/{number}/accept/",
    "/api/tickets/{number}/respond/",
    "/api/tickets/{number}/start_travel/",
    "/api/tickets/{number}/arrive/",
    "/api/tickets/{number}/depart/",
    "/api/tickets/{number}/log_work/",
    "/api/tickets/{number}/pause/",
    "/api/tickets/{number}/resume/",
    "/api/tickets/{number}/wait_for_parts/",
    "/api/tickets/{number}/give_workaround/",
    "/api/tickets/{number}/analyse/",
    "/api/tickets/{number}/request_approval/",
    "/api/tickets/{number}/resolve/",
    "/api/tickets/{number}/confirm/",
    "/api/tickets/{number}/reopen/",
    "/api/tickets/{number}/cancel/",
    "/api/tickets/{number}/escalate/",
    "/api/tickets/{number}/answer/",
    "/api/tickets/{number}/fault_report/",
    "/api/tickets/{number}/comment/",
    "/api/tickets/{number}/attach/",
    "/api/tickets/{number}/deliver_emergency_plan/",
    "/api/tickets/{number}/set_billing/",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Monday 23 November 2026, 09:00 in Shanghai; time moves only when told."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary folder, not the project's var/."""
    settings.MEDIA_ROOT = tmp_path


def api(user=None) -> APIClient:
    """A client signed in as `user` (session), reading English messages."""
    client = APIClient()
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def url(ticket: Ticket, action: str = "") -> str:
    return f"/api/tickets/{ticket.number}/" + (f"{action}/" if action else "")


def version(ticket: Ticket) -> int:
    return Ticket.objects.get(pk=ticket.pk).version


def act(user, ticket: Ticket, action: str, *, expected: int = 200, **body):
    """POST one act as `user` with the ticket's current version unless given; check the status."""
    body.setdefault("version", version(ticket))
    response = api(user).post(url(ticket, action), body, format="json")
    assert response.status_code == expected, response.content.decode()
    return response.json()


def state(ticket: Ticket) -> tuple:
    """What a refused act must leave as it was: status, version and the timeline's length."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    return ticket.status, ticket.version, ticket.events.count()


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


def text_file(name="fault.log", content=b"kernel: link down on eth0\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


@pytest.fixture
def bob_ticket(make_ticket, bob_device):
    return make_ticket(equipment=bob_device)


@pytest.fixture
def working(ticket, engineer):
    """The ticket accepted by its engineer: in progress."""
    return services.accept(ticket, by=engineer)


@pytest.fixture
def resolved(working, engineer):
    return services.resolve(working, by=engineer, resolution="更换了故障端口的光模块")


# Who sees which tickets


def test_list_shows_each_role_the_tickets_it_may_see(
    agent, engineer, other_engineer, alice, bob, ticket, bob_ticket
):
    # given: one ticket of alice's organisation (assigned to engineer), one of bob's
    # when / then
    assert set(numbers(api(agent).get("/api/tickets/"))) == {ticket.number, bob_ticket.number}
    assert numbers(api(engineer).get("/api/tickets/")) == [ticket.number]
    assert numbers(api(other_engineer).get("/api/tickets/")) == []
    assert numbers(api(alice).get("/api/tickets/")) == [ticket.number]
    assert numbers(api(bob).get("/api/tickets/")) == [bob_ticket.number]


def test_list_row_has_the_summary_fields(agent, ticket, engineer, team, device):
    row = api(agent).get("/api/tickets/").json()["results"][0]

    assert row == {
        "number": ticket.number,
        "title": "核心交换机宕机",
        "organisation": {"id": device.site.organisation_id, "name": "甲单位"},
        "site": {"id": device.site_id, "name": "本部机房"},
        "kind": "fault",
        "level": 2,
        "urgency": "general",
        "status": "assigned",
        "tier": 1,
        "team": {"id": team.pk, "name": "南京本地服务组"},
        "assignee": {"id": engineer.pk, "name": str(engineer)},
        "created_at": "2026-11-23T09:00:00+08:00",
        "updated_at": "2026-11-23T09:00:00+08:00",
        "version": 1,
        "is_paid_service": False,
    }


def test_customer_reads_own_ticket_without_internal_records(alice, engineer, working):
    # given: a public reply, an internal note with a file, and an internal file
    services.add_comment(working, by=engineer, body="我们已到场处理")
    services.add_comment(
        working, by=engineer, body="疑似固件缺陷", is_internal=True, files=[text_file("n.log")]
    )
    services.attach(working, by=engineer, files=[text_file("internal.log")], is_internal=True)
    services.attach(working, by=engineer, files=[text_file("public.log")])

    # when
    detail = api(alice).get(url(working)).json()
    comments = api(alice).get(url(working, "comments")).json()
    timeline = api(alice).get(url(working, "timeline")).json()

    # then
    assert [c["body"] for c in detail["comments"]] == ["我们已到场处理"]
    assert [c["body"] for c in comments] == ["我们已到场处理"]
    assert [a["name"] for a in detail["attachments"]] == ["public.log"]
    assert "疑似固件缺陷" not in json.dumps(timeline, ensure_ascii=False)
    assert [event["event"] for event in timeline] == [
        "logged",
        "accepted",
        "commented",
        "attached",
    ]
    assert "logged_by" not in detail
    assert detail["allowed_acts"] == ["comment"]


def test_staff_reads_internal_records_and_the_acts_it_may_do(agent, engineer, working):
    services.add_comment(working, by=engineer, body="疑似固件缺陷", is_internal=True)
    services.attach(working, by=engineer, files=[text_file("internal.log")], is_internal=True)

    detail = api(engineer).get(url(working)).json()

    assert [(c["body"], c["is_internal"]) for c in detail["comments"]] == [("疑似固件缺陷", True)]
    [attachment] = detail["attachments"]
    stored = Attachment.objects.get()
    assert attachment == {
        "id": stored.pk,
        "name": "internal.log",
        "size": 26,
        "content_type": "text/plain",
        "is_internal": True,
        "created_at": "2026-11-23T09:00:00+08:00",
        "url": f"http://testserver/attachments/{stored.pk}/",
    }
    # No trip under way: starting travel is offered, arriving is not; accepting was the response.
    assert detail["allowed_acts"] == [
        "start_travel",
        "log_work",
        "pause",
        "wait_for_parts",
        "give_workaround",
        "analyse",
        "request_approval",
        "resolve",
        "set_billing",
        "comment",
    ]
    assert detail["contract_number"] == "HT-2026-0100"
    assert detail["equipment"]["serial_number"] == "SN-A-0001"
    assert [c["body"] for c in api(agent).get(url(working, "comments")).json()] == ["疑似固件缺陷"]


@pytest.mark.parametrize("path", ["", "comments", "timeline", "work_logs", "visits"])
def test_foreign_ticket_is_not_found(bob, other_engineer, ticket, path):
    assert api(bob).get(url(ticket, path)).status_code == 404
    assert api(other_engineer).get(url(ticket, path)).status_code == 404


def test_customer_cannot_act_on_a_foreign_ticket(bob, ticket):
    before = state(ticket)

    act(bob, ticket, "comment", body="这是我的吗", expected=404)

    assert state(ticket) == before


def test_anonymous_is_refused_and_token_signs_in(agent, ticket):
    anonymous = APIClient().get("/api/tickets/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    response = client.get(url(ticket))

    assert response.status_code == 200
    assert response.json()["number"] == ticket.number


# Intake


def test_agent_logs_an_assigned_call(agent, engineer, team, device):
    body = {
        "organisation": device.site.organisation_id,
        "site": device.site_id,
        "equipment": device.pk,
        "contract": device.contract_id,
        "channel": "phone",
        "kind": "fault",
        "level": 1,
        "urgency": "very_urgent",
        "title": "存储阵列离线",
        "description": "两块盘同时报错",
        "team": team.pk,
        "assignee": engineer.pk,
    }

    response = api(agent).post("/api/tickets/", body, format="json")

    assert response.status_code == 201, response.content
    created = Ticket.objects.get()
    assert response.json()["number"] == created.number
    assert (created.status, created.level, created.assignee, created.logged_by) == (
        Status.ASSIGNED,
        Level.I,
        engineer,
        agent,
    )


def test_customer_files_a_request_for_own_organisation(alice, device):
    body = {
        "site": device.site_id,
        "equipment": device.pk,
        "kind": "fault",
        "level": 3,
        "title": "打印机卡纸",
    }

    response = api(alice).post("/api/tickets/", body, format="json")

    assert response.status_code == 201, response.content
    created = Ticket.objects.get()
    assert response.json()["status"] == "new"
    assert (created.organisation, created.site, created.channel, created.contract) == (
        device.site.organisation,
        device.site,
        "portal",
        device.contract,
    )


def test_api_customer_cannot_file_change_request(alice, device):
    # given: the portal offers no change request; a change is agreed with the desk
    body = {"site": device.site_id, "kind": "change", "title": "增加异地备份"}
    # when
    response = api(alice).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {"kind": ['"change" is not a valid choice.']}
    assert not Ticket.objects.exists()


def test_api_customer_request_needs_a_site(alice, device):
    # given: alice's organisation has a site; without one the request would belong to no region
    body = {"kind": "consultation", "title": "如何导出报表"}
    # when
    response = api(alice).post("/api/tickets/", body, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "site: Choose the site of the request.",
        "errors": {"site": ["Choose the site of the request."]},
    }
    assert not Ticket.objects.exists()


def test_api_customer_equipment_must_be_at_the_chosen_site(alice, device, centre):
    other_site = SiteFactory(organisation=device.site.organisation, centre=centre, name="分部机房")
    body = {"site": other_site.pk, "equipment": device.pk, "level": 3, "title": "打印机卡纸"}

    response = api(alice).post("/api/tickets/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"equipment": ["This equipment is at another site."]}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "fields, accepted",
    [
        pytest.param(
            lambda d, other: {"site": d.site_id, "equipment": d.pk}, True, id="site and its equipment"
        ),
        pytest.param(lambda d, other: {"site": d.site_id}, True, id="site only"),
        pytest.param(lambda d, other: {"site": d.site_id, "kind": "change"}, False, id="change request"),
        pytest.param(lambda d, other: {"equipment": d.pk}, False, id="equipment without its site"),
        pytest.param(lambda d, other: {}, False, id="no site"),
        pytest.param(lambda d, other: {"site": other.pk, "equipment": d.pk}, False, id="equipment elsewhere"),
    ],
)
def test_portal_and_api_accept_the_same_customer_requests(client, alice, device, centre, fields, accepted):
    # given: the same request filled in on the portal's form and sent to the API
    other = SiteFactory(organisation=device.site.organisation, centre=centre, name="分部机房")
    body = {"kind": "fault", "level": 3, "urgency": "general", "title": "打印机卡纸"} | fields(device, other)
    client.force_login(alice)
    # when
    page = client.post("/portal/new/", body)
    answer = api(alice).post("/api/tickets/", body, format="json")
    # then: both take it, or both refuse it
    assert (page.status_code == 302, answer.status_code == 201) == (accepted, accepted)
    assert Ticket.objects.count() == (2 if accepted else 0)


def test_customer_of_an_organisation_without_sites_files_without_one(client, bob):
    body = {"kind": "consultation", "urgency": "general", "title": "如何导出报表"}
    client.force_login(bob)

    page = client.post("/portal/new/", body)
    answer = api(bob).post("/api/tickets/", body, format="json")

    assert (page.status_code, answer.status_code) == (302, 201)
    assert [ticket.site for ticket in Ticket.objects.all()] == [None, None]


def test_customer_may_not_set_staff_fields(alice, device, team, engineer):
    body = {
        "title": "打印机卡纸",
        "kind": "consultation",
        "organisation": device.site.organisation_id,
        "assignee": engineer.pk,
        "team": team.pk,
        "status": "closed",
        "tier": 3,
    }

    response = api(alice).post("/api/tickets/", body, format="json")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["assignee", "organisation", "status", "team", "tier"]
    assert not Ticket.objects.exists()


def test_customer_may_not_name_another_organisations_equipment(alice, bob_device):
    body = {"equipment": bob_device.pk, "site": bob_device.site_id, "title": "借用", "level": 2}

    response = api(alice).post("/api/tickets/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "site": [f"There is no site {bob_device.site_id} in your organisation."],
        "equipment": [f"There is no equipment {bob_device.pk} in your organisation."],
    }
    assert not Ticket.objects.exists()


def test_agent_may_not_mix_organisations(agent, device, bob_device):
    body = {
        "organisation": device.site.organisation_id,
        "equipment": bob_device.pk,
        "title": "串单",
        "level": 2,
    }

    response = api(agent).post("/api/tickets/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": f"{bob_device} does not belong to 甲单位."}
    assert not Ticket.objects.exists()


def test_intake_refuses_unknown_ids_and_engineers(agent, engineer, device):
    organisation = device.site.organisation_id

    missing = api(agent).post(
        "/api/tickets/", {"organisation": organisation + 100, "title": "x"}, format="json"
    )
    by_engineer = api(engineer).post(
        "/api/tickets/", {"organisation": organisation, "title": "x", "level": 2}, format="json"
    )

    assert missing.status_code == 400
    assert list(missing.json()["errors"]) == ["organisation"]
    assert by_engineer.status_code == 403
    assert by_engineer.json() == {
        "detail": "Only the hotline logs calls; customers file requests on the portal."
    }
    assert not Ticket.objects.exists()


# The acts


def test_a_field_visit_from_acceptance_to_confirmation(engineer, alice, ticket, clock):
    # given: the ticket assigned to engineer, version 1
    assert act(engineer, ticket, "accept")["status"] == "in_progress"

    # when / then: every step moves the status and the version on
    steps = [
        ("start_travel", {}, "in_progress"),
        ("arrive", {}, "on_site"),
        (
            "log_work",
            {"minutes": 45, "method": WorkMethod.ON_SITE, "note": "更换光模块"},
            "on_site",
        ),
        ("depart", {"signed_off_by": "王主任", "note": "业务恢复"}, "in_progress"),
        ("resolve", {"resolution": "更换光模块", "root_cause": "光模块老化"}, "resolved"),
    ]
    for number, (action, body, status) in enumerate(steps, start=3):
        clock.shift(timedelta(minutes=20))
        detail = act(engineer, ticket, action, **body)
        assert (action, detail["status"], detail["version"]) == (action, status, number)
    confirmed = act(alice, ticket, "confirm", note="已恢复", score=5, comment="很快")

    assert (confirmed["status"], confirmed["version"]) == ("closed", 8)
    assert confirmed["confirmed_by_customer"] is True
    assert confirmed["root_cause"] == "光模块老化"
    [visit] = api(alice).get(url(ticket, "visits")).json()
    assert (visit["signed_off_by"], visit["engineer"]["id"]) == ("王主任", engineer.pk)
    assert visit["arrived_at"] == "2026-11-23T09:40:00+08:00"
    [work] = api(engineer).get(url(ticket, "work_logs")).json()
    assert (work["minutes"], work["method"], work["note"]) == (45, "on_site", "更换光模块")


def test_customer_work_logs_api_hides_notes(client, alice, engineer, agent, working):
    # given: the engineer logs work with a note, as the page's "work logged" shows staff only
    services.log_work(working, by=engineer, minutes=30, method=WorkMethod.REMOTE, note="客户管理员误删配置")
    client.force_login(alice)
    # when
    work_logs = api(alice).get(url(working, "work_logs"))
    timeline = api(alice).get(url(working, "timeline")).json()
    detail = api(alice).get(url(working)).json()
    page = client.get(f"/tickets/{working.number}/").content.decode()
    # then: the customer sees no work log, by the API as on the page
    assert (work_logs.status_code, work_logs.json()) == (200, [])
    assert [event["event"] for event in timeline] == ["logged", "accepted"]
    assert [event["event"] for event in detail["timeline"]] == ["logged", "accepted"]
    for answer in (json.dumps(timeline, ensure_ascii=False), json.dumps(detail, ensure_ascii=False), page):
        assert "客户管理员误删配置" not in answer
    # and: staff still read it
    [work] = api(agent).get(url(working, "work_logs")).json()
    assert (work["minutes"], work["method"], work["note"]) == (30, "remote", "客户管理员误删配置")
    staff_timeline = api(engineer).get(url(working, "timeline")).json()
    assert staff_timeline[-1]["note"] == "Remote access · 30 min · 客户管理员误删配置"


def test_customer_visits_api_shows_what_the_timeline_shows(alice, engineer, working):
    services.start_travel(working, by=engineer)
    services.record_arrival(working, by=engineer)
    services.record_departure(working, by=engineer, signed_off_by="王主任", note="业务恢复")

    [visit] = api(alice).get(url(working, "visits")).json()
    departed = [e for e in api(alice).get(url(working, "timeline")).json() if e["event"] == "departed"]

    assert (visit["signed_off_by"], visit["note"]) == ("王主任", "业务恢复")
    assert [event["note"] for event in departed] == ["业务恢复"]


def test_api_assign_refuses_engineer_of_another_centre(agent, working, engineer):
    # given: an engineer of a team of another support centre
    far = UserFactory(username="far", role=Role.ENGINEER)
    TeamFactory(name="成都本地服务组", centre=SupportCentreFactory(name="成都技术支持中心")).members.add(far)
    before = state(working)
    # when: assigned without naming a team
    response = act(agent, working, "assign", expected=400, assignee=far.pk)
    # then
    assert response == {
        "detail": f"{far} is not a member of 南京本地服务组, the ticket's team: choose their team as well."
    }
    assert state(working) == before
    assert Ticket.objects.get(pk=working.pk).assignee == engineer


def test_api_reassign_during_visit_offers_only_acts_that_succeed(agent, engineer, team, working):
    # given: the engineer is on site
    act(engineer, working, "start_travel")
    act(engineer, working, "arrive")
    colleague = team.supervisor
    # when: the desk hands the ticket to a colleague of the team
    act(agent, working, "assign", assignee=colleague.pk)
    # then: each act offered to the colleague on the way to the resolution succeeds
    for step, body in [
        ("accept", {}),
        ("start_travel", {}),
        ("arrive", {}),
        ("depart", {}),
        ("resolve", {"resolution": "好了"}),
    ]:
        offered = api(colleague).get(url(working)).json()["allowed_acts"]
        assert step in offered, (step, offered)
        act(colleague, working, step, **body)
    assert Ticket.objects.get(pk=working.pk).status == Status.RESOLVED


def test_the_acts_of_work_in_progress(engineer, working):
    detail = act(engineer, working, "respond", note="已电话回复客户")
    assert detail["responded_at"] == "2026-11-23T09:00:00+08:00"

    assert act(engineer, working, "pause", reason="等待客户提供日志")["status"] == "waiting_customer"
    assert act(engineer, working, "resume", note="日志已收到")["status"] == "in_progress"
    assert act(engineer, working, "wait_for_parts", note="电源模块")["status"] == "waiting_parts"
    assert act(engineer, working, "resume")["status"] == "in_progress"

    detail = act(engineer, working, "give_workaround", workaround="切换到备用链路")
    assert (detail["workaround"], detail["status"]) == ("切换到备用链路", "in_progress")

    detail = act(engineer, working, "analyse", problem_type=ProblemType.TECHNICAL, note="固件缺陷")
    assert detail["problem_type"] == "technical"

    detail = act(engineer, working, "request_approval", risk="restart_server", plan="重启核心交换机")
    assert RiskApproval.objects.get(ticket=working).plan == "重启核心交换机"
    assert detail["version"] == 10


def test_agent_assigns_a_new_ticket(agent, engineer, team, make_ticket):
    new = make_ticket()

    detail = act(agent, new, "assign", team=team.pk, assignee=engineer.pk, note="本地组处理")

    assert (detail["status"], detail["team"]["id"], detail["assignee"]["id"]) == (
        "assigned",
        team.pk,
        engineer.pk,
    )


def test_agent_cancels_and_answers(agent, make_ticket):
    duplicate = make_ticket()
    question = make_ticket(kind=Kind.CONSULTATION, level=None, title="如何导出报表")

    assert act(agent, duplicate, "cancel", reason="重复报修")["status"] == "cancelled"
    detail = act(agent, question, "answer", answer="在报表菜单选择导出")
    assert (detail["status"], detail["resolution"]) == ("closed", "在报表菜单选择导出")


def test_customer_reopens_and_engineer_writes_the_fault_report(alice, engineer, resolved):
    detail = act(
        engineer,
        resolved,
        "fault_report",
        fault_class="网络故障",
        cause="光模块老化",
        method="更换",
        loss="业务中断2小时",
    )
    assert detail["version"] == 4
    assert FaultReport.objects.get(ticket=resolved).cause == "光模块老化"

    assert act(alice, resolved, "reopen", reason="又断了")["status"] == "reopened"


def test_fault_report_refuses_a_stale_version(engineer, resolved):
    before = state(resolved)

    body = {"fault_class": "网络故障", "cause": "老化", "method": "更换", "loss": "无"}
    response = act(engineer, resolved, "fault_report", expected=409, version=1, **body)

    assert response["current"]["version"] == before[1]
    assert state(resolved) == before
    assert not FaultReport.objects.exists()


def test_comments_with_files_and_internal_notes(alice, engineer, working):
    # when: engineer writes an internal note with two files (multipart), alice a reply (JSON)
    response = api(engineer).post(
        url(working, "comment"),
        {
            "version": version(working),
            "body": "抓包见附件",
            "is_internal": "true",
            "files": [text_file("a.log"), text_file("b.txt")],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    act(alice, working, "comment", body="谢谢")

    # then
    note = Comment.objects.get(body="抓包见附件")
    assert note.is_internal is True
    assert sorted(note.attachments.values_list("original_name", flat=True)) == ["a.log", "b.txt"]
    assert [c["body"] for c in api(alice).get(url(working, "comments")).json()] == ["谢谢"]
    assert [c["body"] for c in response.json()["comments"]] == ["抓包见附件"]


def test_customer_may_not_write_internal_notes(alice, working):
    before = state(working)

    response = act(alice, working, "comment", expected=403, body="内部?", is_internal=True)

    assert response == {"detail": "Customers cannot write internal notes."}
    assert state(working) == before


def test_attach_files(alice, engineer, working):
    response = api(engineer).post(
        url(working, "attach"),
        {"version": version(working), "files": [text_file("photo.txt")], "is_internal": "true"},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    response = api(alice).post(
        url(working, "attach"),
        {"version": version(working), "files": [text_file("mine.txt")]},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    assert [a["name"] for a in response.json()["attachments"]] == ["mine.txt"]
    assert Attachment.objects.count() == 2


def test_refused_upload_changes_nothing(engineer, working):
    before = state(working)

    response = api(engineer).post(
        url(working, "attach"),
        {"version": version(working), "files": [text_file("x.exe", b"MZ\x00\x00")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "is not an allowed file" in response.json()["detail"]
    assert state(working) == before


def test_an_illegal_act_says_what_is_allowed(engineer, ticket):
    before = state(ticket)

    response = act(engineer, ticket, "resolve", expected=400, resolution="已修复")

    assert response["detail"].startswith("A ticket that is “Assigned” cannot take “Resolve”. Allowed now: ")
    assert "Accept" in response["detail"]
    assert state(ticket) == before


def test_a_stale_version_is_refused_with_the_current_ticket(engineer, agent, ticket):
    # given: the agent changed the ticket after the engineer read version 1
    services.respond(ticket, by=agent, note="已回电")
    before = state(ticket)

    # when
    response = act(engineer, ticket, "accept", expected=409, version=1)

    # then
    assert response["detail"].startswith(f"Ticket {ticket.number} was changed by someone else")
    assert (response["current"]["version"], response["current"]["status"]) == (2, "assigned")
    assert response["current"]["timeline"][-1]["event"] == "responded"
    assert state(ticket) == before


def test_an_act_needs_the_version(engineer, ticket):
    before = state(ticket)

    response = api(engineer).post(url(ticket, "accept"), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "version: This field is required.",
        "errors": {"version": ["This field is required."]},
    }
    assert state(ticket) == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {}),
        ("assign", {"note": "自己派"}),
        ("cancel", {"reason": "不要了"}),
        ("escalate", {"reason": "太慢"}),
        ("resolve", {"resolution": "好了"}),
        ("log_work", {"minutes": 5, "method": "phone", "note": "x"}),
        ("answer", {"answer": "x"}),
    ],
)
def test_customer_may_not_do_staff_acts(alice, ticket, action, body):
    before = state(ticket)

    response = act(alice, ticket, action, expected=403, **body)

    assert response["detail"].startswith("Your role may not")
    assert state(ticket) == before


def test_engineer_off_the_ticket_may_not_act(other_engineer, ticket):
    before = state(ticket)

    act(other_engineer, ticket, "accept", expected=404)

    assert state(ticket) == before


def test_act_refuses_unknown_fields(engineer, ticket):
    before = state(ticket)

    response = act(engineer, ticket, "accept", expected=400, status="closed")

    assert response["errors"] == {"status": ["Unknown field, or one you may not set."]}
    assert state(ticket) == before


# Filters, ordering and pages


@pytest.fixture
def three_tickets(make_ticket, team, engineer, device, clock):
    """Logged a day apart: a fault on SN-A-0001, a printer jam on SN-A-0002, a consultation."""
    printer = EquipmentFactory(site=device.site, contract=device.contract, serial_number="SN-A-0002")
    clock.move_to(NOW - timedelta(days=2), tick=False)
    fault = make_ticket(team=team, assignee=engineer)
    clock.move_to(NOW - timedelta(days=1), tick=False)
    jam = make_ticket(equipment=printer, title="打印机卡纸", level=Level.III)
    clock.move_to(NOW, tick=False)
    question = make_ticket(kind=Kind.CONSULTATION, level=None, title="如何导出报表")
    return fault, jam, question


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["question", "jam", "fault"]),
        ("status=assigned", ["fault"]),
        ("status=assigned&status=new", ["question", "jam", "fault"]),
        ("serial_number=sn-a-0002", ["jam"]),
        ("kind=consultation", ["question"]),
        ("level=3", ["jam"]),
        ("created_after=2026-11-22T00:00:00%2B08:00", ["question", "jam"]),
        ("created_before=2026-11-22T12:00:00%2B08:00", ["jam", "fault"]),
        ("created_after=2026-11-22T00:00:00Z&created_before=2026-11-22T12:00:00Z", ["jam"]),
        ("q=打印机", ["jam"]),
        ("q=报表", ["question"]),
        ("ordering=created_at", ["fault", "jam", "question"]),
        ("ordering=-number", ["question", "jam", "fault"]),
    ],
)
def test_filters(agent, three_tickets, query, expected):
    names = dict(zip(["fault", "jam", "question"], three_tickets, strict=True))

    response = api(agent).get(f"/api/tickets/?{query}")

    assert response.status_code == 200, response.content
    assert numbers(response) == [names[name].number for name in expected]


def test_filters_by_ids(agent, three_tickets, team, engineer, device):
    fault, jam, question = three_tickets
    organisation = device.site.organisation_id

    def found(query):
        return set(numbers(api(agent).get(f"/api/tickets/?{query}")))

    assert found(f"team={team.pk}&assignee={engineer.pk}") == {fault.number}
    assert found(f"organisation={organisation}&site={device.site_id}") == {
        fault.number,
        jam.number,
        question.number,
    }
    assert found(f"centre={device.site.centre_id}") == {fault.number, jam.number, question.number}
    assert found(f"organisation={organisation + 100}") == set()


def test_q_finds_a_ticket_by_its_number(alice, three_tickets):
    fault = three_tickets[0]

    response = api(alice).get("/api/tickets/", {"q": fault.number.lower()})

    assert numbers(response) == [fault.number]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("colour=red", "Unknown parameter: colour."),
        ("organisation__name=甲单位", "Unknown parameter: organisation__name."),
        ("page=2&page_size=10", "Unknown parameter: page, page_size."),
        ("kind=fault&kind=change", "Give this parameter only once: kind."),
        ("cursor=a&cursor=b", "Give this parameter only once: cursor."),
    ],
)
def test_unknown_or_repeated_parameters_are_refused(agent, ticket, query, detail):
    response = api(agent).get(f"/api/tickets/?{query}")

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize("ordering", ["level", "-status", "colour", "created_at,number"])
def test_orderings_a_cursor_cannot_page_are_refused(agent, ticket, ordering):
    response = api(agent).get("/api/tickets/", {"ordering": ordering})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The API lists in pages by a unique order: use ordering="
        "[-]created_at, [-]updated_at, [-]number."
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("kind=bug", "kind"),
        ("level=9", "level"),
        ("team=abc", "team"),
        ("created_after=yesterday", "created_after"),
    ],
)
def test_bad_filter_values_are_refused(agent, ticket, query, field):
    response = api(agent).get(f"/api/tickets/?{query}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_one_ticket_takes_no_query_parameters(agent, ticket):
    response = api(agent).get(url(ticket), {"expand": "all"})

    assert response.status_code == 400
    assert response.json() == {"detail": "Unknown parameter: expand."}


@pytest.mark.parametrize(
    ("ordering", "key", "descending"),
    [
        ("", lambda t: (t.created_at, t.pk), True),
        ("number", lambda t: t.number, False),
        ("-updated_at", lambda t: (t.updated_at, t.pk), True),
    ],
)
def test_cursor_pages_walk_every_ticket_once(
    agent, make_ticket, monkeypatch, clock, ordering, key, descending
):
    # given: seven tickets, three of them logged in the same instant, two to a page
    monkeypatch.setattr(TicketCursorPagination, "page_size", 2)
    tickets = []
    for minutes in [0, 0, 0, 5, 10, 15, 20]:
        clock.move_to(NOW + timedelta(minutes=minutes), tick=False)
        tickets.append(make_ticket())
    expected = sorted(tickets, key=key, reverse=descending)
    client = api(agent)

    # when
    seen, link = [], "/api/tickets/" + (f"?ordering={ordering}" if ordering else "")
    while link:
        page = client.get(link).json()
        seen += [row["number"] for row in page["results"]]
        link = page["next"]

    # then
    assert seen == [t.number for t in expected]


@pytest.mark.parametrize("who", ["agent", "engineer", "alice"])
def test_list_queries_do_not_grow_with_the_tickets(request, make_ticket, team, engineer, who):
    user = request.getfixturevalue(who)
    client = api(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/tickets/")
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    for _ in range(5):
        make_ticket(team=team, assignee=engineer)
    few = queries()
    for _ in range(20):
        make_ticket(team=team, assignee=engineer)
    many = queries()

    assert (few[1], many[1]) == (5, 25)
    assert many[0] == few[0]


# The schema


def test_schema_documents_exactly_the_endpoints_tested(agent):
    response = api(agent).get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert set(json.loads(response.content)["paths"]) == TESTED_PATHS


def test_schema_needs_a_signed_in_user():
    assert APIClient().get("/api/schema/").status_code == 401


def test_customer_site_of_own_organisation_is_accepted(alice, device, centre):
    # given: a second site of alice's organisation, with equipment under its own contract
    site = SiteFactory(organisation=device.site.organisation, centre=centre, name="分部机房")
    contract = ContractFactory(organisation=device.site.organisation)
    other = EquipmentFactory(site=site, contract=contract)

    response = api(alice).post(
        "/api/tickets/",
        {"site": site.pk, "equipment": other.pk, "level": 4, "title": "配置咨询"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["site"] == {"id": site.pk, "name": "分部机房"}


def test_manager_escalates_by_hand_and_the_top_tier_refuses(manager, ticket, english):
    first = act(manager, ticket, "escalate", reason="客户投诉处理太慢")
    assert (first["tier"], first["status"]) == (2, "assigned")
    ticket.refresh_from_db()
    second = act(manager, ticket, "escalate", reason="仍未解决")
    assert second["tier"] == 3
    ticket.refresh_from_db()
    refused = api(manager).post(
        url(ticket, "escalate"), {"version": ticket.version, "reason": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "The ticket is already with the top tier, the product and technical experts."
    }


def test_the_due_range_finds_tickets_by_their_open_deadlines(agent, make_ticket, team, engineer):
    from sla.models import Deadline
    from sla.services import meet

    # given: two tickets; the second has already met every deadline
    waiting = make_ticket(team=team, assignee=engineer, title="等待响应")
    answered = make_ticket(team=team, assignee=engineer, title="已处理")
    meet(
        answered,
        list(Deadline.objects.for_object(answered).values_list("kind", flat=True)),
        at=answered.created_at,
    )
    first_due = Deadline.objects.for_object(waiting).open().order_by("due_at").first().due_at

    def due(**window):
        query = "&".join(f"{name}={value.isoformat().replace('+', '%2B')}" for name, value in window.items())
        response = api(agent).get(f"/api/tickets/?{query}")
        assert response.status_code == 200, response.content
        return numbers(response)

    # then: only the ticket with an open deadline in the range is listed
    assert due(due_before=first_due) == [waiting.number]
    assert due(due_before=first_due - timedelta(seconds=1)) == []
    assert due(due_after=first_due, due_before=first_due + timedelta(minutes=1)) == [waiting.number]
    assert due(due_after=first_due + timedelta(days=3650)) == []


def test_the_ticket_list_page_filters_by_due_time(client, agent, make_ticket, team, engineer, english):
    ticket = make_ticket(team=team, assignee=engineer, title="等待响应")
    client.force_login(agent)

    soon = client.get("/tickets/", {"due_before": "2099-01-01T00:00"})
    past = client.get("/tickets/", {"due_before": "2000-01-01T00:00"})
    wrong = client.get("/tickets/", {"due_before": "tomorrow"})

    assert ticket.number in soon.content.decode()
    assert ticket.number not in past.content.decode()
    assert wrong.status_code == 400
    assert "due_before" in wrong.content.decode()
