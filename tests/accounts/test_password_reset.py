"""
"Forgot your password?": a one-time link by e-mail, the same answer for any address (and when the
mail server fails), an answer that does not wait for the mail server, and a limit on how often
one may ask.
"""

import re
import smtplib
import threading

import pytest
from django.core import mail

from accounts import forms, throttle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Inline:
    """Sends at once, in the test's thread, what the form hands to its mail threads."""

    def submit(self, function, *args):
        function(*args)


@pytest.fixture(autouse=True)
def sent_at_once(monkeypatch, request):
    if "mail_threads" not in request.fixturenames:
        monkeypatch.setattr(forms, "outgoing", Inline())


class Recorded:
    """The form's own mail threads, as in production, keeping what was handed to them."""

    def __init__(self, pool):
        self.pool, self.futures = pool, []

    def submit(self, function, *args):
        self.futures.append(self.pool.submit(function, *args))
        return self.futures[-1]


@pytest.fixture
def mail_threads(monkeypatch):
    recorded = Recorded(forms.outgoing)
    monkeypatch.setattr(forms, "outgoing", recorded)
    return recorded


LINK = re.compile(r"http://testserver(/password/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", display_name="王卡罗", email="carol@example.cn")


def ask(client, email):
    return client.post("/password/reset/", {"email": email}, follow=True)


def link_in(message) -> str:
    return LINK.search(message.body).group(1)


def test_the_sign_in_page_offers_a_reset(client, english):
    page = client.get("/login/").content.decode()
    assert 'href="/password/reset/"' in page
    assert "Forgot your password?" in page


def test_a_person_sets_a_new_password_through_the_mailed_link(client, carol, english):
    response = ask(client, "Carol@Example.cn")
    assert "Check your e-mail" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.cn"]
    assert "carol" in message.body  # the username, which people forget too

    form = client.get(link_in(message), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-Pass-2027", "new_password2": "fresh-Pass-2027"},
        follow=True,
    )
    assert "Your new password is set" in done.content.decode()
    client.logout()
    assert client.login(username="carol", password="fresh-Pass-2027")
    client.logout()
    assert not client.login(username="carol", password="pass-word-1")


def test_the_link_works_once(client, carol, english):
    ask(client, "carol@example.cn")
    link = link_in(mail.outbox[0])
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "fresh-Pass-2027", "new_password2": "fresh-Pass-2027"}
    )
    again = client.get(link, follow=True).content.decode()
    assert "This link does not work" in again
    assert 'href="/password/reset/"' in again


def test_a_weak_or_mismatched_password_is_refused_and_nothing_changes(client, carol, english):
    ask(client, "carol@example.cn")
    form = client.get(link_in(mail.outbox[0]), follow=True)
    url = form.redirect_chain[-1][0]
    weak = client.post(url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200
    assert "too common" in weak.content.decode() or "entirely numeric" in weak.content.decode()
    mismatched = client.post(url, {"new_password1": "fresh-Pass-2027", "new_password2": "fresh-Pass-2028"})
    assert "didn’t match" in mismatched.content.decode()
    assert client.login(username="carol", password="pass-word-1")


def main(response) -> str:
    """The page's own content, without the header's per-request tokens."""
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, carol, english):
    known = main(ask(client, "carol@example.cn"))
    unknown = main(ask(client, "nobody@example.cn"))
    assert "Check your e-mail" in unknown
    assert known == unknown
    assert len(mail.outbox) == 1


def test_an_inactive_account_gets_no_link(client, carol):
    carol.is_active = False
    carol.save()
    ask(client, "carol@example.cn")
    assert mail.outbox == []


def test_a_malformed_address_is_refused_with_a_message(client, english):
    response = client.post("/password/reset/", {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert 'value="not an address"' in response.content.decode()  # what was typed stays


def test_asking_too_often_for_one_address_is_refused_for_a_while(client, carol, english):
    for _ in range(throttle.RESETS_PER_EMAIL):
        ask(client, "carol@example.cn")
    response = ask(client, "CAROL@example.cn")
    assert "Too many requests for a reset link" in response.content.decode()
    assert len(mail.outbox) == throttle.RESETS_PER_EMAIL


def test_one_client_asking_for_many_addresses_is_refused_for_a_while(client, carol, english):
    for number in range(throttle.RESETS_PER_ADDRESS):
        ask(client, f"someone{number}@example.cn")
    response = ask(client, "carol@example.cn")
    assert "Too many requests for a reset link" in response.content.decode()
    assert mail.outbox == []


def test_a_mail_server_that_fails_is_logged_and_tells_a_stranger_nothing(
    client, carol, english, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    unknown = main(ask(client, "nobody@example.cn"))
    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    response = ask(client, "carol@example.cn")
    assert response.status_code == 200
    assert main(response) == unknown
    assert "Password reset link not sent" in caplog.text


def test_the_answer_does_not_wait_for_the_mail_server(client, carol, english, monkeypatch, mail_threads):
    held = threading.Event()
    backend = "django.core.mail.backends.locmem.EmailBackend"
    send_messages = mail.get_connection(backend).__class__.send_messages

    def slow(self, messages):
        held.wait(timeout=30)
        return send_messages(self, messages)

    monkeypatch.setattr(f"{backend}.send_messages", slow)
    response = client.post("/password/reset/", {"email": "carol@example.cn"})
    assert response.status_code == 302  # answered while the mail server still holds the message
    assert mail.outbox == []
    held.set()
    for sending in mail_threads.futures:
        sending.result(timeout=30)
    assert [message.to for message in mail.outbox] == [["carol@example.cn"]]


def test_the_pages_and_the_mail_speak_chinese_by_default(client, carol):
    page = client.get("/password/reset/").content.decode()
    assert "重设密码" in page
    ask(client, "carol@example.cn")
    assert "新密码" in mail.outbox[0].subject
    assert "王卡罗" in mail.outbox[0].body
