from celery import shared_task

from . import services


@shared_task(acks_late=True)
def expire_contracts_task() -> int:
    return services.expire_contracts()
