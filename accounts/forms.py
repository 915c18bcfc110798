from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import throttle


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
        return super().clean()


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
