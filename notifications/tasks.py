from celery import shared_task

from . import services
from .models import Notification


@shared_task(bind=True, acks_late=True, max_retries=8)
def deliver_notification_task(self, notification_id: int) -> bool:
    notification = (
        Notification.objects.select_related("recipient", "robot").filter(pk=notification_id).first()
    )
    if notification is None:
        return False
    try:
        return services.deliver(notification)
    except services.DeliveryFailed as exc:
        if exc.final:
            return False
        # 1, 2, 4 … minutes, at most an hour: the same wait the row records for the sweep.
        countdown = services.retry_delay(self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True)
def deliver_notifications_task(notification_ids: list[int]) -> int:
    """A chunk of a large hand-over (an SLA sweep's messages); see `services.deliver_each`."""
    return services.deliver_each(notification_ids)


@shared_task(acks_late=True)
def deliver_pending_task() -> int:
    return services.deliver_pending()
