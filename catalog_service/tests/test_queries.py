"""Every raw statement of ``catalog.queries`` and ``reservations.queries``, run against the test database.

The statements take their names from the models' ``_meta``; these tests prove that what they do still
matches the models (read back through the ORM), so a model change a statement cannot follow fails here.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog_service.catalog import queries as catalog_queries
from catalog_service.catalog.models import Product, Stock
from catalog_service.reservations import queries as reservation_queries
from catalog_service.reservations.models import Reservation, ReservationLine
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

SQL_KEYWORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

# The statements each module offers as constants, and the test of each below (functions that build a
# statement, like ``catalog_queries.stock_apply``, are named in their test).
TESTED_STATEMENTS = {
    catalog_queries: {"STOCK_LOCK_FOR_PRICING"},
    reservation_queries: {"RESERVATION_GET_LOCKED", "RESERVATION_INSERT"},
}


def execute(sql: str, parameters: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


@pytest.mark.parametrize("module", TESTED_STATEMENTS, ids=lambda module: module.__name__)
def test_every_statement_of_a_queries_module_has_a_test_here(module):
    statements = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and isinstance(value, str) and value.startswith(SQL_KEYWORDS)
    }

    assert statements == TESTED_STATEMENTS[module]


def test_stock_lock_for_pricing_reads_the_products_and_their_stock_in_product_id_order():
    # given
    pen = ProductFactory(price=Decimal("1.50"), stock__available=7)
    hidden = ProductFactory(is_active=False, stock__available=0)
    unstocked = ProductFactory(stock=None)

    # when
    rows = execute(catalog_queries.STOCK_LOCK_FOR_PRICING, [[unstocked.id, hidden.id, pen.id, 999_999]])

    # then: the product's pricing fields, then its quantity; nothing for a product without a stock row
    expected = [
        (*Product.objects.values_list(*catalog_queries.PRICING_FIELDS).get(id=product.id), product.stock.available)
        for product in sorted([pen, hidden], key=lambda product: product.id)
    ]
    assert rows == expected


def test_stock_apply_changes_every_row_by_its_delta_and_returns_the_new_quantities():
    # given
    pen, ink = ProductFactory(stock__available=5), ProductFactory(stock__available=3)
    updated_at = timezone.now() + datetime.timedelta(minutes=1)

    # when
    rows = execute(catalog_queries.stock_apply(row_count=2), [updated_at, pen.id, -5, ink.id, 4])

    # then
    assert dict(rows) == {pen.id: 0, ink.id: 7}
    assert dict(Stock.objects.values_list("product_id", "available")) == {pen.id: 0, ink.id: 7}
    assert set(Stock.objects.values_list("updated_at", flat=True)) == {updated_at}


def test_reservation_get_locked_reads_every_field_of_the_order_s_reservation_only():
    # given
    now = timezone.now()
    reservation = Reservation.objects.create(
        order_id=uuid.uuid4(), status=Reservation.Status.REJECTED, reason="No.", created_at=now, updated_at=now
    )
    Reservation.objects.create(
        order_id=uuid.uuid4(), status=Reservation.Status.RESERVED, created_at=now, updated_at=now
    )

    # when
    rows = execute(reservation_queries.RESERVATION_GET_LOCKED, [reservation.order_id])
    nothing = execute(reservation_queries.RESERVATION_GET_LOCKED, [uuid.uuid4()])

    # then: a row the model loads as the ORM would
    [row] = rows
    loaded = Reservation.from_db(connection.alias, reservation_queries.RESERVATION_FIELDS, row)
    assert [getattr(loaded, name) for name in reservation_queries.RESERVATION_FIELDS] == [
        getattr(reservation, name) for name in reservation_queries.RESERVATION_FIELDS
    ]
    assert nothing == []


@pytest.mark.parametrize("line_count", [0, 2])
def test_reservation_insert_writes_the_reservation_and_its_lines(line_count):
    # given
    now = timezone.now()
    values = {
        "order_id": uuid.uuid4(),
        "status": Reservation.Status.RESERVED,
        "currency": "EUR",
        "reason": None,
        "created_at": now,
        "updated_at": now,
    }
    lines = [
        {"product_id": 10 + number, "quantity": 2 + number, "unit_price": Decimal("1.25") * (number + 1)}
        for number in range(line_count)
    ]

    # when
    [(reservation_id,)] = execute(
        reservation_queries.RESERVATION_INSERT,
        [
            *(values[name] for name in reservation_queries.RESERVATION_INSERT_FIELDS),
            *([line[name] for line in lines] for name in reservation_queries.LINE_FIELDS),
        ],
    )

    # then
    reservation = Reservation.objects.get(id=reservation_id)
    assert {name: getattr(reservation, name) for name in values} == values
    stored_lines = ReservationLine.objects.filter(reservation=reservation).values(*reservation_queries.LINE_FIELDS)
    assert list(stored_lines) == lines
