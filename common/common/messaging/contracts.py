"""The messages between the services: name, consumer queue, version and payload schema.

A message is a Celery task sent by name to its consumer's queue. Its name is
``<consumer>.<verb>`` and the consumer's queue is the part before the dot. The
payload is JSON and is checked against the contract's JSON Schema twice: by
the sender before the message is written to its outbox, and by the consumer
before its handler runs (a payload that fails there is parked as a dead
letter at once: retrying cannot fix it).

To change a payload incompatibly, add a new version: the consumer accepts
every version listed in ``schemas`` and the sender writes ``version``.

To add a message, add a ``Contract`` to ``CONTRACTS`` below; the sender calls
``outbox.enqueue(name, payload)`` and the consumer decorates its handler with
``@message_handler(name)``.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jsonschema_rs

JSONObject = dict[str, Any]
"""A JSON object as ``json.loads`` returns it: a payload, an envelope, a JSON Schema."""


class InvalidMessage(Exception):
    """A message that does not match its contract; the text says why."""


UUID_SCHEMA = {
    "type": "string",
    "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
}
DECIMAL_SCHEMA = {"type": "string", "pattern": r"^-?\d{1,12}(\.\d{1,6})?$"}
CURRENCY_SCHEMA = {"type": "string", "pattern": "^[A-Z]{3}$"}
PRODUCT_ID_SCHEMA = {"type": "integer", "minimum": 1}
QUANTITY_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 1000}
MAX_LINES = 50


def _object(properties: dict[str, JSONObject], *, optional: tuple[str, ...] = ()) -> JSONObject:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Contract:
    """One message: who consumes it, which version senders write, the schema of each version."""

    name: str
    description: str
    schemas: dict[int, JSONObject] = field(hash=False)
    version: int = 1

    @property
    def queue(self) -> str:
        """The consumer's queue: the part of the name before the dot."""
        return self.name.split(".", 1)[0]

    @cached_property
    def _validators(self) -> dict[int, jsonschema_rs.Draft202012Validator]:
        # jsonschema-rs: every message is validated twice (sender and consumer), and the pure-Python
        # jsonschema took 0.07 ms a payload here, this 0.001 ms.
        return {version: jsonschema_rs.Draft202012Validator(schema) for version, schema in self.schemas.items()}

    def validate(self, payload: object, *, version: int | None = None) -> None:
        """Raise ``InvalidMessage`` unless ``payload`` matches the schema of ``version`` (default: current)."""
        version = self.version if version is None else version
        validator = self._validators.get(version)
        if validator is None:
            raise InvalidMessage(f"{self.name}: unknown version {version!r} (accepted: {sorted(self.schemas)})")
        try:
            validator.validate(payload)
        except jsonschema_rs.ValidationError as error:
            where = "/".join(str(part) for part in error.instance_path) or "payload"
            raise InvalidMessage(f"{self.name} v{version}: {where}: {error.message}") from error


_ORDER_LINE = _object({"product_id": PRODUCT_ID_SCHEMA, "quantity": QUANTITY_SCHEMA})
_PRICED_LINE = _object({"product_id": PRODUCT_ID_SCHEMA, "quantity": QUANTITY_SCHEMA, "unit_price": DECIMAL_SCHEMA})
ORDER_STATUSES_NOTIFIED = ["confirmed", "rejected", "cancelled"]
_USER_DEACTIVATED = _object(
    {
        "user_id": {"type": "integer", "minimum": 1},
        "username": {"type": "string", "minLength": 1, "maxLength": 150},
        "deactivated_at": {"type": "string", "format": "date-time", "minLength": 20},
    }
)

CONTRACTS: dict[str, Contract] = {
    contract.name: contract
    for contract in [
        Contract(
            name="catalog.reserve_stock",
            description="Reserve every line of a pending order, or none; answer stock_reserved or stock_rejected.",
            schemas={
                1: _object(
                    {
                        "order_id": UUID_SCHEMA,
                        "lines": {"type": "array", "items": _ORDER_LINE, "minItems": 1, "maxItems": MAX_LINES},
                    }
                )
            },
        ),
        Contract(
            name="orders.stock_reserved",
            description="Catalog reserved every line; the lines carry the unit prices, all in one currency.",
            schemas={
                1: _object(
                    {
                        "order_id": UUID_SCHEMA,
                        "currency": CURRENCY_SCHEMA,
                        "lines": {"type": "array", "items": _PRICED_LINE, "minItems": 1, "maxItems": MAX_LINES},
                    }
                )
            },
        ),
        Contract(
            name="orders.stock_rejected",
            description="Catalog reserved nothing; the reason is fit to show the customer.",
            schemas={1: _object({"order_id": UUID_SCHEMA, "reason": {"type": "string", "minLength": 1}})},
        ),
        Contract(
            name="catalog.release_stock",
            description="Give back the stock reserved for an order being cancelled; answer stock_released.",
            schemas={1: _object({"order_id": UUID_SCHEMA})},
        ),
        Contract(
            name="orders.stock_released",
            description="Catalog gave back the order's stock (or held none).",
            schemas={1: _object({"order_id": UUID_SCHEMA})},
        ),
        Contract(
            name="users.notify_order_status",
            description="Tell the customer that their order reached a final status (once per order and status).",
            schemas={
                1: _object(
                    {
                        "order_id": UUID_SCHEMA,
                        "user_id": {"type": "integer"},
                        "status": {"enum": ORDER_STATUSES_NOTIFIED},
                        "total": {"anyOf": [DECIMAL_SCHEMA, {"type": "null"}]},
                        "currency": {"anyOf": [CURRENCY_SCHEMA, {"type": "null"}]},
                        "reason": {"type": ["string", "null"]},
                    }
                )
            },
        ),
        *[
            Contract(
                name=f"{consumer}.user_deactivated",
                description=(
                    "An operator deactivated this account: refuse its tokens issued up to deactivated_at,"
                    " and lock its mirrored admin user (common.auth.deactivations)."
                ),
                schemas={1: _USER_DEACTIVATED},
            )
            for consumer in ("catalog", "orders")
        ],
    ]
}


def contract_for(name: str) -> Contract:
    """The contract of message ``name``; ``InvalidMessage`` if there is none."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise InvalidMessage(f"no contract for message {name!r}") from None
