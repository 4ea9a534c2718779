"""The handler of ``<this service's queue>.user_deactivated`` (catalog.user_deactivated, orders.user_deactivated)."""

import uuid
from datetime import datetime
from typing import cast

from django.conf import settings
from django.utils.dateparse import parse_datetime

from common.auth.deactivations.services import deactivation_record
from common.messaging.consumer import message_handler
from common.messaging.contracts import JSONObject


@message_handler(f"{settings.CELERY_TASK_DEFAULT_QUEUE}.user_deactivated")
def user_deactivated(*, message_id: uuid.UUID, payload: JSONObject) -> None:
    deactivation_record(
        user_id=payload["user_id"],
        username=payload["username"],
        # The contract's date-time, written by users_service with isoformat(). The schema does not check the
        # format, so a malformed one would be None here, as it always was (typed as the contract means it).
        deactivated_at=cast(datetime, parse_datetime(payload["deactivated_at"])),
    )
