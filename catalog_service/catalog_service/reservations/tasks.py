"""The catalog side of the saga, as message handlers (see common.messaging.consumer)."""

import uuid
from typing import Any

from catalog_service.reservations import services
from common.messaging.consumer import message_handler


@message_handler("catalog.reserve_stock")
def reserve_stock(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    services.reservation_reserve(order_id=payload["order_id"], lines=payload["lines"])


@message_handler("catalog.release_stock")
def release_stock(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    services.reservation_release(order_id=payload["order_id"])
