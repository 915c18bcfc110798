from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from . import selectors
from .choices import Role
from .decorators import role_required
from .forms import PasswordResetRequestForm
from .models import SupportCentre


@role_required(Role.MANAGER, Role.ADMIN)
def dashboard(request):
    """The manager's home: each support centre with its teams and the person on duty right now."""
    now = timezone.now()
    centres = SupportCentre.objects.select_related("manager").prefetch_related(
        "provinces", "teams__supervisor", "teams__members"
    )
    if request.user.role == Role.MANAGER:
        centres = centres.filter(Q(manager=request.user) | Q(pk=request.user.centre_id))
    rows = [(centre, selectors.on_duty(centre, now)) for centre in centres]
    return render(request, "accounts/dashboard.html", {"rows": rows, "now": now})


class PasswordResetRequestView(auth_views.PasswordResetView):
    """
    "Forgot your password?": mails a one-time link to the account with that address, from a
    thread of its own rather than through the outbox, so that no usable link waits in a table.
    When the mail server fails it is logged and the page says what it always says: an error shown
    only for addresses that have an account would tell a stranger which ones do.
    """

    form_class = PasswordResetRequestForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    extra_email_context = {"valid_hours": max(settings.PASSWORD_RESET_TIMEOUT // 3600, 1)}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
