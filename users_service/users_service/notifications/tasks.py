"""users.notify_order_status: orders tells the customer about a final status of their order."""

import uuid
from typing import Any

from common.messaging.consumer import message_handler
from users_service.notifications.services import notification_send


@message_handler("users.notify_order_status")
def notify_order_status(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    notification_send(
        user_id=payload["user_id"],
        order_id=payload["order_id"],
        status=payload["status"],
        total=payload["total"],
        currency=payload["currency"],
        reason=payload["reason"],
    )
