import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.choices import Role
from notifications.models import Robot
from tests.factories import (
    ContactFactory,
    EquipmentFactory,
    ProvinceFactory,
    ShiftFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Kind, Level, Risk
from tickets.models import SavedFilter
from tickets.services import staging

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "customers", "notifications", "tickets"}


@pytest.fixture
def one_of_each(agent, settings, tmp_path):
    """At least one row of every model, made the way the product makes them."""
    equipment = EquipmentFactory()
    centre = equipment.site.centre
    ContactFactory(organisation=equipment.site.organisation)
    ProvinceFactory(centre=centre)
    engineer = UserFactory(username="field", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(centre=centre, supervisor=UserFactory(username="lead", role=Role.ENGINEER))
    team.members.add(engineer)
    ShiftFactory(centre=centre)
    Robot.objects.create(name="值班群", kind="dingtalk", url="https://robot.example.cn/send?access_token=x")
    details = services.CallDetails(
        organisation=equipment.site.organisation,
        title="故障",
        kind=Kind.FAULT,
        level=Level.I,
        equipment=equipment,
        contract=equipment.contract,
    )
    ticket = services.log_call(details, by=agent, team=team, assignee=engineer)
    ticket = services.accept(ticket, by=engineer)
    ticket = services.start_travel(ticket, by=engineer)
    ticket = services.record_arrival(ticket, by=engineer)
    services.deliver_emergency_plan(ticket, by=engineer, plan="启用备用核心交换机")
    services.log_work(ticket, by=engineer, minutes=20, method="on_site", note="检查")
    services.request_approval(ticket, by=engineer, risk=Risk.RESTART_SERVER, plan="重启")
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("现场.txt", "机柜告警灯亮".encode(), content_type="text/plain")
    services.add_comment(ticket, by=engineer, body="已到现场", files=[photo])
    ticket = services.record_departure(ticket, by=engineer)
    ticket = services.resolve(ticket, by=engineer, resolution="更换模块")
    services.write_fault_report(
        ticket, by=engineer, fault_class="硬件", cause="模块损坏", method="更换", loss="无"
    )
    services.confirm(ticket, by=agent, score=5, comment="客户口头评价满意")
    staging.stage(agent, [SimpleUploadedFile("日志.txt", b"ERROR", content_type="text/plain")], kept=[])
    SavedFilter.objects.create(owner=agent, name="我的未结", query="status=open")
    change = services.log_call(
        services.CallDetails(organisation=equipment.site.organisation, title="变更", kind=Kind.CHANGE),
        by=agent,
    )
    services.submit_change(change, by=agent, effort_days=3, impact="minor")


def project_models():
    return [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


def test_every_project_model_is_in_the_admin():
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            assert model in admin.site._registry, f"{model.__name__} has no admin"


@pytest.mark.parametrize("model", project_models(), ids=lambda model: model.__name__)
def test_admin_pages_load(client, admin_user, one_of_each, model):
    client.force_login(admin_user)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    model_admin = admin.site._registry[model]
    obj = model.objects.first()
    assert obj is not None, f"the fixture makes no {model.__name__}"
    assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
    assert client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"{prefix}_changelist"), {"q": "x"}).status_code == 200
    if model_admin.has_add_permission(type("Request", (), {"user": admin_user})()):
        assert client.get(reverse(f"{prefix}_add")).status_code == 200
