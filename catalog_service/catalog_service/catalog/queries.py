"""The catalog app's raw SQL: the stock statements of the order saga, where the ORM costs more than the work.

Every release of a reservation runs ``stock_apply()`` (after the ORM's ``SELECT ... FOR UPDATE``);
``catalog.services`` executes it. (A reservation takes its stock in ``reservations.queries``.)

Table and column names, and the casts of array parameters, come from the models' ``_meta`` once, at import:
a statement is a plain string by the time a message runs, and a renamed field or table changes it without an
edit here (or fails at import if the field is gone). Values are always parameters, never interpolated.
``tests/test_queries.py`` runs every statement against the test database, so a model change that a
statement cannot follow fails there.
"""

from functools import lru_cache

from catalog_service.catalog.models import Stock
from common.database.sql import sql_names

_STOCK = sql_names(Stock)
_STOCK_COLUMN = _STOCK.column
_PRODUCT_ID_TYPE, _QUANTITY_TYPE = _STOCK.db_type["product"], _STOCK.db_type["available"]

# ``stock_apply(row_count=)``: add a delta to the available quantity of each of ``row_count`` (locked) stock
# rows in one UPDATE; the CHECK ``available >= 0`` still guards it. Parameters: the new ``updated_at``, then
# each row's product id and delta. A row per changed stock row: the product id, the new quantity.
_STOCK_APPLY_HEAD = (
    f"UPDATE {_STOCK.table} AS stock"  # noqa: S608 - our own table
    f" SET {_STOCK_COLUMN['available']} = stock.{_STOCK_COLUMN['available']} + change.delta,"
    f" {_STOCK_COLUMN['updated_at']} = %s FROM (VALUES "
)
_STOCK_CHANGE_ROW = f"(%s::{_PRODUCT_ID_TYPE}, %s::{_QUANTITY_TYPE})"
_STOCK_APPLY_TAIL = (
    ") AS change (product_id, delta)"
    f" WHERE stock.{_STOCK_COLUMN['product']} = change.product_id"
    f" RETURNING stock.{_STOCK_COLUMN['product']}, stock.{_STOCK_COLUMN['available']}"
)


@lru_cache(maxsize=64)
def stock_apply(*, row_count: int) -> str:
    """The UPDATE of ``row_count`` stock rows (see above); built once per row count."""
    return _STOCK_APPLY_HEAD + ", ".join([_STOCK_CHANGE_ROW] * row_count) + _STOCK_APPLY_TAIL
