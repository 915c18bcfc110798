from django.contrib.auth.forms import AuthenticationForm
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
