"""Sign-in throttling on every way in: the login page, the API token, and the admin login."""

import threading

import pytest
import yaml
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import throttle
from accounts.models import User

pytestmark = pytest.mark.django_db


def fail(client, username="agent", **extra):
    return client.post("/login/", {"username": username, "password": "wrong"}, **extra)


def test_account_locks_after_five_failures_even_with_the_right_password(client, agent, english):
    for _ in range(throttle.FAILURES_PER_ACCOUNT):
        fail(client)
    response = client.post("/login/", {"username": "agent", "password": "pass-word-1"})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_success_before_the_limit_clears_the_account_counter(client, agent):
    for _ in range(throttle.FAILURES_PER_ACCOUNT - 1):
        fail(client)
    assert client.post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 302
    client.logout()
    fail(client)
    assert client.post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 302


def test_the_username_is_counted_without_regard_to_case(client, agent):
    for name in ["agent", "AGENT", " Agent "] + ["agent"] * (throttle.FAILURES_PER_ACCOUNT - 3):
        fail(client, name)
    response = client.post("/login/", {"username": "agent", "password": "pass-word-1"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_check_exactly_five(agent, monkeypatch):
    """
    Twenty wrong passwords for one account at once (issue 10, 2.8): exactly five are checked.
    All twenty start together (a barrier), and each password check waits until every attempt has
    either reached its check or been refused, so the checks that happen are in flight together.
    """
    attempts = 20
    start = threading.Barrier(attempts)
    progress = threading.Condition()
    checkers: set[int] = set()
    refused = in_check = most_in_check = 0
    check_password = User.check_password

    def counted_check(user, raw_password):
        nonlocal in_check, most_in_check
        with progress:
            checkers.add(threading.get_ident())
            in_check += 1
            most_in_check = max(most_in_check, in_check)
            progress.notify_all()
            # A safety net, not an assertion: without it a bug here would hang the suite.
            progress.wait_for(lambda: len(checkers) + refused == attempts, timeout=60)
        try:
            return check_password(user, raw_password)
        finally:
            with progress:
                in_check -= 1

    def attempt():
        nonlocal refused
        try:
            start.wait()
            statuses.append(Client().post("/login/", {"username": "agent", "password": "wrong"}).status_code)
            with progress:
                if threading.get_ident() not in checkers:
                    refused += 1
                    progress.notify_all()
        finally:
            connections.close_all()

    monkeypatch.setattr(User, "check_password", counted_check)
    statuses: list[int] = []
    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()

    assert statuses == [200] * attempts
    assert len(checkers) == throttle.FAILURES_PER_ACCOUNT
    assert refused == attempts - throttle.FAILURES_PER_ACCOUNT
    assert most_in_check > 1, "the attempts did not overlap"
    assert throttle.is_locked("agent", None)
    assert Client().post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 200


def test_password_change_checks_the_old_password_under_the_account_throttle(client, agent, english):
    """Issue 10, 2.8: a session left open cannot be used to guess the account's password."""
    client.force_login(agent)
    first, second = "Lantern-Harbour-42", "Quarry-Meadow-77"

    def change(old, new):
        return client.post("/password/", {"old_password": old, "new_password1": new, "new_password2": new})

    # four wrong guesses, then the right one: changed, and the account starts afresh
    for _ in range(throttle.FAILURES_PER_ACCOUNT - 1):
        assert "Your old password was entered incorrectly" in change("guess", first).content.decode()
    assert change("pass-word-1", first).status_code == 302
    # five wrong guesses: the sixth attempt is refused before the password is looked at
    for _ in range(throttle.FAILURES_PER_ACCOUNT):
        response = change("guess", second)
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = change(first, second)
    assert response.status_code == 200
    assert "Too many wrong passwords for this account" in response.content.decode()
    agent.refresh_from_db()
    assert agent.check_password(first)


def test_a_forged_forwarding_header_does_not_reset_the_address(client, agent, engineer):
    for number in range(throttle.FAILURES_PER_ADDRESS):
        fail(client, f"nobody{number}", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    response = client.post("/login/", {"username": "engineer", "password": "pass-word-1"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_a_trusted_proxy_header_is_believed(settings, client, agent):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(throttle.FAILURES_PER_ADDRESS):
        fail(client, f"nobody{number}", HTTP_X_FORWARDED_FOR="203.0.113.7")
    response = client.post(
        "/login/", {"username": "agent", "password": "pass-word-1"}, HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert response.status_code == 302


def test_wrong_api_tokens_lock_the_address_out(agent):
    token = Token.objects.create(user=agent)
    api = APIClient()
    for number in range(throttle.FAILURES_PER_ADDRESS):
        assert api.get("/api/tickets/", HTTP_AUTHORIZATION=f"Token wrong{number}").status_code == 401
    locked = api.get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert locked.status_code == 429


def test_made_up_tokens_do_not_lock_sign_in_or_sessions(agent, engineer):
    """Issue 10, 2.1: twenty made-up tokens lock out further tokens from the address, nothing else."""
    signed_in = Client()
    signed_in.force_login(engineer)
    api = APIClient()
    for number in range(throttle.FAILURES_PER_ADDRESS):
        assert api.get("/api/tickets/", HTTP_AUTHORIZATION=f"Token made-up{number}").status_code == 401
    # a session already signed in keeps working, on the API and on the pages
    assert signed_in.get("/api/tickets/").status_code == 200
    assert signed_in.get("/work/").status_code == 200
    # and someone at the same address signs in with a password, then uses the API by session
    client = Client()
    assert client.post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 302
    assert client.get("/api/tickets/").status_code == 200
    # while a further token from that address is still refused
    assert api.get("/api/tickets/", HTTP_AUTHORIZATION="Token made-up-again").status_code == 429


def test_wrong_passwords_do_not_lock_out_api_tokens(agent):
    token = Token.objects.create(user=agent)
    client = Client()
    for number in range(throttle.FAILURES_PER_ADDRESS):
        fail(client, f"nobody{number}")
    assert APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_docker_compose_tells_the_web_service_how_many_proxies_to_trust():
    """Issue 10, 2.1: behind the TLS proxy the address counted is the client's, not the proxy's."""
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    environment = compose["services"]["web"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_the_admin_login_is_throttled_too(client, admin_user):
    for _ in range(throttle.FAILURES_PER_ACCOUNT):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    client.post("/admin/login/", {"username": "admin", "password": "pass-word-1"})
    assert "_auth_user_id" not in client.session


class UnreachableCache:
    """A shared cache whose server is down: every call raises, as Django's Redis cache does."""

    def __getattr__(self, name):
        def refuse(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return refuse


def test_with_the_shared_cache_down_sign_in_works_and_is_still_throttled(client, agent, monkeypatch):
    monkeypatch.setattr(throttle, "cache", UnreachableCache())
    monkeypatch.setattr(throttle, "_local", type(throttle._local)("throttle-test", {}))
    # the right password signs in
    assert client.post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 302
    client.logout()
    # and failures are counted in the process's memory meanwhile: the sixth attempt is refused
    for _ in range(throttle.FAILURES_PER_ACCOUNT):
        assert fail(client).status_code == 200
    response = client.post("/login/", {"username": "agent", "password": "pass-word-1"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
