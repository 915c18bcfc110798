"""
The customer's portal day to day: site and device that follow each other, a refused form that
keeps its files, the hotline wherever the page says to call, the rating asked when confirming,
and no words of the desk's own (tiers, escalations) shown to customers.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import EquipmentFactory, SiteFactory, SupportCentreFactory
from tickets import services
from tickets.choices import Event, Kind, Status
from tickets.models import ServiceRating, StagedUpload, Ticket
from tickets.services import staging

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def hotline(centre):
    centre.hotline = "400-820-1234"
    centre.save(update_fields=["hotline"])
    return centre.hotline


def text_file(name="report.txt", content="ERROR disk full"):
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")


def request_fields(device, **changes):
    fields = {
        "site": device.site.pk,
        "equipment": device.pk,
        "kind": Kind.FAULT,
        "level": 3,
        "urgency": "general",
        "title": "打印服务异常",
        "description": "部分打印任务失败",
    }
    return {name: value for name, value in (fields | changes).items() if value is not None}


def resolved_ticket(ticket, engineer):
    services.accept(ticket, by=engineer)
    return services.resolve(ticket, by=engineer, resolution="重启服务")


# Site and device follow each other


def test_each_device_option_names_its_site(client, alice, device):
    second = EquipmentFactory(site=SiteFactory(organisation=device.site.organisation), serial_number="SN-A-2")
    client.force_login(alice)
    body = client.get("/portal/new/").content.decode()
    assert f'<option value="{device.pk}" data-site="{device.site_id}">' in body
    assert f'<option value="{second.pk}" data-site="{second.site_id}">' in body


def test_a_device_in_the_address_chooses_it_and_its_site(client, alice, device):
    client.force_login(alice)
    body = client.get("/portal/new/", {"equipment": device.pk}).content.decode()
    assert f'<option value="{device.site_id}" selected>' in body
    assert f'<option value="{device.pk}" selected data-site="{device.site_id}">' in body


def test_another_organisations_site_or_device_in_the_address_is_ignored(client, alice, device, bob_device):
    client.force_login(alice)
    body = client.get(
        "/portal/new/", {"site": bob_device.site_id, "equipment": bob_device.pk}
    ).content.decode()
    assert '<option value="" selected>---------</option>' in body
    assert f'value="{bob_device.site_id}" selected' not in body
    assert bob_device.serial_number not in body
    assert client.get("/portal/new/", {"site": "x", "equipment": "9" * 30}).status_code == 200


def test_a_device_of_another_site_is_refused_and_nothing_is_filed(client, alice, device, english):
    elsewhere = EquipmentFactory(
        site=SiteFactory(organisation=device.site.organisation, centre=device.site.centre)
    )
    client.force_login(alice)
    response = client.post("/portal/new/", request_fields(device, equipment=elsewhere.pk))
    assert response.status_code == 400
    assert "This equipment is at another site." in response.content.decode()
    assert not Ticket.objects.exists()


# What a refused form says


def test_a_refused_form_says_what_to_do_never_djangos_default(client, alice, device, english):
    client.force_login(alice)
    response = client.post("/portal/new/", {"kind": Kind.FAULT, "urgency": "general"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose the site of the request." in body
    assert "Give the request a short title." in body
    assert "A fault needs a level: choose one." in body
    assert "This field is required." not in body
    assert "Select a valid choice" not in body


def test_a_too_long_title_is_refused_in_plain_words(client, alice, device, english):
    client.force_login(alice)
    response = client.post("/portal/new/", request_fields(device, title="长" * 201))
    assert response.status_code == 400
    assert "The title may have at most 200 characters; it has 201." in response.content.decode()


# A refused form keeps the files already chosen


def test_a_refused_form_keeps_the_file_and_the_next_sending_attaches_it(
    client, alice, device, english, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    # when: the site is left out, with a file chosen
    refused = client.post(
        "/portal/new/", request_fields(device, site=None, equipment=None) | {"files": [text_file()]}
    )
    # then: refused, and the file is kept for alice and listed with a hidden input naming it
    kept = StagedUpload.objects.get()
    body = refused.content.decode()
    assert refused.status_code == 400
    assert (kept.owner, kept.original_name, kept.size) == (alice, "report.txt", 15)
    assert "Kept:" in body and "<strong>report.txt</strong>" in body
    assert f'<input type="hidden" name="kept" value="{kept.pk}">' in body
    path = kept.file.path
    # when: sent again with the site, naming the kept file and choosing none
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/new/", request_fields(device) | {"kept": [kept.pk]})
    # then: the ticket has the file, and the kept one is gone (row and file)
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.number}/"
    attachment = ticket.attachments.get()
    assert (attachment.original_name, attachment.uploaded_by, attachment.file.read()) == (
        "report.txt",
        alice,
        b"ERROR disk full",
    )
    assert not StagedUpload.objects.exists()
    assert not Path(path).exists()


def test_a_kept_file_and_a_new_one_are_both_attached(client, alice, device):
    client.force_login(alice)
    client.post("/portal/new/", request_fields(device, title="") | {"files": [text_file("a.txt")]})
    kept = StagedUpload.objects.get()
    client.post("/portal/new/", request_fields(device) | {"kept": [kept.pk], "files": [text_file("b.txt")]})
    names = sorted(Ticket.objects.get().attachments.values_list("original_name", flat=True))
    assert names == ["a.txt", "b.txt"]


def test_another_customers_kept_file_is_never_attached(client, alice, bob, device, bob_device):
    # given: bob's refused form kept his file
    client.force_login(bob)
    client.post("/portal/new/", request_fields(bob_device, title="") | {"files": [text_file("bob.txt")]})
    bobs = StagedUpload.objects.get(owner=bob)
    # when: alice names it in her form
    client.force_login(alice)
    response = client.post("/portal/new/", request_fields(device) | {"kept": [bobs.pk]})
    # then: her request is filed without it, and bob's file stays his
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.attachments.count() == 0
    assert StagedUpload.objects.get().owner == bob


def test_another_customers_kept_file_is_not_listed_in_a_refused_form(client, alice, bob, bob_device):
    client.force_login(bob)
    client.post("/portal/new/", request_fields(bob_device, title="") | {"files": [text_file("bob.txt")]})
    bobs = StagedUpload.objects.get()
    client.force_login(alice)
    response = client.post("/portal/new/", {"title": "", "kept": [bobs.pk]})
    assert response.status_code == 400
    assert "bob.txt" not in response.content.decode()


def test_the_service_refuses_a_kept_file_of_someone_else(alice, bob, device):
    [bobs], _refusals = staging.stage(bob, [text_file("bob.txt")], kept=[])
    details = services.CallDetails(
        organisation=device.site.organisation, title="x", kind=Kind.CONSULTATION, site=device.site
    )
    with pytest.raises(services.TicketError):
        services.file_request_with_files(details, by=alice, staged=[bobs])
    assert not Ticket.objects.exists()
    assert StagedUpload.objects.get() == bobs


def test_a_file_not_allowed_is_not_kept_and_the_form_says_why(client, alice, device, english):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", content_type="image/png")
    client.force_login(alice)
    response = client.post("/portal/new/", request_fields(device, title="") | {"files": [fake]})
    assert response.status_code == 400
    assert "photo.png is not an allowed file" in response.content.decode()
    assert not StagedUpload.objects.exists()


def test_a_kept_file_ticked_remove_is_not_attached_and_goes(client, alice, device):
    client.force_login(alice)
    client.post("/portal/new/", request_fields(device, title="") | {"files": [text_file()]})
    kept = StagedUpload.objects.get()
    client.post("/portal/new/", request_fields(device) | {"kept": [kept.pk], "remove": [kept.pk]})
    assert Ticket.objects.get().attachments.count() == 0
    assert not StagedUpload.objects.exists()


def test_kept_files_count_against_the_hourly_upload_quota(client, alice, device, settings, english):
    settings.CUSTOMER_UPLOADS_PER_HOUR = 1
    client.force_login(alice)
    client.post("/portal/new/", request_fields(device, title="") | {"files": [text_file("a.txt")]})
    kept = StagedUpload.objects.get()
    response = client.post(
        "/portal/new/", request_fields(device) | {"kept": [kept.pk], "files": [text_file("b.txt")]}
    )
    assert response.status_code == 429
    assert not Ticket.objects.exists()
    # The file kept before is still kept for the next try; the new one is not (keeping it would
    # bypass the quota).
    assert sorted(StagedUpload.objects.values_list("original_name", flat=True)) == ["a.txt"]


def test_kept_files_older_than_a_day_are_deleted_with_their_files(alice, django_capture_on_commit_callbacks):
    [old], _refusals = staging.stage(alice, [text_file("old.txt")], kept=[])
    StagedUpload.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    [_old, fresh], _refusals = staging.stage(alice, [text_file("fresh.txt")], kept=[old])
    with django_capture_on_commit_callbacks(execute=True):
        deleted = staging.delete_old()
    assert deleted == 1
    assert list(StagedUpload.objects.all()) == [fresh]
    assert not old.file.storage.exists(old.file.name)
    assert fresh.file.storage.exists(fresh.file.name)


def test_beat_deletes_old_kept_files_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["delete-old-staged-uploads"]
    assert entry == {"task": "tickets.tasks.delete_old_staged_uploads_task", "schedule": 3600}


# The hotline wherever the page says to call


def test_the_hotline_is_a_phone_link_on_every_portal_page(client, alice, device, hotline, ticket):
    link = '<a class="hotline-number" href="tel:400-820-1234">400-820-1234</a>'
    client.force_login(alice)
    for address in ("/portal/", "/portal/new/", f"/tickets/{ticket.number}/"):
        assert link in client.get(address).content.decode(), address


def test_sites_served_by_different_centres_show_each_hotline_with_its_sites(client, alice, device, hotline):
    far = SupportCentreFactory(hotline="400-600-7788")
    SiteFactory(organisation=device.site.organisation, centre=far, name="西安分部")
    client.force_login(alice)
    body = client.get("/portal/new/").content.decode()
    assert 'href="tel:400-820-1234">400-820-1234</a> <span class="muted small">(本部机房)</span>' in body
    assert 'href="tel:400-600-7788">400-600-7788</a> <span class="muted small">(西安分部)</span>' in body


def test_staff_see_no_hotline_notice_on_the_ticket(client, agent, ticket, hotline):
    client.force_login(agent)
    assert "tel:400-820-1234" not in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_a_change_request_is_refused_with_the_hotline_number(client, alice, device, hotline, english):
    client.force_login(alice)
    response = client.post("/portal/new/", request_fields(device, kind=Kind.CHANGE, level=None))
    assert response.status_code == 400
    assert "A change request is agreed with the service desk: call the hotline 400-820-1234." in (
        response.content.decode()
    )


# The banner, the equipment page, the timeline of a portal request


def test_the_banner_links_to_exactly_the_requests_awaiting_confirmation(
    client, alice, engineer, ticket, make_ticket, english
):
    open_one = make_ticket(title="另一个故障")
    resolved_ticket(ticket, engineer)
    client.force_login(alice)
    body = client.get("/portal/").content.decode()
    assert '<a href="?state=to_confirm">1 resolved request waits for your confirmation.</a>' in body
    listed = client.get("/portal/", {"state": "to_confirm"}).content.decode()
    assert f"/tickets/{ticket.number}/" in listed
    assert f"/tickets/{open_one.number}/" not in listed


def test_the_equipment_page_reports_a_fault_on_each_device(client, alice, device, english):
    client.force_login(alice)
    body = client.get("/portal/equipment/").content.decode()
    assert f'href="/portal/new/?site={device.site_id}&amp;equipment={device.pk}">Report a fault' in body


def test_a_portal_request_is_submitted_on_the_portal_a_call_is_logged(
    client, alice, device, make_ticket, english
):
    client.force_login(alice)
    client.post("/portal/new/", request_fields(device))
    filed = Ticket.objects.get()
    call = make_ticket()
    assert list(filed.events.values_list("kind", flat=True)) == [Event.FILED]
    assert list(call.events.values_list("kind", flat=True)) == [Event.LOGGED]
    body = client.get(f"/tickets/{filed.number}/").content.decode()
    assert "Submitted on the portal" in body
    assert "Call logged" not in body


def test_customers_see_no_tier_nor_escalation(client, alice, manager, agent, ticket, english):
    services.escalate(ticket, by=manager, reason="二线处理超时")
    client.force_login(alice)
    body = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Tier" not in body and "tier-" not in body
    assert "Escalated" not in body and "二线处理超时" not in body
    api = api_as(alice)
    data = api.get(f"/api/tickets/{ticket.number}/").json()
    assert data["tier"] is None
    assert "escalated" not in [event["event"] for event in data["timeline"]]
    assert all("tier" not in event["after"] for event in data["timeline"])
    assert api.get("/api/tickets/").json()["results"][0]["tier"] is None
    api.force_authenticate(agent)
    assert api.get(f"/api/tickets/{ticket.number}/").json()["tier"] == 2


# Confirming asks for a rating


def test_a_customer_must_rate_when_confirming(client, alice, engineer, ticket, english):
    ticket = resolved_ticket(ticket, engineer)
    client.force_login(alice)
    response = client.post(
        f"/tickets/{ticket.number}/act/confirm/", {"version": ticket.version, "comment": "好"}
    )
    assert response.status_code == 400
    assert "How was the service? Choose a score from 5 to 0." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert not ServiceRating.objects.exists()


def test_a_customer_confirms_with_a_score_and_a_comment(client, alice, engineer, agent, ticket, english):
    ticket = resolved_ticket(ticket, engineer)
    client.force_login(alice)
    response = client.post(
        f"/tickets/{ticket.number}/act/confirm/",
        {"version": ticket.version, "score": "4", "comment": "响应很快"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    rating = ticket.rating
    assert (ticket.status, rating.score, rating.comment, rating.rated_by) == (
        Status.CLOSED,
        4,
        "响应很快",
        alice,
    )
    rated = ticket.events.get(kind=Event.RATED)
    assert (rated.actor, rated.note) == (alice, "4 · Satisfied\n响应很快")
    assert list(ticket.events.values_list("kind", flat=True))[-2:] == [Event.CONFIRMED, Event.RATED]
    for person in (alice, agent):
        client.force_login(person)
        body = client.get(f"/tickets/{ticket.number}/").content.decode()
        assert '<span class="score">4</span> Satisfied · <span class="pre">响应很快</span>' in body
        assert "Service rated" in body


@pytest.mark.parametrize("score", ["6", "-1", "x", "4.5"])
def test_a_score_outside_5_to_0_is_refused(client, alice, engineer, ticket, score, english):
    ticket = resolved_ticket(ticket, engineer)
    client.force_login(alice)
    response = client.post(
        f"/tickets/{ticket.number}/act/confirm/", {"version": ticket.version, "score": score}
    )
    assert response.status_code == 400
    assert "Choose a score from 5 to 0." in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_zero_means_not_applicable(alice, engineer, ticket, english):
    ticket = services.confirm(resolved_ticket(ticket, engineer), by=alice, score=0)
    assert (ticket.rating.score, ticket.rating.score_label) == (0, "Not applicable")


def test_the_desk_confirms_on_the_customers_word_with_or_without_a_score(
    agent, engineer, ticket, make_ticket, team, english
):
    unrated = services.confirm(resolved_ticket(ticket, engineer), by=agent, comment="电话确认")
    assert not ServiceRating.objects.filter(ticket=unrated).exists()
    assert unrated.events.get(kind=Event.CONFIRMED).note == "Confirmed on the customer's word. 电话确认"
    other = make_ticket(team=team, assignee=engineer)
    rated = services.confirm(resolved_ticket(other, engineer), by=agent, score=5, comment="客户口头评价满意")
    assert (rated.rating.score, rated.rating.rated_by, rated.rating.comment) == (5, agent, "客户口头评价满意")


def test_confirming_again_after_a_reopening_replaces_the_rating(alice, engineer, ticket):
    ticket = services.confirm(resolved_ticket(ticket, engineer), by=alice, score=2, comment="慢")
    ticket = services.reopen(ticket, by=alice, reason="又坏了")
    ticket = services.confirm(resolved_ticket(ticket, engineer), by=alice, score=5)
    assert (ServiceRating.objects.get().score, ServiceRating.objects.get().comment) == (5, "")
    assert ticket.events.filter(kind=Event.RATED).count() == 2


def api_as(person) -> APIClient:
    """An API client of `person`, reading English messages."""
    api = APIClient()
    api.cookies["django_language"] = "en"
    api.force_authenticate(person)
    return api


def api_confirm(person, ticket, **body):
    api = api_as(person)
    return api.post(
        f"/api/tickets/{ticket.number}/confirm/", {"version": ticket.version, **body}, format="json"
    )


def test_the_api_confirms_with_a_score(alice, engineer, ticket):
    ticket = resolved_ticket(ticket, engineer)
    response = api_confirm(alice, ticket, score=5, comment="很满意")
    assert response.status_code == 200
    assert response.json()["rating"] == {
        "score": 5,
        "comment": "很满意",
        "rated_by": {"id": alice.pk, "name": str(alice)},
        "rated_at": response.json()["rating"]["rated_at"],
    }
    assert response.json()["status"] == "closed"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "How was the service? Choose a score from 5 to 0."),
        ({"score": 7}, "score: The score is a whole number from 0 (not applicable) to 5 (very satisfied)."),
        (
            {"score": "good"},
            "score: The score is a whole number from 0 (not applicable) to 5 (very satisfied).",
        ),
        ({"score": -1}, "score: The score is a whole number from 0 (not applicable) to 5 (very satisfied)."),
    ],
)
def test_the_api_refuses_a_customers_confirmation_without_a_good_score(alice, engineer, ticket, body, detail):
    ticket = resolved_ticket(ticket, engineer)
    response = api_confirm(alice, ticket, **body)
    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    assert not ServiceRating.objects.exists()


def test_the_api_lets_the_desk_confirm_without_a_score(agent, engineer, ticket):
    response = api_confirm(agent, resolved_ticket(ticket, engineer), note="电话确认")
    assert (response.status_code, response.json()["status"], response.json()["rating"]) == (
        200,
        "closed",
        None,
    )


@pytest.mark.parametrize("value", ["²", "³", "١"])
def test_digits_that_are_not_ascii_are_ignored_never_a_500(client, alice, device, value):
    client.force_login(alice)
    assert client.get("/portal/new/", {"site": value, "equipment": value}).status_code == 200
    posted = client.post("/portal/new/", {"kept": value, "remove": value, "title": ""})
    assert posted.status_code == 400
