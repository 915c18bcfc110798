"""A customer who forgot the password asks for a link, follows it from the e-mail, and is back in."""

import re
import time

import pytest
from django.core import mail
from playwright.sync_api import expect

from .harness import t

RUNS = [("zh-hans", "phone"), ("en", "desktop")]
NEW_PASSWORD = "Spring-Lotus-2027"


def mailbox(within: float = 15) -> list:
    """The e-mails sent so far, once the first has left (links leave from threads of their own)."""
    until = time.monotonic() + within
    while not mail.outbox and time.monotonic() < until:
        time.sleep(0.05)
    return mail.outbox


@pytest.mark.parametrize(("language", "viewport"), RUNS, ids=["-".join(run) for run in RUNS])
def test_a_customer_who_forgot_the_password_signs_in_again(
    page_as, world, shot, assert_accessible, language, viewport
):
    alice = world.alice
    alice.email = "alice@org-a.example.cn"
    alice.save(update_fields=["email"])
    page = page_as("alice", viewport=viewport, language=language, sign_in=False)

    # given: the sign-in page, and a password she no longer knows
    with page.expect_navigation():
        page.locator("main a[href='/password/reset/']").click()
    expect(page.locator("main h1")).to_have_text(t(language, "Reset your password"))
    assert_accessible(page)

    # when: she gives her address, in other letters' case than stored
    page.fill("#id_email", "Alice@Org-A.example.cn")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: she is told to look in her mailbox, where the link is, with her username
    expect(page.locator("main h1")).to_have_text(t(language, "Check your e-mail"))
    shot(page, "sent")
    assert [message.to for message in mailbox()] == [["alice@org-a.example.cn"]]
    body = mail.outbox[0].body
    assert "alice" in body
    link = re.search(r"https?://\S+/password/reset/\S+/\S+/", body).group(0)

    # when: she opens it and picks a password that is all digits
    page.goto(link)
    expect(page.locator("main h1")).to_have_text(t(language, "Choose a new password"))
    page.fill("#id_new_password1", "20271231")
    page.fill("#id_new_password2", "20271231")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: it is refused, with the reason, and she is still on the form
    expect(page.locator("main .field-new_password2 .error")).to_be_visible()
    shot(page, "refused")
    assert_accessible(page)

    # when: she picks a good one
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text(t(language, "Password set"))

    # then: she signs in with it and is on her portal; the link is spent
    with page.expect_navigation():
        page.locator("main a[href='/login/']").click()
    page.fill("#id_username", "alice")
    page.fill("#id_password", NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.url.endswith("/portal/")
    page.goto(link)
    expect(page.locator("main h1")).to_have_text(t(language, "This link does not work"))
