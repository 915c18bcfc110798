"""
Two engineers save the same ticket at the same moment: one wins, the other is told the ticket changed
(409) and gets back what they typed, and nothing is lost (DESIGN.md: "a stale update is refused
(HTTP 409 / form error), never silently overwritten").

Both have read the ticket at the same version; one records the first response to the customer, the
other writes a comment; the two requests are released together from two threads (two database
connections), through the pages and through the API. The service locks the ticket's row and checks
the version, so exactly one of them goes through. The refused one then sends again with the version
the refusal showed, and both records are there.
"""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from tickets.choices import Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESPONSE_NOTE = "已电话联系客户，约定明早九点上门更换电源模块"
COMMENT = "远程查看日志：电源模块二号告警，备件已申请"


def together(*requests):
    """Run the requests in threads released at one instant; return their responses in order."""
    barrier = threading.Barrier(len(requests))
    responses, errors = [None] * len(requests), []

    def run(index, request):
        try:
            barrier.wait(timeout=10)
            responses[index] = request()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish within 30 s"
    if errors:
        raise errors[0]
    return responses


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_e_two_engineers_saving_the_same_ticket_on_its_page(make_ticket, engineer, colleague):
    # given: the assigned engineer and a colleague of the team have the ticket's page open
    ticket = make_ticket()
    version = ticket.version
    first, second = browser(engineer), browser(colleague)
    page = reverse("tickets:detail", args=[ticket.number])
    assert first.get(page).status_code == second.get(page).status_code == 200
    respond = reverse("tickets:act", args=[ticket.number, "respond"])
    comment = reverse("tickets:comment", args=[ticket.number])

    # when: both save at the same moment, with the version they read
    responded, commented = together(
        lambda: first.post(respond, {"version": version, "note": RESPONSE_NOTE}),
        lambda: second.post(comment, {"version": version, "body": COMMENT}),
    )

    # then: one went through, the other was refused as stale, with its text shown back
    statuses = sorted([responded.status_code, commented.status_code])
    assert statuses == [302, 409], statuses
    loser, retry = (
        (commented, lambda v: second.post(comment, {"version": v, "body": COMMENT}))
        if commented.status_code == 409
        else (responded, lambda v: first.post(respond, {"version": v, "note": RESPONSE_NOTE}))
    )
    text = loser.content.decode()
    assert "changed by someone else" in text
    assert (COMMENT if loser is commented else RESPONSE_NOTE) in text
    ticket.refresh_from_db()
    assert ticket.version == version + 1
    assert f'name="version" value="{ticket.version}"' in text, "the refusal offers the current version"

    # when: the refused engineer sends again, on the ticket as it is now
    assert retry(ticket.version).status_code == 302

    # then: both records are there, once each
    ticket.refresh_from_db()
    assert ticket.version == version + 2
    assert list(ticket.comments.values_list("body", flat=True)) == [COMMENT]
    assert ticket.events.filter(kind=Event.COMMENTED).count() == 1
    assert ticket.events.filter(note__contains=RESPONSE_NOTE).count() == 1


def test_e_two_engineers_saving_the_same_ticket_through_the_api(make_ticket, engineer, colleague):
    # given: two engineers of the team who read the ticket at the same version
    ticket = make_ticket()
    version = ticket.version
    first, second = browser(engineer), browser(colleague)
    respond = f"/api/tickets/{ticket.number}/respond/"
    comment = f"/api/tickets/{ticket.number}/comment/"

    def post(client, path, data):
        return client.post(path, data, content_type="application/json")

    # when: both post at the same moment
    responded, commented = together(
        lambda: post(first, respond, {"version": version, "note": RESPONSE_NOTE}),
        lambda: post(second, comment, {"version": version, "body": COMMENT}),
    )

    # then: one 200, one 409 that carries the ticket as it is now
    assert sorted([responded.status_code, commented.status_code]) == [200, 409]
    loser = responded if responded.status_code == 409 else commented
    current = loser.json()["current"]
    assert current["number"] == ticket.number
    assert current["version"] == version + 1
    # when: the refused one sends again with that version
    if loser is commented:
        again = post(second, comment, {"version": current["version"], "body": COMMENT})
    else:
        again = post(first, respond, {"version": current["version"], "note": RESPONSE_NOTE})
    # then: both records are there, once each
    assert again.status_code == 200
    ticket.refresh_from_db()
    assert ticket.version == version + 2
    assert list(ticket.comments.values_list("body", flat=True)) == [COMMENT]
    assert ticket.events.filter(note__contains=RESPONSE_NOTE).count() == 1
