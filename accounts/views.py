from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from . import selectors
from .choices import Role
from .decorators import role_required
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
