"""A digest of many lapsing deadlines links every ticket it lists: in the e-mail and in the application."""

import pytest
from django.core import mail

from notifications import services as outbox
from notifications.choices import Channel
from notifications.models import Notification
from sla import services as clock_services
from tests.sla.conftest import shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MONDAY_10 = shanghai(2026, 11, 23, 10, 0)
# Level I responses (30 minutes, 7x24) warn at 75 %: 10:22:30.
WARNING_AT = shanghai(2026, 11, 23, 10, 22, 30)


@pytest.fixture
def outage(clock, make_ticket, engineer, settings):
    """Three Level I faults of the engineer warned in one sweep, with a digest after two."""
    settings.SLA_DIGEST_AFTER = 2
    settings.SITE_URL = "https://desk.example.com/"
    engineer.email = "engineer@example.cn"
    engineer.save()
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(title=f"核心交换机宕机 {n}") for n in range(3)]
    clock.move_to(WARNING_AT)
    clock_services.sweep()
    return tickets


def test_the_digest_email_gives_each_tickets_address(outage, engineer):
    # given the engineer's digest e-mail
    email = Notification.objects.get(recipient=engineer, kind="ticket.sla_warning", channel=Channel.EMAIL)
    # then: each ticket's subject, with its full address on the site's configured URL under it
    numbers = [ticket.number for ticket in outage]
    assert email.subject == "3 ticket deadlines due soon"
    assert email.body == "\n\n".join(
        f"{number}: First response due soon\nhttps://desk.example.com/tickets/{number}/" for number in numbers
    )
    # when it is sent, the mail reads so, then the ticket list's address
    mail.outbox.clear()
    assert outbox.deliver(email)
    assert mail.outbox[0].body.splitlines() == [
        f"{numbers[0]}: First response due soon",
        f"https://desk.example.com/tickets/{numbers[0]}/",
        "",
        f"{numbers[1]}: First response due soon",
        f"https://desk.example.com/tickets/{numbers[1]}/",
        "",
        f"{numbers[2]}: First response due soon",
        f"https://desk.example.com/tickets/{numbers[2]}/",
        "",
        "https://desk.example.com/tickets/",
    ]


def test_the_in_app_digest_links_each_ticket_number(outage, engineer, client):
    # given
    client.force_login(engineer)
    # when the engineer opens the notifications
    page = client.get("/notifications/").content.decode()
    # then: each ticket number in the digest is a link to the ticket
    lines = [
        f'<a href="/tickets/{ticket.number}/">{ticket.number}</a>: First response due soon'
        for ticket in outage
    ]
    assert f"<p>{'<br>'.join(lines)}</p>" in page
    # and the digest is marked unread with that word
    assert '<mark class="unread-mark">Unread</mark> 3 ticket deadlines due soon' in page


def test_a_long_digest_links_the_first_fifty_and_counts_the_rest(clock, make_ticket, engineer, settings):
    # given 52 warnings at once
    settings.SLA_DIGEST_AFTER = 2
    settings.SITE_URL = "https://desk.example.com"
    engineer.email = "engineer@example.cn"
    engineer.save()
    clock.move_to(MONDAY_10)
    tickets = [make_ticket(title=f"宕机 {n}") for n in range(52)]
    clock.move_to(WARNING_AT)
    # when
    clock_services.sweep()
    # then: fifty tickets with their addresses, and the two left over counted
    email = Notification.objects.get(recipient=engineer, kind="ticket.sla_warning", channel=Channel.EMAIL)
    paragraphs = email.body.split("\n\n")
    assert len(paragraphs) == 51
    assert paragraphs[49] == (
        f"{tickets[49].number}: First response due soon\nhttps://desk.example.com/tickets/{tickets[49].number}/"
    )
    assert paragraphs[50] == "… and 2 more."
