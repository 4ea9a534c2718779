"""The handler of ``<this service's queue>.user_deactivated`` (catalog.user_deactivated, orders.user_deactivated)."""

from django.conf import settings
from django.utils.dateparse import parse_datetime

from common.auth.deactivations.services import deactivation_record
from common.messaging.consumer import message_handler


@message_handler(f"{settings.CELERY_TASK_DEFAULT_QUEUE}.user_deactivated")
def user_deactivated(*, message_id, payload: dict) -> None:
    deactivation_record(
        user_id=payload["user_id"],
        username=payload["username"],
        deactivated_at=parse_datetime(payload["deactivated_at"]),
    )
