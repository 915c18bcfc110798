import logging
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from django.utils.translation import gettext_lazy as _

from . import throttle

log = logging.getLogger(__name__)

# Reset links leave from threads of their own: "send me a link" is then answered as fast whether
# or not an account has the address (the mail server's round trip would tell), and a slow mail
# server holds no one up. A link lost with its process is simply asked for again.
outgoing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-reset-mail")


class LoginForm(AuthenticationForm):
    """The sign-in form; says plainly when the account or the address is locked out for a while."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed sign-in attempts. Wait 15 minutes and try again."),
    }

    def clean(self):
        username = self.cleaned_data.get("username", "")
        if throttle.is_locked(username, self.request):
            raise ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except ValidationError:
            # Another attempt took the last one while this one was on its way (see the backend).
            if getattr(self.request, "sign_in_locked", False):
                raise ValidationError(self.error_messages["locked"], code="locked") from None
            raise


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """
    A signed-in user's new password; the old one is checked under the account's sign-in
    throttle, so a session left open cannot be used to guess it.
    """

    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        "locked": _("Too many wrong passwords for this account. Wait 15 minutes and try again."),
    }

    def clean_old_password(self):
        username = self.user.get_username()
        # Counted before the password is checked, as at sign-in (per account: the session is known).
        if not throttle.begin_attempt(username, None, per_address=False):
            raise ValidationError(self.error_messages["locked"], code="locked")
        old_password = super().clean_old_password()
        throttle.succeeded(username, None, per_address=False)
        return old_password


class PasswordResetRequestForm(PasswordResetForm):
    """
    The e-mail address of an account, to send it a link for choosing a new password. The answer
    is the same whether or not an account has that address, so nobody learns who has one; an
    address or a client asking too often is refused for a while.
    """

    error_messages = {
        "throttled": _("Too many requests for a reset link. Wait 15 minutes and try again."),
    }

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autofocus=True, autocomplete="email")

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email and not throttle.allow_reset_request(email, self.request):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        return cleaned

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        """Write the message here, in the asker's language; hand its sending to `outgoing`."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        outgoing.submit(_send, message, context["user"].pk)


def _send(message: EmailMultiAlternatives, user_pk: int) -> None:
    try:
        message.send()
    except Exception:
        log.exception("Password reset link not sent to user %s: the mail server did not take it", user_pk)
