"""The catalog app's raw SQL: the stock statements of the order saga, where the ORM costs more than the work.

Every reservation runs ``STOCK_LOCK_FOR_PRICING`` then ``stock_apply()``; every release of a reservation
``stock_apply()`` (after the ORM's ``SELECT ... FOR UPDATE``). ``catalog.services`` executes them.

Table and column names, and the casts of array parameters, come from the models' ``_meta`` once, at import:
a statement is a plain string by the time a message runs, and a renamed field or table changes it without an
edit here (or fails at import if the field is gone). Values are always parameters, never interpolated.
``tests/test_queries.py`` runs every statement against the test database, so a model change that a
statement cannot follow fails there.
"""

from functools import lru_cache

from catalog_service.catalog.models import Product, Stock
from common.database.sql import sql_names

_STOCK = sql_names(Stock)
_PRODUCT = sql_names(Product)
_STOCK_COLUMN, _PRODUCT_COLUMN = _STOCK.column, _PRODUCT.column
_PRODUCT_ID_TYPE, _QUANTITY_TYPE = _STOCK.db_type["product"], _STOCK.db_type["available"]

# ``STOCK_LOCK_FOR_PRICING``: lock the stock rows of some products, in ascending product id order (so concurrent
# callers cannot deadlock), and read them with their products' prices; the product rows are read, not locked.
# One statement where the ORM would need two. Parameter: the product ids, as one array. A row per product
# that has a stock row: the product's ``PRICING_FIELDS``, then its available quantity.
PRICING_FIELDS = ("id", "sku", "name", "price", "currency", "is_active")
STOCK_LOCK_FOR_PRICING = (
    f"SELECT {', '.join(f'product.{_PRODUCT_COLUMN[name]}' for name in PRICING_FIELDS)},"  # noqa: S608 - our own tables
    f" stock.{_STOCK_COLUMN['available']}"
    f" FROM {_STOCK.table} AS stock JOIN {_PRODUCT.table} AS product"
    f" ON product.{_PRODUCT_COLUMN['id']} = stock.{_STOCK_COLUMN['product']}"
    f" WHERE stock.{_STOCK_COLUMN['product']} = ANY(%s::{_PRODUCT_ID_TYPE}[])"
    f" ORDER BY stock.{_STOCK_COLUMN['product']} FOR UPDATE OF stock"
)

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
