import base64
import hashlib
import hmac
import io
import json
import smtplib
import urllib.error
import urllib.parse
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from kombu.exceptions import OperationalError

from accounts.choices import Role
from notifications import services, tasks
from notifications.choices import Channel, RobotKind, Status
from notifications.models import Notification, Robot
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services as tickets
from tickets.choices import Kind, Level
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=token-1"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key-1"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://desk.example.com"


@pytest.fixture
def carol(db):
    """An engineer with an e-mail address."""
    return UserFactory(username="carol", role=Role.ENGINEER, email="carol@example.com")


@pytest.fixture
def dingtalk(db):
    return Robot.objects.create(
        name="Nanjing duty group", kind=RobotKind.DINGTALK, url=DINGTALK_URL, secret="SEC-secret"
    )


@pytest.fixture
def wecom(db):
    return Robot.objects.create(name="Shanghai group", kind=RobotKind.WECOM, url=WECOM_URL)


def robot_answer(payload=None):
    """What urlopen returns: a readable response to use as a context manager."""
    return io.BytesIO(json.dumps(payload or {"errcode": 0, "errmsg": "ok"}).encode())


def assigned(recipients, **kwargs):
    return services.queue(
        recipients,
        kind="ticket.assigned",
        subject="SD-2026-000001 assigned to you",
        body="Please call the customer.",
        url="/tickets/SD-2026-000001/",
        **kwargs,
    )


def email_row(recipient, **fields):
    values = {"kind": "ticket.assigned", "subject": "Subject", "body": "Body"} | fields
    return Notification.objects.create(recipient=recipient, channel=Channel.EMAIL, **values)


# queue


def test_queue_writes_one_row_per_recipient_and_channel(carol, engineer):
    # given: carol has an e-mail address, engineer has none
    # when
    rows = assigned([carol, engineer])
    # then
    assert [(row.recipient, row.channel) for row in rows] == [
        (carol, Channel.IN_APP),
        (carol, Channel.EMAIL),
        (engineer, Channel.IN_APP),
    ]
    assert Notification.objects.count() == 3


def test_queue_skips_inactive_users_and_duplicates(carol):
    # given
    gone = UserFactory(username="gone", email="gone@example.com", is_active=False)
    # when
    rows = assigned([carol, gone, carol], channels=[Channel.IN_APP])
    # then
    assert [row.recipient for row in rows] == [carol]
    assert Notification.objects.get().recipient == carol


def test_queue_accepts_a_single_user(carol):
    rows = assigned(carol, channels=[Channel.IN_APP])
    assert [row.recipient for row in rows] == [carol]


def test_queue_refuses_the_webhook_channel(carol):
    with pytest.raises(ValueError, match="queue_robot"):
        assigned([carol], channels=[Channel.WEBHOOK])
    assert Notification.objects.count() == 0


def test_queue_is_rolled_back_with_the_callers_transaction(carol, django_capture_on_commit_callbacks):
    # when: the caller's transaction fails after queueing
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            assigned([carol])
            raise RuntimeError("the caller's change failed")
    # then: no row, nothing handed to a worker, no mail
    assert Notification.objects.count() == 0
    assert callbacks == []
    assert mail.outbox == []


def test_in_app_notification_is_visible_at_once(carol):
    # when: the transaction has not committed yet
    with time_machine.travel(START, tick=False):
        assigned([carol], channels=[Channel.IN_APP])
    # then
    row = Notification.objects.get()
    assert row.status == Status.SENT
    assert row.sent_at == START
    assert row.read_at is None
    assert list(Notification.objects.filter(recipient=carol).unread()) == [row]


def test_email_is_sent_after_commit_with_the_link(carol, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assigned([carol], channels=[Channel.EMAIL])
        # then: nothing is sent before the transaction commits
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.com"]
    assert message.subject == "[Service desk] SD-2026-000001 assigned to you"
    assert message.body == ("Please call the customer.\n\nhttps://desk.example.com/tickets/SD-2026-000001/")
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 1, "")


def test_subject_is_one_line_and_at_most_200_characters(carol):
    rows = services.queue(
        [carol], kind="k", subject="line one\nline two " + "x" * 300, body="", channels=["in_app"]
    )
    assert rows[0].subject.startswith("line one line two xxx")
    assert len(rows[0].subject) == 200
    assert rows[0].subject.endswith("…")


def test_dedupe_key_queues_a_message_once(carol, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        first = assigned([carol], dedupe_key="deadline:7:warn")
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = assigned([carol], dedupe_key="deadline:7:warn")
    # then
    assert len(first) == 2
    assert second == []
    assert callbacks == []
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == [
        f"deadline:7:warn:{carol.pk}:email",
        f"deadline:7:warn:{carol.pk}:in_app",
    ]
    assert len(mail.outbox) == 1


def test_dedupe_key_is_per_recipient(carol, engineer):
    assigned([carol], channels=[Channel.IN_APP], dedupe_key="deadline:7:warn")
    rows = assigned([carol, engineer], channels=[Channel.IN_APP], dedupe_key="deadline:7:warn")
    assert [row.recipient for row in rows] == [engineer]
    assert Notification.objects.count() == 2


def test_a_long_dedupe_key_is_hashed_to_fit(carol):
    key = "k" * 250
    assigned([carol], channels=[Channel.IN_APP], dedupe_key=key)
    rows = assigned([carol], channels=[Channel.IN_APP], dedupe_key=key)
    assert rows == []
    assert len(Notification.objects.get().dedupe_key) == 200


# broker down and the sweep


def test_broker_down_leaves_the_email_pending_and_the_sweep_sends_it(
    carol, django_capture_on_commit_callbacks, caplog
):
    # given: the broker refuses the task
    broker_down = OperationalError("Error 111 connecting to localhost:6379. Connection refused.")
    with (
        mock.patch.object(
            tasks.deliver_notification_task, "apply_async", side_effect=broker_down
        ) as apply_async,
        time_machine.travel(START, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        # when: the call still succeeds
        rows = assigned([carol], channels=[Channel.EMAIL])
    # then
    apply_async.assert_called_once_with((rows[0].pk,), retry=False)
    assert "not handed to a worker" in caplog.text
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert mail.outbox == []

    # when: the sweep runs 31 s later
    with time_machine.travel(START + timedelta(seconds=31), tick=False):
        sent = services.deliver_pending()
    # then
    assert sent == 1
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.sent_at) == (Status.SENT, START + timedelta(seconds=31))


def test_a_broker_found_down_is_not_tried_again_for_a_while(carol, monkeypatch, caplog):
    # given: the broker cannot be reached, and tasks are really sent (not run in the process)
    attempts = []

    def unreachable():
        attempts.append(1)
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setitem(tasks.deliver_notification_task.app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.deliver_notification_task.app, "connection_for_write", unreachable)
    clock = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: clock[0])
    rows = [email_row(carol, subject=f"SD-2026-00000{n}") for n in range(3)]
    # when: one request hands over three times (the call, its assignment, the customer's notice)
    for row in rows:
        services._hand_over([row.pk])
    # then: the broker was tried once; the messages wait for the sweep
    assert len(attempts) == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.PENDING}
    # when: the retry interval has passed, the next hand-over tries again
    clock[0] += services.BROKER_RETRY_AFTER
    services._hand_over([rows[0].pk])
    assert len(attempts) == 2


def test_sweep_leaves_rows_younger_than_30_seconds_to_their_task(carol):
    # given
    with time_machine.travel(START, tick=False):
        email_row(carol)
    # when
    with time_machine.travel(START + timedelta(seconds=29), tick=False):
        sent = services.deliver_pending()
    # then
    assert sent == 0
    assert mail.outbox == []
    assert Notification.objects.get().attempts == 0


def test_sweep_sends_oldest_first_up_to_the_limit(carol):
    # given
    with time_machine.travel(START, tick=False):
        email_row(carol, subject="first")
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        email_row(carol, subject="second")
    # when
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        sent = services.deliver_pending(limit=1)
    # then
    assert sent == 1
    assert [message.subject for message in mail.outbox] == ["[Service desk] first"]


def test_sweep_continues_after_a_failure(carol, wecom):
    # given: a robot that is down, then an e-mail
    with time_machine.travel(START, tick=False):
        services.queue_robot([wecom], kind="k", subject="robot", body="")
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        email_row(carol)
    # when
    with (
        mock.patch("urllib.request.urlopen", side_effect=urllib.error.URLError("refused")),
        time_machine.travel(START + timedelta(minutes=1), tick=False),
    ):
        sent = services.deliver_pending()
    # then
    assert sent == 1
    assert len(mail.outbox) == 1
    robot_row = Notification.objects.get(channel=Channel.WEBHOOK)
    assert (robot_row.status, robot_row.attempts) == (Status.PENDING, 1)
    assert robot_row.last_error == "wecom robot: <urlopen error refused>"


# deliver


def test_a_second_deliver_sends_nothing(carol):
    # given
    row = email_row(carol)
    assert services.deliver(row) is True
    # when
    again = services.deliver(Notification.objects.get(pk=row.pk))
    # then
    assert again is False
    assert len(mail.outbox) == 1
    assert Notification.objects.get().attempts == 1


def test_deliver_leaves_in_app_rows_alone(carol):
    row = assigned([carol], channels=[Channel.IN_APP])[0]
    assert services.deliver(row) is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 0)


def test_failed_delivery_is_recorded_and_retried_later(carol):
    # given
    with time_machine.travel(START, tick=False):
        row = email_row(carol)
    # when
    with (
        mock.patch("notifications.services.send_mail", side_effect=smtplib.SMTPException("busy")),
        time_machine.travel(START, tick=False),
        pytest.raises(services.DeliveryFailed) as failure,
    ):
        services.deliver(row)
    # then
    assert failure.value.final is False
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 1, "E-mail: busy")
    assert row.next_attempt_at == START + timedelta(minutes=1)

    # when: tried again before the wait is over, nothing happens
    with time_machine.travel(START + timedelta(seconds=59), tick=False):
        assert services.deliver(row) is False
    row.refresh_from_db()
    assert row.attempts == 1
    # when: tried again after it, the message goes out
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert services.deliver(row) is True
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.SENT, 2, None)
    assert len(mail.outbox) == 1


def test_delivery_is_given_up_after_8_failed_attempts(carol):
    # given
    row = email_row(carol)
    moment = START
    failures = []
    with mock.patch("notifications.services.send_mail", side_effect=OSError("no route")):
        # when: every attempt fails
        for _attempt in range(8):
            moment += timedelta(hours=2)
            with (
                time_machine.travel(moment, tick=False),
                pytest.raises(services.DeliveryFailed) as e,
            ):
                services.deliver(row)
            failures.append(e.value.final)
            row.refresh_from_db()
            failures.append((row.status, row.attempts))
    # then
    assert failures == [
        False,
        (Status.PENDING, 1),
        False,
        (Status.PENDING, 2),
        False,
        (Status.PENDING, 3),
        False,
        (Status.PENDING, 4),
        False,
        (Status.PENDING, 5),
        False,
        (Status.PENDING, 6),
        False,
        (Status.PENDING, 7),
        True,
        (Status.FAILED, 8),
    ]
    assert row.last_error == "E-mail: no route"
    # and a failed row is never tried again
    with time_machine.travel(moment + timedelta(days=1), tick=False):
        assert services.deliver(row) is False
        assert services.deliver_pending() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 8)


def test_email_to_a_user_who_lost_the_address_fails_at_once(carol):
    row = email_row(carol)
    carol.email = ""
    carol.save()
    with pytest.raises(services.DeliveryFailed) as failure:
        services.deliver(row)
    assert failure.value.final is True
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert mail.outbox == []


@pytest.mark.parametrize(("failures", "seconds"), [(1, 60), (2, 120), (4, 480), (7, 3600)])
def test_retry_delay_doubles_up_to_an_hour(failures, seconds):
    assert services.retry_delay(failures) == seconds


# robots


def test_dingtalk_message_is_signed_markdown(dingtalk):
    # given
    with time_machine.travel(START, tick=False):
        rows = services.queue_robot(
            [dingtalk],
            kind="deadline.warning",
            subject="SD-2026-000001 due in 15 min",
            body="Arrival deadline 10:30",
            url="/tickets/SD-2026-000001/",
        )
    # when
    with (
        mock.patch("urllib.request.urlopen", return_value=robot_answer()) as urlopen,
        time_machine.travel(START, tick=False),
    ):
        sent = services.deliver(rows[0])
    # then
    assert sent is True
    request = urlopen.call_args.args[0]
    assert urlopen.call_args.kwargs == {"timeout": 10}
    assert request.get_method() == "POST"
    assert request.get_header("Content-type") == "application/json; charset=utf-8"
    assert json.loads(request.data) == {
        "msgtype": "markdown",
        "markdown": {
            "title": "SD-2026-000001 due in 15 min",
            "text": "#### SD-2026-000001 due in 15 min\n\nArrival deadline 10:30\n\n"
            "[Open](https://desk.example.com/tickets/SD-2026-000001/)",
        },
    }
    timestamp = "1777881600000"  # START in milliseconds
    expected = base64.b64encode(
        hmac.new(b"SEC-secret", f"{timestamp}\nSEC-secret".encode(), hashlib.sha256).digest()
    ).decode()
    address, query = request.full_url.split("?")
    assert address == "https://oapi.dingtalk.com/robot/send"
    assert urllib.parse.parse_qs(query) == {
        "access_token": ["token-1"],
        "timestamp": [timestamp],
        "sign": [expected],
    }
    assert f"&sign={urllib.parse.quote_plus(expected)}" in request.full_url
    row = Notification.objects.get()
    assert (row.status, row.recipient, row.robot) == (Status.SENT, None, dingtalk)


def test_dingtalk_robot_without_secret_is_not_signed(dingtalk):
    dingtalk.secret = ""
    dingtalk.save()
    row = services.queue_robot([dingtalk], kind="k", subject="s", body="b")[0]
    with mock.patch("urllib.request.urlopen", return_value=robot_answer()) as urlopen:
        services.deliver(row)
    assert urlopen.call_args.args[0].full_url == DINGTALK_URL


def test_wecom_message_is_markdown(wecom):
    # given
    row = services.queue_robot(
        [wecom], kind="k", subject="Part dispatched", body="SN123 leaves today", url="/swaps/4/"
    )[0]
    # when
    with mock.patch("urllib.request.urlopen", return_value=robot_answer()) as urlopen:
        services.deliver(row)
    # then
    request = urlopen.call_args.args[0]
    assert request.full_url == WECOM_URL
    assert json.loads(request.data) == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**Part dispatched**\nSN123 leaves today\n[Open](https://desk.example.com/swaps/4/)"
        },
    }


def test_robot_errcode_is_a_failure(wecom):
    # given
    row = services.queue_robot([wecom], kind="k", subject="s", body="b")[0]
    answer = robot_answer({"errcode": 93000, "errmsg": "invalid webhook url"})
    # when
    with (
        mock.patch("urllib.request.urlopen", return_value=answer),
        pytest.raises(services.DeliveryFailed),
    ):
        services.deliver(row)
    # then
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == (Status.PENDING, 1, None)
    assert row.last_error == ('wecom robot answered: {"errcode": 93000, "errmsg": "invalid webhook url"}')


def test_robot_http_error_is_a_failure(dingtalk):
    row = services.queue_robot([dingtalk], kind="k", subject="s", body="b")[0]
    error = urllib.error.HTTPError(DINGTALK_URL, 502, "Bad Gateway", {}, None)
    with (
        mock.patch("urllib.request.urlopen", side_effect=error),
        pytest.raises(services.DeliveryFailed),
    ):
        services.deliver(row)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    # the error never shows the robot's access token
    assert row.last_error == "dingtalk robot: HTTP Error 502: Bad Gateway"


def test_queue_robot_skips_inactive_robots_and_dedupes(dingtalk, wecom):
    wecom.is_active = False
    wecom.save()
    first = services.queue_robot([dingtalk, wecom], kind="k", subject="s", body="", dedupe_key="x")
    second = services.queue_robot(dingtalk, kind="k", subject="s", body="", dedupe_key="x")
    assert [row.robot for row in first] == [dingtalk]
    assert second == []
    assert Notification.objects.get().dedupe_key == f"x:robot:{dingtalk.pk}"


def test_escape_markdown_makes_links_and_tags_inert():
    text = "[click](https://evil.example) ![img](x) <font color=red>hi</font>"
    assert services.escape_markdown(text) == (
        "［click］（https://evil.example） !［img］（x） ＜font color=red＞hi＜/font＞"
    )


def test_user_text_cannot_inject_a_link_into_a_robot_message(wecom):
    row = services.queue_robot(
        [wecom], kind="k", subject="Re: [x](https://evil.example)", body="see <a href=x>here</a>"
    )[0]
    content = services.robot_payload(row)["markdown"]["content"]
    assert content == "**Re: ［x］（https://evil.example）**\nsee ＜a href=x＞here＜/a＞"


# tasks


def test_task_for_a_missing_row_does_nothing():
    result = tasks.deliver_notification_task.apply(args=[404])
    assert result.get() is False
    assert mail.outbox == []


def test_task_for_a_sent_row_sends_nothing(carol):
    row = email_row(carol, status=Status.SENT)
    assert tasks.deliver_notification_task.apply(args=[row.pk]).get() is False
    assert mail.outbox == []
    assert Notification.objects.get().attempts == 0


def test_task_retries_with_exponential_countdown(carol):
    # given
    row = email_row(carol)
    task = tasks.deliver_notification_task
    # when: the third try fails
    with (
        mock.patch("notifications.services.send_mail", side_effect=OSError("down")),
        mock.patch.object(task, "retry", side_effect=RuntimeError("retry")) as retry,
        pytest.raises(RuntimeError, match="retry"),
    ):
        task.apply(args=[row.pk], retries=2, throw=True)
    # then
    assert retry.call_args.kwargs["countdown"] == 240
    assert isinstance(retry.call_args.kwargs["exc"], services.DeliveryFailed)


def test_task_does_not_retry_a_message_given_up(carol):
    row = email_row(carol, attempts=7)
    with mock.patch("notifications.services.send_mail", side_effect=OSError("down")):
        result = tasks.deliver_notification_task.apply(args=[row.pk])
    assert result.get() is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 8)


def test_sweep_task_delivers_pending_rows(carol):
    with time_machine.travel(START, tick=False):
        email_row(carol)
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert tasks.deliver_pending_task.apply().get() == 1
    assert len(mail.outbox) == 1


# queue_many: the SLA sweep's batches (on PostgreSQL one INSERT … SELECT, elsewhere queue's way)


def escalated(recipients, number: int, **fields) -> services.Message:
    values = {
        "kind": "ticket.escalated",
        "subject": f"SD-2026-{number:06d}: response\noverdue",
        "body": "核心交换机宕机 · 甲单位",
        "url": f"/tickets/SD-2026-{number:06d}/",
        "dedupe_key": f"deadline-{number}-1",
    } | fields
    return services.Message(recipients, **values)


def test_queue_many_writes_what_queue_would_write_for_each_message(
    carol, engineer, django_capture_on_commit_callbacks
):
    # given: carol has an e-mail address, engineer has none; dave is inactive
    dave = UserFactory(username="dave", role=Role.ENGINEER, email="dave@example.com", is_active=False)
    # when: two messages, one naming carol twice
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        written = services.queue_many(
            [escalated([carol, engineer, carol, dave], 1), escalated([engineer], 2)]
        )
    # then: in-app for both (sent at once), e-mail for carol only (pending), nothing for dave
    rows = Notification.objects.order_by("recipient__username", "channel", "dedupe_key")
    assert written == 4
    assert [(row.recipient.username, row.channel, row.status, row.dedupe_key) for row in rows] == [
        ("carol", Channel.EMAIL, Status.PENDING, f"deadline-1-1:{carol.pk}:email"),
        ("carol", Channel.IN_APP, Status.SENT, f"deadline-1-1:{carol.pk}:in_app"),
        ("engineer", Channel.IN_APP, Status.SENT, f"deadline-1-1:{engineer.pk}:in_app"),
        ("engineer", Channel.IN_APP, Status.SENT, f"deadline-2-1:{engineer.pk}:in_app"),
    ]
    # a subject is one line
    assert rows[0].subject == "SD-2026-000001: response overdue"
    assert rows[1].sent_at is not None and rows[0].sent_at is None
    # and only the pending e-mail is handed to a worker after the commit
    assert len(callbacks) == 1


def test_queue_many_twice_queues_once(carol, django_capture_on_commit_callbacks):
    services.queue_many([escalated([carol], 1)])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = services.queue_many([escalated([carol], 1), escalated([carol], 3)])
    assert again == 2  # only message 3's two rows are new
    assert Notification.objects.count() == 4
    assert len(callbacks) == 1


def test_a_large_hand_over_goes_in_chunks_and_sends_each_once(carol, monkeypatch):
    # given: more e-mails than are handed over one task each
    rows = [
        email_row(carol, subject=f"SD-2026-{n:06d} overdue") for n in range(services.HAND_OVER_ONE_BY_ONE + 5)
    ]
    published = []
    monkeypatch.setattr(services, "CHUNK", 10)
    original = services._publish
    monkeypatch.setattr(
        services,
        "_publish",
        lambda task, payload, **kw: (published.append(payload), original(task, payload, **kw)),
    )

    # when
    services._hand_over([row.pk for row in rows])

    # then: two chunk tasks (10 and 5), and every e-mail sent once
    assert [len(payload) for payload in published] == [10, 5]
    assert sorted(message.subject for message in mail.outbox) == sorted(
        f"[Service desk] {row.subject}" for row in rows
    )
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


# e-mail to an address without an account (a customer contact without a portal account)


def test_queue_mails_an_address_once_and_not_a_recipients_own(carol, django_capture_on_commit_callbacks):
    # when: the same address twice (in two spellings) and carol's own address
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.queue(
            [carol],
            kind="ticket.resolved",
            subject="SD-2026-000001 resolved",
            body="已更换电源模块",
            channels=[Channel.EMAIL],
            addresses=["li@example.cn", "LI@example.cn", "Carol@Example.com", ""],
            dedupe_key="resolved-1",
        )
    # then: carol once, li once, each a row of its own
    assert [(row.recipient, row.address) for row in rows] == [(carol, ""), (None, "li@example.cn")]
    assert sorted(tuple(message.to) for message in mail.outbox) == [
        ("carol@example.com",),
        ("li@example.cn",),
    ]
    assert Notification.objects.get(address="li@example.cn").dedupe_key == "resolved-1:email:li@example.cn"
    assert (
        str(Notification.objects.get(address="li@example.cn"))
        == "E-mail · li@example.cn · SD-2026-000001 resolved"
    )


def test_queue_writes_no_address_row_without_the_email_channel(carol):
    rows = services.queue(
        [carol], kind="k", subject="s", body="", channels=[Channel.IN_APP], addresses=["li@example.cn"]
    )

    assert [(row.recipient, row.channel) for row in rows] == [(carol, Channel.IN_APP)]


def test_queue_many_mails_addresses_too(carol, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        written = services.queue_many([escalated([carol], 1, addresses=("li@example.cn",))])

    assert written == 3
    assert sorted(tuple(message.to) for message in mail.outbox) == [
        ("carol@example.com",),
        ("li@example.cn",),
    ]


def test_an_address_row_needs_an_address():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(channel=Channel.EMAIL, kind="k", subject="s")


# The e-mails of a ticket's customers, to a contact without a portal account as well


@pytest.fixture
def li(alice):
    """The contact who called about alice's organisation's fault: an address, no portal account."""
    return ContactFactory(organisation=alice.contact.organisation, name="李工", email="li@example.cn")


@pytest.fixture
def call(agent, alice, centre, engineer, django_capture_on_commit_callbacks):
    """
    Log a Level II fault for alice's organisation through the service, assigned to `engineer`,
    its e-mails sent after the commit.
    """
    organisation = alice.contact.organisation
    team = TeamFactory(centre=centre)
    team.members.add(engineer)
    site = SiteFactory(organisation=organisation, centre=centre)
    device = EquipmentFactory(site=site, contract=ContractFactory(organisation=organisation))

    def log(**details):
        fields = {
            "organisation": organisation,
            "title": "核心交换机宕机",
            "kind": Kind.FAULT,
            "level": Level.II,
            "site": site,
            "equipment": device,
            "contract": device.contract,
        } | details
        with django_capture_on_commit_callbacks(execute=True):
            return tickets.log_call(tickets.CallDetails(**fields), by=agent, team=team, assignee=engineer)

    return log


def mails_to(address: str) -> list[str]:
    return [message.subject for message in mail.outbox if message.to == [address]]


def test_a_contact_without_an_account_is_mailed_when_the_ticket_is_logged_resolved_and_closed(
    call, li, alice, agent, engineer, django_capture_on_commit_callbacks
):
    # given alice (a portal user of the same organisation) has an address too
    alice.email = "alice@example.cn"
    alice.save()
    # when the call is logged with li as its contact, resolved, and confirmed on li's word
    ticket = call(contact=li)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.accept(ticket, by=engineer)
        tickets.resolve(ticket, by=engineer, resolution="已更换电源模块")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.confirm(Ticket.objects.get(pk=ticket.pk), by=agent)
    # then li gets each e-mail once, without the link to a page she cannot sign in to
    expected = [
        f"[Service desk] Your request {ticket.number} is logged: 核心交换机宕机",
        f"[Service desk] Your request {ticket.number} is resolved: please confirm",
        f"[Service desk] Your request {ticket.number} is closed",
    ]
    assert mails_to("li@example.cn") == expected
    to_li = [message for message in mail.outbox if message.to == ["li@example.cn"]]
    assert to_li[0].body == "Fault Level II · Assigned"
    assert to_li[1].body == "已更换电源模块"
    assert "http" not in "".join(message.body for message in to_li)
    # and alice, with an account, the same e-mails (with the link)
    assert mails_to("alice@example.cn") == expected
    assert all(
        f"https://desk.example.com/tickets/{ticket.number}/" in message.body
        for message in mail.outbox
        if message.to == ["alice@example.cn"]
    )


def test_a_contact_without_an_account_is_told_of_the_auto_close(
    call, li, engineer, django_capture_on_commit_callbacks
):
    # given a ticket resolved and left unconfirmed
    with time_machine.travel(START, tick=False):
        ticket = call(contact=li)
        with django_capture_on_commit_callbacks(execute=True):
            tickets.accept(ticket, by=engineer)
            tickets.resolve(ticket, by=engineer, resolution="已更换电源模块")
    # when 30 days and a minute later it closes itself
    with time_machine.travel(START + timedelta(days=30, minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tickets.auto_close() == 1
    # then
    assert mails_to("li@example.cn")[-1] == f"[Service desk] Your request {ticket.number} was closed"
    assert mails_to("li@example.cn").count(f"[Service desk] Your request {ticket.number} was closed") == 1


def test_a_cancelled_ticket_is_told_to_its_contact_without_an_account(
    call, li, agent, django_capture_on_commit_callbacks
):
    ticket = call(contact=li)

    with django_capture_on_commit_callbacks(execute=True):
        tickets.cancel(ticket, by=agent, reason="客户重复报修")

    assert mails_to("li@example.cn")[-1] == f"[Service desk] Your request {ticket.number} was cancelled"
    assert [message.body for message in mail.outbox if message.to == ["li@example.cn"]][-1] == "客户重复报修"


def test_a_contact_with_an_account_is_mailed_once_as_a_user(call, alice):
    # given the ticket's contact is alice's own, with her account
    alice.email = "alice@example.cn"
    alice.save()
    # when
    ticket = call(contact=alice.contact)
    # then
    assert mails_to("alice@example.cn") == [
        f"[Service desk] Your request {ticket.number} is logged: 核心交换机宕机"
    ]
    assert Notification.objects.filter(kind="ticket.logged", recipient=None).count() == 0


def test_a_contact_without_an_account_but_a_users_address_is_mailed_once(call, alice):
    # given a second contact record for alice, without the account, with her address
    alice.email = "alice@example.cn"
    alice.save()
    twin = ContactFactory(organisation=alice.contact.organisation, email="Alice@example.cn")
    # when
    ticket = call(contact=twin)
    # then
    assert mails_to("alice@example.cn") == [
        f"[Service desk] Your request {ticket.number} is logged: 核心交换机宕机"
    ]
    assert mails_to("Alice@example.cn") == []


def test_a_contact_hears_only_of_their_own_tickets(call, li, alice):
    call(contact=alice.contact)
    own = call(contact=li)

    assert mails_to("li@example.cn") == [
        f"[Service desk] Your request {own.number} is logged: 核心交换机宕机"
    ]
