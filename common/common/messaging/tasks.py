"""The outbox relay of this service: task ``<queue>.relay_outbox``, sent by the scheduler to the service's queue."""

from celery import shared_task
from django.conf import settings

from common.messaging.outbox import outbox_relay

RELAY_TASK_NAME = f"{settings.CELERY_TASK_DEFAULT_QUEUE}.relay_outbox"


@shared_task(name=RELAY_TASK_NAME, ignore_result=True)
def relay_outbox() -> int:
    """Send what the outbox still holds; safe to run any number of times, in parallel too."""
    return outbox_relay()
