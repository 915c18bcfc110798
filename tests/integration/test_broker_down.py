"""
The broker is down (nothing listens on its port): the hotline still logs calls, their e-mails wait
in the outbox as pending, and the outbox sweep sends them later (DESIGN.md: "If Redis is down, no
request fails and nothing is lost").

Tasks are sent for real here (not run eagerly as the test settings do), to a closed port; no Redis
is needed.
"""

import os
from contextlib import contextmanager
from datetime import timedelta

import kombu.pools
import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications import services as outbox
from notifications.choices import Channel, Status
from notifications.models import Notification
from servicedesk.celery import app as celery_app
from tickets.choices import Kind, Level
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = "redis://127.0.0.1:1/0"
ENV_URLS = ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL")


def _drop_broker_connections() -> None:
    """Forget every pooled broker connection, so the next send connects to the current URL."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@contextmanager
def broker_at(url: str):
    """
    Send tasks to the broker at `url` instead of running them here. Celery reads the
    CELERY_BROKER_URL environment variable before its setting, so both change.
    """
    saved_env = {name: os.environ.get(name) for name in ENV_URLS}
    saved_url, saved_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    _drop_broker_connections()
    os.environ.pop("CELERY_BROKER_WRITE_URL", None)
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        celery_app.conf.broker_url = saved_url
        celery_app.conf.task_always_eager = saved_eager
        _drop_broker_connections()


def log_call_at_intake(client, device, team, assignee=None) -> Ticket:
    """The agent logs a Level I fault for `team` (and `assignee`, if given) on the intake page."""
    response = client.post(
        "/intake/",
        {
            # Nobody named: the agent says so (the team picks the call up).
            **({"assignee": assignee.pk} if assignee else {"leave_with_team": "on"}),
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
            "action": "log",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/intake/?logged={ticket.number}"
    return ticket


def test_with_the_broker_down_a_call_is_logged_and_its_emails_wait_for_the_sweep(
    client, agent, device, team, caplog
):
    # given: the broker's port is closed
    client.force_login(agent)
    with broker_at(CLOSED_PORT):
        # when: the hotline logs a call for a team of two
        ticket = log_call_at_intake(client, device, team)

    # then: the call is logged, the team sees it in the application, and its e-mails are
    # pending in the outbox, not lost
    assert ticket.team == team
    rows = Notification.objects.filter(kind="ticket.assigned")
    assert set(rows.filter(channel=Channel.IN_APP).values_list("recipient__username", "status")) == {
        ("engineer", Status.SENT),
        ("supervisor", Status.SENT),
    }
    emails = rows.filter(channel=Channel.EMAIL)
    assert set(emails.values_list("recipient__username", "status", "attempts")) == {
        ("engineer", Status.PENDING, 0),
        ("supervisor", Status.PENDING, 0),
    }
    assert "not handed to a worker" in caplog.text
    assert mail.outbox == []

    # when: the broker is back and the outbox sweep runs 31 s later
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        sent = outbox.deliver_pending()

    # then: both e-mails went out, once
    assert sent == 2
    assert set(emails.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "engineer@example.cn",
        "supervisor@example.cn",
    ]
    assert all(ticket.number in message.subject for message in mail.outbox)
    # and the sweep after that has nothing left to send
    with time_machine.travel(timezone.now() + timedelta(seconds=62), tick=False):
        assert outbox.deliver_pending() == 0
    assert len(mail.outbox) == 2


def test_with_the_broker_down_logging_a_call_is_not_held_up_by_the_handover(
    client, agent, device, team, engineer, broker_connection_attempts
):
    # given: the broker's port is closed
    client.force_login(agent)
    with broker_at(CLOSED_PORT):
        # when: the hotline logs a call assigned to an engineer (one e-mail to hand over)
        log_call_at_intake(client, device, team, assignee=engineer)
    # then: the hand-over tried the broker once and gave up (no retries inside the request)
    assert len(broker_connection_attempts) == 1, broker_connection_attempts
