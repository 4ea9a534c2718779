"""The orders side of the saga: catalog's answers, and the periodic re-drive of stuck orders."""

import uuid
from typing import Any

from celery import shared_task

from common.messaging.consumer import message_handler
from orders_service.orders import services


@message_handler("orders.stock_reserved")
def stock_reserved(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    services.order_confirm(order_id=payload["order_id"], currency=payload["currency"], priced_lines=payload["lines"])


@message_handler("orders.stock_rejected")
def stock_rejected(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    services.order_reject(order_id=payload["order_id"], reason=payload["reason"])


@message_handler("orders.stock_released")
def stock_released(*, message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    services.order_mark_cancelled(order_id=payload["order_id"])


@shared_task(name="orders.redrive_stuck_orders", ignore_result=True)
def redrive_stuck_orders() -> int:
    """Periodic (common.celery_app.PERIODIC_TASKS): drive on orders stuck past ORDERS_SAGA_TIMEOUT_SECONDS."""
    return services.orders_redrive_stuck()
