"""The reservations app's raw SQL: the statements of a reservation that the ORM would make costly.

Every reservation runs ``RESERVATION_RESERVE``, which on the common path is the whole reservation
(``reservations.services`` executes it; a rare rejection is then recorded through the ORM). Names and casts
come from the models' ``_meta`` once, at import (see ``catalog.queries``); ``tests/test_queries.py`` runs
the statement against the test database.
"""

from catalog_service.catalog.models import Product, Stock
from catalog_service.reservations.models import Reservation, ReservationLine
from common.database.sql import sql_names

_RESERVATION = sql_names(Reservation)
_LINE = sql_names(ReservationLine)
_STOCK, _PRODUCT = sql_names(Stock), sql_names(Product)
_RESERVATION_COLUMN = _RESERVATION.column

# Every reservation field by attribute name, in the model's order: ``Model.from_db`` takes a full row so.
RESERVATION_FIELDS = tuple(field.attname for field in Reservation._meta.concrete_fields)

# ``RESERVATION_RESERVE``: an order's whole reservation in one statement, where it took four: the order's
# reservation, looked up and locked; the stock rows of the wanted products, locked in ascending product id
# order (so concurrent reservations cannot deadlock; a release locks the reservation, then the stock, too)
# and read with their products' ``PRICING_FIELDS``; the verdict; and only if every line fits (every product
# has a stock row, is active and has the quantity; one currency for all), the stock taken and the
# reservation inserted with its lines at those prices. If the order has a reservation, no stock is locked
# and nothing is written. A concurrent reservation of the same order breaks the unique ``order_id``, and the
# whole statement fails (its stock taken with it).
#
# Parameters: the order id, the time (``created_at``, ``updated_at``, the stock's ``updated_at``), the number
# of lines requested and the status of a reservation made; then the wanted products (distinct ids, each a
# valid id: the count above tells a line left out) and their quantities as two arrays. Rows: the order's
# reservation's ``RESERVATION_FIELDS`` (NULLs if none), the new reservation's id (NULL if none was made),
# then a locked product's ``PRICING_FIELDS`` and its available quantity before the reservation (NULLs if
# none), one row per locked product in product id order, at least one row.
#
# A row locked by the ``FOR UPDATE`` of this statement is updated by it too: the lock and the update take
# the latest version of the row (a concurrent reservation's change committed while this one waited), so the
# quantities checked are those taken from; the CHECK ``available >= 0`` still guards it.
PRICING_FIELDS = ("id", "sku", "name", "price", "currency", "is_active")


def _reservation_reserve_statement() -> str:
    reservation, stock, product = _RESERVATION_COLUMN, _STOCK.column, _PRODUCT.column
    stock_product = f"stock.{stock['product']}"
    given = (
        f"SELECT %s::{_RESERVATION.db_type['order_id']} AS order_id,"
        f" %s::{_RESERVATION.db_type['created_at']} AS now, %s::integer AS line_count,"
        f" %s::{_RESERVATION.db_type['status']} AS status"
    )
    return (
        f"WITH given AS ({given}),"  # noqa: S608 - our own tables
        f" existing AS (SELECT {_RESERVATION.columns(RESERVATION_FIELDS)} FROM {_RESERVATION.table}"
        f" WHERE {reservation['order_id']} = (SELECT order_id FROM given) FOR UPDATE),"
        " wanted AS (SELECT wanted.product_id, wanted.quantity"
        f" FROM UNNEST(%s::{_LINE.db_type['product_id']}[], %s::{_STOCK.db_type['available']}[])"
        " AS wanted (product_id, quantity)),"
        f" locked AS (SELECT {_PRODUCT.columns(PRICING_FIELDS, alias='product')}, stock.{stock['available']}"
        f" FROM {_STOCK.table} AS stock JOIN {_PRODUCT.table} AS product"
        f" ON product.{product['id']} = {stock_product}"
        f" WHERE {stock_product} IN (SELECT product_id FROM wanted) AND NOT EXISTS (SELECT FROM existing)"
        f" ORDER BY {stock_product} FOR UPDATE OF stock),"
        " verdict AS (SELECT count(*) = (SELECT line_count FROM given)"
        f" AND bool_and(locked.{product['is_active']} AND locked.{stock['available']} >= wanted.quantity)"
        f" AND count(DISTINCT locked.{product['currency']}) = 1 AS fits,"
        f" min(locked.{product['currency']}) AS currency"
        f" FROM wanted JOIN locked ON locked.{product['id']} = wanted.product_id),"
        f" taken AS (UPDATE {_STOCK.table} AS stock"
        f" SET {stock['available']} = stock.{stock['available']} - wanted.quantity,"
        f" {stock['updated_at']} = (SELECT now FROM given)"
        f" FROM wanted WHERE {stock_product} = wanted.product_id AND (SELECT fits FROM verdict)),"
        f" made AS (INSERT INTO {_RESERVATION.table} ({_RESERVATION.columns(RESERVATION_INSERT_FIELDS)})"
        f" SELECT {', '.join(_RESERVE_VALUES[name] for name in RESERVATION_INSERT_FIELDS)}"
        f" FROM given, verdict WHERE verdict.fits RETURNING {reservation['id']}),"
        f" made_lines AS (INSERT INTO {_LINE.table}"
        f" ({_LINE.columns(('reservation', 'product_id', 'quantity', 'unit_price'))})"
        f" SELECT made.{reservation['id']}, wanted.product_id, wanted.quantity, locked.{product['price']}"
        f" FROM made, wanted JOIN locked ON locked.{product['id']} = wanted.product_id)"
        f" SELECT existing.*, (SELECT {reservation['id']} FROM made), locked.* FROM (SELECT) AS outcome"
        f" LEFT JOIN existing ON TRUE LEFT JOIN locked ON TRUE ORDER BY locked.{product['id']}"
    )


# What a reservation made holds, as SQL over ``given`` and ``verdict`` (its id is generated).
RESERVATION_INSERT_FIELDS = tuple(name for name in RESERVATION_FIELDS if name != Reservation._meta.pk.attname)
_RESERVE_VALUES = {
    "order_id": "given.order_id",
    "status": "given.status",
    "currency": "verdict.currency",
    "reason": "NULL",
    "created_at": "given.now",
    "updated_at": "given.now",
}
RESERVATION_RESERVE = _reservation_reserve_statement()
