"""Sign-in throttling on every way in: the login page, the API token, and the admin login."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import throttle

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
def test_concurrent_attempts_cannot_slip_past_the_limit(agent):
    def attempt(_):
        return Client().post("/login/", {"username": "agent", "password": "wrong"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, range(24)))
    connections.close_all()
    assert throttle.is_locked("agent", None)
    assert Client().post("/login/", {"username": "agent", "password": "pass-word-1"}).status_code == 200


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
