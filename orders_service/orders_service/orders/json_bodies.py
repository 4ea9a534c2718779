"""The orders API's bodies as plain JSON, built without serializers where every request pays for them.

- ``order_as_json``: a just-placed order as the API shows it; ``orders.services`` stores it with the
  Idempotency-Key, so a repeat of the request answers the same body.
- ``order_row_as_json``: an ``order_rows`` row and its lines, for the list endpoint.
- ``request_fingerprint``: what identifies a request body, so that a key reused with another body is told
  apart from a repeat.

Both renderings give exactly what ``apis.OrderOutputSerializer`` gives for the same order
(``tests/apis/test_order_list_representation.py``); the serializer still describes the schema and
renders the detail and cancel responses.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from orders_service.orders.models import Order
from orders_service.orders.selectors import ORDER_ROW_FIELDS


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _timestamp(value: datetime) -> str:
    # As DRF's DateTimeField renders UTC: ISO 8601 with a "Z".
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def order_row_as_json(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``order_rows`` row and its lines, exactly as ``OrderOutputSerializer`` renders the order."""
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "items": [
            {"product_id": line["product_id"], "quantity": line["quantity"], "unit_price": _decimal(line["unit_price"])}
            for line in lines
        ],
        "total": _decimal(row["total"]),
        "currency": row["currency"],
        "reject_reason": row["reject_reason"],
        "created_at": _timestamp(row["created_at"]),
        "updated_at": _timestamp(row["updated_at"]),
    }


def order_as_json(order: Order) -> dict[str, Any]:
    """A just-placed order (lines in ``line_items``) as the API shows it, in plain JSON types (stored for replays)."""
    row = {name: getattr(order, name) for name in ORDER_ROW_FIELDS}
    lines = [
        {"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}
        for line in order.line_items
    ]
    return order_row_as_json(row, lines)


def request_fingerprint(body: object) -> str:
    """SHA-256 of the body's canonical JSON (sorted keys, no spaces): equal for equal bodies, whatever their order."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
