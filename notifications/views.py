from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from . import services
from .models import Notification

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request):
    """The user's in-app notifications, newest first; unread ones stand out."""
    notifications = Notification.objects.inbox(request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def read(request, pk):
    """Mark one notification read and open what it is about."""
    notification = services.mark_read(request.user, pk)
    return redirect(_local_path(notification.url) or "notifications:list")


@login_required
@require_POST
def read_all(request):
    services.mark_all_read(request.user)
    return redirect("notifications:list")


@require_GET
def count(request):
    """The bell with its unread count, polled by the header (htmx)."""
    if not request.user.is_authenticated:
        # htmx would paste the login page into the header; No Content leaves the bell alone.
        return HttpResponse(status=204)
    return render(request, "notifications/bell.html")


def _local_path(url: str) -> str:
    """`url` if it is a path on this site, else "": a notification never sends anyone away."""
    is_local = url.startswith("/") and not url.startswith("//")
    return url if is_local and url_has_allowed_host_and_scheme(url, allowed_hosts=None) else ""
