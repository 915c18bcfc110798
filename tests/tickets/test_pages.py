"""The ticket pages as each role uses them: intake, detail and its acts, portal, lists, downloads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import services
from tickets.choices import Kind, Level, Status
from tickets.models import Attachment, Comment, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_file(name="日志.txt", content="ERROR disk full"):
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")


# Detail page and who may see it


@pytest.mark.parametrize("persona", ["agent", "engineer", "manager", "admin_user", "alice"])
def test_detail_page_opens_for_everyone_concerned(client, request, ticket, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(f"/tickets/{ticket.number}/")
    assert response.status_code == 200
    assert ticket.title in response.content.decode()


@pytest.mark.parametrize("persona", ["bob", "other_engineer"])
def test_detail_page_is_404_for_outsiders(client, request, ticket, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"/tickets/{ticket.number}/").status_code == 404


def test_engineer_sees_only_the_next_allowed_acts(client, engineer, ticket, english):
    client.force_login(engineer)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/tickets/{ticket.number}/act/accept/" in body
    assert f"/tickets/{ticket.number}/act/resolve/" not in body
    assert f"/tickets/{ticket.number}/act/cancel/" not in body


def test_accept_from_the_page(client, engineer, ticket):
    client.force_login(engineer)
    response = client.post(f"/tickets/{ticket.number}/act/accept/", {"version": ticket.version})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_illegal_act_is_refused_with_what_is_allowed_and_changes_nothing(client, engineer, ticket, english):
    client.force_login(engineer)
    response = client.post(
        f"/tickets/{ticket.number}/act/resolve/", {"version": ticket.version, "resolution": "done"}
    )
    assert response.status_code == 400
    assert "Allowed now:" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version, ticket.resolution) == (Status.ASSIGNED, 1, "")


def test_stale_form_is_refused_and_keeps_what_was_typed(client, engineer, agent, ticket, english):
    client.force_login(engineer)
    seen = ticket.version
    services.respond(ticket, by=agent, note="已电话回复客户")
    response = client.post(
        f"/tickets/{ticket.number}/act/respond/", {"version": seen, "note": "我的回复：稍后到场"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "changed by someone else" in body
    assert "我的回复：稍后到场" in body
    assert Ticket.objects.get(pk=ticket.pk).events.filter(note="我的回复：稍后到场").count() == 0


def test_customer_cannot_perform_staff_acts(client, alice, ticket):
    client.force_login(alice)
    response = client.post(f"/tickets/{ticket.number}/act/accept/", {"version": ticket.version})
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED


def test_unknown_act_is_refused(client, engineer, ticket):
    client.force_login(engineer)
    assert client.post(f"/tickets/{ticket.number}/act/delete/", {"version": 1}).status_code == 403


def test_script_in_a_title_is_shown_escaped(client, agent, make_ticket):
    ticket = make_ticket(title="<script>alert('x')</script>")
    client.force_login(agent)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "<script>alert(" not in body
    assert "&lt;script&gt;alert(" in body


# Comments and attachments


def test_customer_comment_with_a_file_and_its_download(client, alice, bob, ticket):
    client.force_login(alice)
    response = client.post(
        f"/tickets/{ticket.number}/comment/",
        {"body": "仍然无法登录", "version": ticket.version, "files": [text_file()]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    download = client.get(f"/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"ERROR disk full"
    client.force_login(bob)
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404


def test_disguised_upload_is_refused_and_nothing_is_saved(client, alice, ticket, english):
    client.force_login(alice)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", content_type="image/png")
    response = client.post(
        f"/tickets/{ticket.number}/comment/", {"body": "照片", "version": ticket.version, "files": [fake]}
    )
    assert response.status_code == 400
    assert "not an allowed file" in response.content.decode()
    assert "照片" in response.content.decode()
    assert not Comment.objects.exists()
    assert not Attachment.objects.exists()


def test_internal_note_and_its_file_are_hidden_from_the_customer(client, engineer, alice, ticket):
    services.add_comment(
        ticket, by=engineer, body="内部：怀疑固件缺陷", is_internal=True, files=[text_file()]
    )
    attachment = Attachment.objects.get()
    client.force_login(alice)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "怀疑固件缺陷" not in body
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404
    client.force_login(engineer)
    assert "怀疑固件缺陷" in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_customer_cannot_write_an_internal_note(client, alice, ticket):
    client.force_login(alice)
    client.post(f"/tickets/{ticket.number}/comment/", {"body": "hi", "is_internal": "on", "version": 1})
    assert Comment.objects.get().is_internal is False


# Intake console


def test_intake_logs_a_fault_call_and_assigns_it(client, agent, device, team, engineer):
    client.force_login(agent)
    page = client.get("/intake/", {"serial": device.serial_number})
    assert page.context["form"].initial["team"] == team
    response = client.post(
        "/intake/",
        {
            "organisation": device.site.organisation.pk,
            "contract_number": device.contract.number,
            "site": device.site.pk,
            "equipment": device.pk,
            "channel": "phone",
            "kind": Kind.FAULT,
            "level": Level.I,
            "urgency": "very_urgent",
            "title": "核心交换机宕机",
            "team": team.pk,
            "assignee": engineer.pk,
            "action": "log",
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/intake/?logged={ticket.number}"
    assert (ticket.status, ticket.assignee, ticket.contract, ticket.level) == (
        Status.ASSIGNED,
        engineer,
        device.contract,
        Level.I,
    )


def test_intake_answers_a_consultation_on_the_spot(client, agent, device):
    client.force_login(agent)
    client.post(
        "/intake/",
        {
            "organisation": device.site.organisation.pk,
            "equipment": device.pk,
            "channel": "phone",
            "kind": Kind.CONSULTATION,
            "urgency": "general",
            "title": "如何导出报表",
            "answer": "在系统菜单中选择导出",
            "action": "answer",
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Status.CLOSED
    assert ticket.resolution == "在系统菜单中选择导出"


def test_intake_refuses_a_fault_without_level_and_keeps_the_text(client, agent, device, english):
    client.force_login(agent)
    response = client.post(
        "/intake/",
        {
            "organisation": device.site.organisation.pk,
            "equipment": device.pk,
            "channel": "phone",
            "kind": Kind.FAULT,
            "urgency": "general",
            "title": "存储告警",
            "action": "log",
        },
    )
    assert response.status_code == 400
    assert "A fault needs a level" in response.content.decode()
    assert 'value="存储告警"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_intake_refuses_equipment_of_another_organisation(client, agent, device, bob_device):
    client.force_login(agent)
    response = client.post(
        "/intake/",
        {
            "organisation": device.site.organisation.pk,
            "equipment": bob_device.pk,
            "channel": "phone",
            "kind": Kind.FAULT,
            "level": 2,
            "urgency": "general",
            "title": "x",
            "action": "log",
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_intake_warns_about_open_tickets_on_the_same_equipment(client, agent, ticket, device, english):
    client.force_login(agent)
    body = client.get("/intake/", {"serial": device.serial_number}).content.decode()
    assert "Open tickets on this equipment" in body
    assert ticket.number in body


def test_intake_for_an_expired_contract_still_allows_paid_service(client, agent, device, english):
    device.contract.status = "expired"
    device.contract.save()
    client.force_login(agent)
    body = client.get("/intake/", {"serial": device.serial_number}).content.decode()
    assert "can still be logged as paid service" in body
    assert 'name="title"' in body


# Portal


def test_customer_files_a_request_with_a_file(client, alice, device):
    client.force_login(alice)
    response = client.post(
        "/portal/new/",
        {
            "site": device.site.pk,
            "equipment": device.pk,
            "kind": Kind.FAULT,
            "level": 3,
            "urgency": "general",
            "title": "打印服务异常",
            "description": "部分打印任务失败",
            "files": [text_file()],
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert (ticket.channel, ticket.organisation, ticket.contract) == (
        "portal",
        device.site.organisation,
        device.contract,
    )
    assert ticket.attachments.count() == 1


def test_customer_cannot_file_for_another_organisations_site(client, alice, bob_device):
    client.force_login(alice)
    response = client.post(
        "/portal/new/",
        {"site": bob_device.site.pk, "kind": Kind.CONSULTATION, "urgency": "general", "title": "x"},
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert bob_device.site.name not in response.content.decode()


def test_portal_lists_and_searches_only_the_own_organisation(
    client, alice, ticket, make_ticket, bob_device, agent
):
    other = services.log_call(
        services.CallDetails(
            organisation=bob_device.site.organisation, title="乙单位故障", kind=Kind.CONSULTATION
        ),
        by=agent,
    )
    client.force_login(alice)
    body = client.get("/portal/", {"q": "宕机"}).content.decode()
    assert ticket.number in body
    assert f"/tickets/{other.number}/" not in body
    searched = client.get("/portal/", {"q": other.number, "state": "all"}).content.decode()
    assert f"/tickets/{other.number}/" not in searched


def test_customer_confirms_a_resolution(client, alice, engineer, ticket):
    ticket = services.accept(ticket, by=engineer)
    ticket = services.resolve(ticket, by=engineer, resolution="重启服务")
    client.force_login(alice)
    client.post(f"/tickets/{ticket.number}/act/confirm/", {"version": ticket.version, "score": "5"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.confirmed_by_customer is True
    assert ticket.rating.score == 5


# Lists


def test_ticket_list_runs_a_constant_number_of_queries(client, agent, make_ticket):
    client.force_login(agent)
    make_ticket()
    with CaptureQueriesContext(connection) as few:
        assert client.get("/tickets/").status_code == 200
    for _ in range(12):
        make_ticket()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/tickets/").status_code == 200
    assert len(many) == len(few)


def test_ticket_list_refuses_unknown_parameters(client, agent, english):
    client.force_login(agent)
    response = client.get("/tickets/", {"organisation__name": "甲"})
    assert response.status_code == 400
    assert "Unknown parameter: organisation__name" in response.content.decode()


def test_ticket_list_filters(client, agent, make_ticket):
    fault = make_ticket(title="硬盘故障")
    question = make_ticket(title="咨询备份策略", kind=Kind.CONSULTATION, level=None)
    client.force_login(agent)
    body = client.get("/tickets/", {"kind": "consultation"}).content.decode()
    assert question.number in body
    assert fault.number not in body


def test_engineer_list_shows_only_visible_tickets(client, other_engineer, ticket):
    client.force_login(other_engineer)
    assert ticket.number not in client.get("/tickets/").content.decode()


# Fault report


def test_fault_report_written_and_printed(client, engineer, ticket, english):
    ticket = services.accept(ticket, by=engineer)
    ticket = services.resolve(ticket, by=engineer, resolution="更换电源模块")
    client.force_login(engineer)
    response = client.post(
        f"/tickets/{ticket.number}/report/",
        {
            "fault_class": "硬件故障",
            "cause": "电源模块老化",
            "method": "更换模块",
            "loss": "业务中断 40 分钟",
        },
    )
    assert response.status_code == 302
    body = client.get(f"/tickets/{ticket.number}/report/").content.decode()
    assert "电源模块老化" in body
    assert "Fault handling report" in body


def test_customer_cannot_open_the_fault_report_page(client, alice, ticket):
    client.force_login(alice)
    assert client.get(f"/tickets/{ticket.number}/report/").status_code == 403


@pytest.mark.parametrize(("persona", "path"), [("alice", "/portal/"), ("engineer", "/work/")])
def test_portal_and_my_work_run_a_constant_number_of_queries(
    client, request, make_ticket, team, engineer, persona, path
):
    client.force_login(request.getfixturevalue(persona))
    make_ticket(team=team, assignee=engineer)
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    for _ in range(8):
        make_ticket(team=team, assignee=engineer)
    with CaptureQueriesContext(connection) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few)
