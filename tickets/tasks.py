from celery import shared_task

from .services import lifecycle


@shared_task(acks_late=True)
def auto_close_task() -> int:
    return lifecycle.auto_close()
