"""The orders app's raw SQL: the statements of the hot path, where the ORM costs more than the work.

Every order placed through the API runs ``ORDER_INSERT_WITH_IDEMPOTENCY_KEY``; every saga step one of the
``ORDER_CONFIRM`` (which also prices the order's lines and totals them), ``ORDER_REJECT``,
``ORDER_MARK_CANCELLED`` transitions. The services (``orders.services``) execute them.

Table and column names come from the models' ``_meta`` (``db_table``, ``field.column``) and array casts from
the fields' database types, read once at import: the statements are plain strings by the time a request
runs, and a model change reaches them without an edit here. Values are always parameters, never
interpolated. ``tests/test_queries.py`` runs every statement against the test database, so a model change
that a statement cannot follow fails there.
"""

from django.db import models

from common.database.sql import sql_names
from orders_service.orders.models import IdempotencyKey, Order, OrderLine

_ORDER, _LINE, _KEY = sql_names(Order), sql_names(OrderLine), sql_names(IdempotencyKey)


def _placeholder(model: type[models.Model], field_name: str) -> str:
    # JSON arrives as text: cast to the column's type.
    field = model._meta.get_field(field_name)
    return f"%s::{sql_names(model).db_type[field_name]}" if isinstance(field, models.JSONField) else "%s"


# ``ORDER_INSERT``: an order and its lines in one statement, where the ORM needs two (and more Python).
# Parameters: the order's ``ORDER_INSERT_FIELDS``, then its id again, then the lines as two arrays (product
# ids, quantities), unnested into rows.
#
# ``ORDER_INSERT_WITH_IDEMPOTENCY_KEY``: the same, and the Idempotency-Key the order was placed with, stored
# with the response it answered: what every order placed through the API runs, one statement where it took
# two. ``IntegrityError`` if the user has the key already; nothing of the order is then written. Parameters:
# the order's ``ORDER_INSERT_FIELDS``, then the values of ``IDEMPOTENCY_KEY_INSERT_FIELDS`` (every field of a
# key but its generated id, in the model's order; the response body as JSON text), then as ``ORDER_INSERT``.
ORDER_INSERT_FIELDS = ("id", "user_id", "status", "created_at", "updated_at", "driven_at", "trace_context")
IDEMPOTENCY_KEY_INSERT_FIELDS = tuple(
    field.name for field in IdempotencyKey._meta.concrete_fields if not field.primary_key
)


def _order_insert_statement(*, with_idempotency_key: bool) -> str:
    # Django's foreign keys are checked when the transaction commits (deferred), so the lines and the key
    # may refer to the order inserted beside them.
    key = (
        f", keyed AS (INSERT INTO {_KEY.table} ({_KEY.columns(IDEMPOTENCY_KEY_INSERT_FIELDS)})"  # noqa: S608
        f" VALUES ({', '.join(_placeholder(IdempotencyKey, name) for name in IDEMPOTENCY_KEY_INSERT_FIELDS)}))"
        if with_idempotency_key
        else ""
    )
    return (
        f"WITH placed AS (INSERT INTO {_ORDER.table} ({_ORDER.columns(ORDER_INSERT_FIELDS)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(ORDER_INSERT_FIELDS))})){key}"
        f" INSERT INTO {_LINE.table} ({_LINE.columns(('order', 'product_id', 'quantity'))})"
        " SELECT %s, line.product_id, line.quantity"
        f" FROM UNNEST(%s::{_LINE.db_type['product_id']}[], %s::{_LINE.db_type['quantity']}[])"
        " AS line (product_id, quantity)"
    )


ORDER_INSERT = _order_insert_statement(with_idempotency_key=False)
ORDER_INSERT_WITH_IDEMPOTENCY_KEY = _order_insert_statement(with_idempotency_key=True)


# The transitions: one conditional UPDATE of an order from a source status to a target, which also locks
# the row until the transaction ends. Parameters: the target status, the new ``updated_at``, the value of
# each changed field, the order's id, the source status. The row it returns, if any, holds
# ``ORDER_TRANSITION_RETURNING``.
ORDER_TRANSITION_RETURNING = ("user_id", "total", "currency", "reject_reason", "created_at")


def _order_transition_statement(*changed_fields: str, **computed_fields: str) -> str:
    """The transition setting ``changed_fields`` from parameters and ``computed_fields`` to SQL expressions."""
    assignments = ", ".join(
        [f"{_ORDER.column[name]} = %s" for name in ("status", "updated_at", *changed_fields)]
        + [f"{_ORDER.column[name]} = {expression}" for name, expression in computed_fields.items()]
    )
    return (
        f"UPDATE {_ORDER.table} SET {assignments}"  # noqa: S608 - our own table and columns
        f" WHERE {_ORDER.column['id']} = %s AND {_ORDER.column['status']} = %s"
        f" RETURNING {_ORDER.columns(ORDER_TRANSITION_RETURNING)}"
    )


ORDER_REJECT = _order_transition_statement("reject_reason")
ORDER_MARK_CANCELLED = _order_transition_statement()


# ``ORDER_CONFIRM``: the whole confirmation of an order in one statement, where it took three: the transition
# from ``pending`` (the conditional UPDATE that locks the row, as above) also sets the currency and the total,
# and only if the order was so moved are its lines priced; the lines of an order in any other status are not
# touched. The prices given are cast to the line column's type first, so the total is the sum of the unit
# prices stored times the quantities. Parameters: the priced product ids (distinct) and their unit prices as
# two arrays, the order's id; then the transition's: the target status, the new ``updated_at``, the currency,
# the order's id, the source status. The row it returns, if any, holds ``ORDER_TRANSITION_RETURNING``, then
# the product ids of the order's lines that the prices do not cover (sorted; then the caller rolls back).
#
# Every part of a statement sees the same snapshot and no row may be changed twice in it, so the lines with
# their prices are read once (``line``, from the snapshot: lines never change before the order is confirmed)
# and both the total and the lines' UPDATE are computed from that read. The lines' UPDATE runs only if the
# order's UPDATE returned a row (``EXISTS``, which also makes it wait for the order's row lock), so a duplicate
# or late confirmation, or one that lost the race for the row, writes nothing.
def _order_confirm_statement() -> str:
    line_id, product_id, quantity, unit_price = (
        _LINE.column[name] for name in ("id", "product_id", "quantity", "unit_price")
    )
    transition = _order_transition_statement(
        "currency", total="(SELECT COALESCE(SUM(line.unit_price * line.quantity), 0) FROM line)"
    )
    return (
        "WITH line AS ("  # noqa: S608 - our own tables and columns
        f"SELECT stored.{line_id} AS id, stored.{product_id} AS product_id, stored.{quantity} AS quantity,"
        f" CAST(price.unit_price AS {_LINE.db_type['unit_price']}) AS unit_price"
        f" FROM {_LINE.table} AS stored"
        f" LEFT JOIN UNNEST(%s::{_LINE.db_type['product_id']}[], %s::numeric[]) AS price (product_id, unit_price)"
        f" ON price.product_id = stored.{product_id}"
        f" WHERE stored.{_LINE.column['order']} = %s),"
        f" confirmed AS ({transition}),"
        f" priced AS (UPDATE {_LINE.table} AS stored SET {unit_price} = line.unit_price FROM line"
        f" WHERE stored.{line_id} = line.id AND EXISTS (SELECT FROM confirmed))"
        " SELECT confirmed.*, ARRAY(SELECT line.product_id FROM line WHERE line.unit_price IS NULL ORDER BY 1)"
        " FROM confirmed"
    )


ORDER_CONFIRM = _order_confirm_statement()
