from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views import defaults

from accounts.choices import Role

HOME_BY_ROLE = {
    Role.AGENT: "tickets:intake",
    Role.ENGINEER: "tickets:my_work",
    Role.MANAGER: "accounts:dashboard",
    Role.ADMIN: "accounts:dashboard",
    Role.CUSTOMER: "tickets:portal",
}


@login_required
def home(request):
    """Send each user to the page their role starts the day on."""
    return redirect(HOME_BY_ROLE[request.user.role])


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request, exception):
    """404: JSON under /api/ (an address no API route matches), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
