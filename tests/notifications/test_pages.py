from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import services
from notifications.choices import Channel
from notifications.models import Notification, Robot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def notify(user, subject="SD-2026-000001 assigned to you", url="/tickets/SD-2026-000001/"):
    return services.queue(
        [user],
        kind="ticket.assigned",
        subject=subject,
        body="Please call the customer.",
        url=url,
        channels=[Channel.IN_APP],
    )[0]


def read_times(*notifications):
    return [Notification.objects.get(pk=n.pk).read_at for n in notifications]


# the list


@pytest.mark.parametrize("persona", ["agent", "engineer", "manager", "admin_user", "alice"])
def test_every_role_sees_its_notifications(client, request, persona):
    # given
    user = request.getfixturevalue(persona)
    notify(user)
    client.force_login(user)
    # when
    response = client.get("/notifications/")
    # then
    assert response.status_code == 200
    # the ticket number is a link to the ticket
    assert (
        '<a href="/tickets/SD-2026-000001/">SD-2026-000001</a> assigned to you' in response.content.decode()
    )


def test_list_shows_only_the_users_own_notifications(client, alice, bob):
    # given
    notify(alice, subject="For alice")
    mine = notify(bob, subject="For bob")
    client.force_login(bob)
    # when
    response = client.get(reverse("notifications:list"))
    # then
    assert list(response.context["page"]) == [mine]
    assert response.context["unread_notifications"] == 1
    page = response.content.decode()
    assert "For bob" in page
    assert "For alice" not in page


def test_list_is_newest_first_and_highlights_unread(client, alice):
    # given
    with time_machine.travel(START, tick=False):
        old = notify(alice, subject="Older", url="")
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        new = notify(alice, subject="Newer")
    services.mark_read(alice, old.pk)
    client.force_login(alice)
    # when
    response = client.get("/notifications/")
    # then
    assert list(response.context["page"]) == [new, old]
    assert response.context["unread_notifications"] == 1
    page = response.content.decode()
    assert f'id="notification-{new.pk}" class="notification unread"' in page
    assert f'id="notification-{old.pk}" class="notification"' in page
    assert page.count('<mark class="unread-mark">') == 1
    # how long ago, with the moment in Asia/Shanghai on hover
    assert 'title="2026-05-04 16:05"' in page
    assert f'action="/notifications/{new.pk}/read/"' in page
    # a read notification without a link has nothing to click
    assert f'action="/notifications/{old.pk}/read/"' not in page


def test_list_is_paginated_by_30(client, alice):
    # given
    for number in range(31):
        notify(alice, subject=f"Message {number}")
    client.force_login(alice)
    # when
    first = client.get("/notifications/")
    second = client.get("/notifications/", {"page": 2})
    # then
    assert len(first.context["page"]) == 30
    assert [n.subject for n in second.context["page"]] == ["Message 0"]
    assert "Page 2 of 2" in second.content.decode()


def test_list_query_count_does_not_grow_with_notifications(client, alice):
    # given
    notify(alice)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications/")
    for _number in range(20):
        notify(alice)
    # when
    with CaptureQueriesContext(connection) as many:
        client.get("/notifications/")
    # then
    assert len(many) == len(few)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/notifications/"


def test_empty_list_says_so(client, bob):
    client.force_login(bob)
    response = client.get("/notifications/")
    assert "No notifications yet." in response.content.decode()
    assert response.context["unread_notifications"] == 0


# marking read


def test_reading_a_notification_marks_it_and_opens_its_object(client, alice):
    # given
    notification = notify(alice)
    client.force_login(alice)
    # when
    with time_machine.travel(START, tick=False):
        response = client.post(reverse("notifications:read", args=[notification.pk]))
    # then
    assert response.status_code == 302
    assert response["Location"] == "/tickets/SD-2026-000001/"
    assert read_times(notification) == [START]


def test_reading_again_keeps_the_first_read_time(client, alice):
    notification = notify(alice)
    with time_machine.travel(START, tick=False):
        services.mark_read(alice, notification.pk)
    client.force_login(alice)
    client.post(reverse("notifications:read", args=[notification.pk]))
    assert read_times(notification) == [START]


def test_reading_a_notification_without_link_returns_to_the_list(client, alice):
    notification = notify(alice, url="")
    client.force_login(alice)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response["Location"] == "/notifications/"
    assert read_times(notification)[0] is not None


@pytest.mark.parametrize(
    "url", ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_reading_never_redirects_off_the_site(client, alice, url):
    notification = notify(alice, url=url)
    client.force_login(alice)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


def test_reading_someone_elses_notification_is_404(client, alice, bob):
    # given
    notification = notify(alice)
    client.force_login(bob)
    # when
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    # then
    assert response.status_code == 404
    assert read_times(notification) == [None]


def test_reading_an_email_row_is_404(client, alice):
    alice.email = "alice@example.com"
    alice.save()
    email = services.queue([alice], kind="k", subject="s", body="b", channels=[Channel.EMAIL])[0]
    client.force_login(alice)
    response = client.post(reverse("notifications:read", args=[email.pk]))
    assert response.status_code == 404
    assert read_times(email) == [None]


def test_reading_needs_post(client, alice):
    notification = notify(alice)
    client.force_login(alice)
    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405
    assert read_times(notification) == [None]


def test_anonymous_cannot_mark_read(client, alice):
    notification = notify(alice)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert read_times(notification) == [None]


def test_read_all_marks_only_the_users_own(client, alice, bob):
    # given
    mine = [notify(bob), notify(bob)]
    theirs = notify(alice)
    client.force_login(bob)
    # when
    with time_machine.travel(START, tick=False):
        response = client.post(reverse("notifications:read_all"))
    # then
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert read_times(*mine) == [START, START]
    assert read_times(theirs) == [None]


def test_read_all_needs_post(client, bob):
    notification = notify(bob)
    client.force_login(bob)
    assert client.get(reverse("notifications:read_all")).status_code == 405
    assert read_times(notification) == [None]


# the bell


def test_bell_shows_the_unread_count(client, alice, bob):
    # given
    notify(alice)
    notify(alice)
    services.mark_read(alice, notify(alice).pk)
    notify(bob)
    client.force_login(alice)
    # when
    response = client.get(reverse("notifications:count"))
    # then
    assert response.status_code == 200
    bell = response.content.decode()
    assert 'id="notification-bell"' in bell
    assert 'hx-get="/notifications/count/"' in bell
    assert 'hx-trigger="every 60s"' in bell
    assert 'href="/notifications/"' in bell
    assert 'aria-label="Notifications, 2 unread"' in bell
    assert '<span class="bell-count" aria-hidden="true">2</span>' in bell


def test_bell_without_unread_has_no_badge(client, alice):
    client.force_login(alice)
    bell = client.get(reverse("notifications:count")).content.decode()
    assert 'aria-label="Notifications"' in bell
    assert "bell-count" not in bell


def test_bell_caps_the_badge_at_99(client, alice):
    Notification.objects.bulk_create(
        Notification(recipient=alice, channel=Channel.IN_APP, kind="k", subject="s") for _number in range(100)
    )
    client.force_login(alice)
    bell = client.get(reverse("notifications:count")).content.decode()
    assert '<span class="bell-count" aria-hidden="true">99+</span>' in bell


def test_bell_for_anonymous_is_no_content(client):
    # htmx would otherwise paste the login page into the header
    response = client.get(reverse("notifications:count"))
    assert response.status_code == 204
    assert response.content == b""


def test_context_processor_counts_only_when_asked(client, alice, django_assert_num_queries):
    from django.test import RequestFactory

    from notifications.context_processors import unread

    request = RequestFactory().get("/")
    request.user = alice
    notify(alice)
    with django_assert_num_queries(0):
        context = unread(request)
    with django_assert_num_queries(1):
        assert context["unread_notifications"] == 1


# the admin


def test_admin_shows_the_outbox_read_only(client, admin_user, alice):
    # given
    notification = notify(alice)
    client.force_login(admin_user)
    # when
    changelist = client.get("/admin/notifications/notification/", {"q": "SD-2026"})
    change = client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    add = client.get("/admin/notifications/notification/add/")
    edit = client.post(f"/admin/notifications/notification/{notification.pk}/change/", {"subject": "changed"})
    # then
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 1
    assert change.status_code == 200
    assert add.status_code == 403
    assert edit.status_code == 403
    assert Notification.objects.get().subject == "SD-2026-000001 assigned to you"


def test_admin_robot_pages_and_test_message(client, admin_user, django_capture_on_commit_callbacks):
    # given
    client.force_login(admin_user)
    assert client.get("/admin/notifications/robot/add/").status_code == 200
    response = client.post(
        "/admin/notifications/robot/add/",
        {
            "name": "Nanjing duty group",
            "kind": "wecom",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    robot = Robot.objects.get()
    assert client.get(f"/admin/notifications/robot/{robot.pk}/change/").status_code == 200
    # when: the test message action, with the worker's hand-over captured
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/admin/notifications/robot/",
            {"action": "send_test_message", "_selected_action": [robot.pk]},
            follow=True,
        )
    # then
    assert "1 test message queued." in response.content.decode()
    row = Notification.objects.get()
    assert (row.robot, row.channel, row.kind, row.subject) == (
        robot,
        Channel.WEBHOOK,
        "robot.test",
        "Test message",
    )
    assert len(callbacks) == 1
