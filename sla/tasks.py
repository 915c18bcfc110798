from celery import shared_task

from . import services


@shared_task(acks_late=True)
def sweep_deadlines_task() -> dict:
    return services.sweep().as_dict()
