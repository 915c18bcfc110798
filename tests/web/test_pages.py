from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ContractFactory,
    EquipmentFactory,
    ShiftFactory,
    SiteFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["tickets:intake", "tickets:my_work", "tickets:list", "accounts:dashboard"]


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("agent", "/intake/"),
        ("engineer", "/work/"),
        ("manager", "/dashboard/"),
        ("admin_user", "/dashboard/"),
        ("alice", "/portal/"),
    ],
)
def test_home_sends_each_role_to_its_page(client, request, persona, home):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_anonymous_is_asked_to_sign_in(client):
    response = client.get("/work/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/work/"


def test_sign_in_with_the_form_lands_on_the_role_home(client, agent):
    response = client.post("/login/", {"username": "agent", "password": "pass-word-1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/intake/"


def test_wrong_password_is_refused_with_a_message(client, agent):
    response = client.post("/login/", {"username": "agent", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_customer_is_denied_staff_pages(client, alice, page):
    client.force_login(alice)
    assert client.get(reverse(page)).status_code == 403


def test_customer_is_denied_the_admin(client, alice):
    client.force_login(alice)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(("persona", "status"), [("agent", 403), ("engineer", 403), ("manager", 200)])
def test_dashboard_is_for_managers(client, request, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/dashboard/").status_code == status


@pytest.mark.parametrize("page", ["/portal/", "/portal/new/", "/portal/equipment/"])
def test_staff_are_denied_the_portal(client, engineer, page):
    client.force_login(engineer)
    assert client.get(page).status_code == 403


def test_customer_without_an_organisation_sees_nothing(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="orphan", role="customer"))
    assert client.get("/portal/").status_code == 404
    assert client.get("/portal/equipment/").status_code == 404


def test_portal_shows_own_equipment_and_never_another_organisations(client, alice, bob):
    own = EquipmentFactory(
        serial_number="SN-ALICE", site=SiteFactory(organisation=alice.contact.organisation)
    )
    EquipmentFactory(serial_number="SN-BOB", site=SiteFactory(organisation=bob.contact.organisation))
    client.force_login(alice)
    page = client.get("/portal/equipment/").content.decode()
    assert "SN-ALICE" in page
    assert own.contract.number in page
    assert "SN-BOB" not in page
    assert "乙单位" not in page


def test_intake_live_search_returns_the_results_fragment(client, agent):
    EquipmentFactory(serial_number="SN-LIVE-001")
    client.force_login(agent)
    response = client.get(
        "/intake/", {"q": "live-0"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="caller-results"
    )
    body = response.content.decode()
    assert "SN-LIVE-001" in body
    assert "<html" not in body


def test_intake_shows_the_entitlement_answer(client, agent, english):
    device = EquipmentFactory(serial_number="SN-CHECK")
    client.force_login(agent)
    response = client.get("/intake/", {"serial": "SN-CHECK", "contract": ""})
    body = response.content.decode()
    assert f"Covered by contract {device.contract.number}" in body
    assert 'name="title"' in body


def test_intake_with_an_unknown_serial_says_so(client, agent, english):
    client.force_login(agent)
    body = client.get("/intake/", {"serial": "NO-SUCH", "contract": ""}).content.decode()
    assert "No equipment has this serial number." in body
    assert 'name="title"' not in body


def test_engineer_sees_teams_and_next_shifts(client, engineer, centre):
    TeamFactory(name="南京本地服务组", centre=centre).members.add(engineer)
    start = timezone.now() + timedelta(days=2)
    ShiftFactory(user=engineer, centre=centre, starts_at=start, ends_at=start + timedelta(hours=15))
    client.force_login(engineer)
    body = client.get("/work/").content.decode()
    assert "南京本地服务组" in body
    assert start.astimezone(timezone.get_current_timezone()).strftime("%m-%d") in body


def test_manager_dashboard_shows_who_is_on_duty(client, manager, centre, engineer):
    ShiftFactory(user=engineer, centre=centre, starts_at=timezone.now() - timedelta(hours=1))
    client.force_login(manager)
    body = client.get("/dashboard/").content.decode()
    assert centre.name in body
    assert str(engineer) in body


def test_default_language_is_chinese_and_the_switch_changes_it(client):
    assert "登录" in client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert "Sign in" in response.content.decode()


def test_password_change(client, engineer):
    client.force_login(engineer)
    response = client.post(
        "/password/",
        {
            "old_password": "pass-word-1",
            "new_password1": "long-new-pass-42",
            "new_password2": "long-new-pass-42",
        },
    )
    assert response["Location"] == "/password/done/"
    engineer.refresh_from_db()
    assert engineer.check_password("long-new-pass-42")


def test_password_change_with_wrong_old_password_changes_nothing(client, engineer):
    client.force_login(engineer)
    response = client.post(
        "/password/",
        {
            "old_password": "nope",
            "new_password1": "long-new-pass-42",
            "new_password2": "long-new-pass-42",
        },
    )
    assert response.status_code == 200
    engineer.refresh_from_db()
    assert engineer.check_password("pass-word-1")


def test_logout_is_a_post(client, engineer):
    client.force_login(engineer)
    client.post("/logout/")
    assert client.get("/work/").status_code == 302


def test_api_docs_need_a_signed_in_user(client, agent):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(agent)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_health_check(client):
    assert client.get("/healthz").content == b"ok"


def test_contract_form_refuses_end_before_start(db):
    from datetime import date

    from django.core.exceptions import ValidationError

    contract = ContractFactory.build(starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 30))
    with pytest.raises(ValidationError):
        contract.full_clean()
