from celery import shared_task

from .services import lifecycle, staging


@shared_task(acks_late=True)
def auto_close_task() -> int:
    return lifecycle.auto_close()


@shared_task(acks_late=True)
def delete_old_staged_uploads_task() -> int:
    return staging.delete_old()
