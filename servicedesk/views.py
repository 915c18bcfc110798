from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.views import defaults

from accounts.choices import Role

from .middleware import refusal

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


def bad_request(request, exception):
    """
    A request Django refused to read: a body too large is 413, too many fields or files 400, each
    with the reason in plain words; anything else (a forged host) Django's plain 400. Under /api/
    the answer is JSON.
    """
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        message = gettext("The text of the request is larger than %(limit)s, the most accepted.") % {
            "limit": limit
        }
        return refusal(request, message, status=413)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return refusal(request, gettext("The request has too many fields or files."), status=400)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("The request could not be read.")}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request):
    """500: JSON under /api/ (clients parse every answer), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        message = gettext("The server failed to answer. The error is logged; try again later.")
        return JsonResponse({"detail": message}, status=500)
    return defaults.server_error(request)


def page_not_found(request, exception):
    """404: JSON under /api/ (an address no API route matches), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
