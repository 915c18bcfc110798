from django.utils.functional import SimpleLazyObject

from .models import Notification


def unread(request):
    """The signed-in user's unread in-app count for the header bell, counted only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient=user).unread().count()
        )
    }
