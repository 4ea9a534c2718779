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
    catalog_queries: set(),
    reservation_queries: {"RESERVATION_RESERVE"},
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


def reserve(order_id: uuid.UUID, lines: dict[int, int], *, now: datetime.datetime, line_count: int | None = None):
    """Run RESERVATION_RESERVE; the rows split into (the order's reservation, the new id, the locked products)."""
    rows = execute(
        reservation_queries.RESERVATION_RESERVE,
        [order_id, now, line_count or len(lines), Reservation.Status.RESERVED, list(lines), list(lines.values())],
    )
    width = len(reservation_queries.RESERVATION_FIELDS)
    existing = {row[:width] for row in rows}
    made = {row[width] for row in rows}
    assert len(existing) == len(made) == 1  # the same on every row
    return existing.pop(), made.pop(), [row[width + 1 :] for row in rows]


def pricing_row(product: Product, available: int) -> tuple:
    return (*Product.objects.values_list(*reservation_queries.PRICING_FIELDS).get(id=product.id), available)


def test_reservation_reserve_takes_the_stock_and_inserts_the_reservation_with_its_lines_at_the_prices():
    # given
    pen = ProductFactory(price=Decimal("1.50"), currency="USD", stock__available=7)
    ink = ProductFactory(price=Decimal("4.00"), currency="USD", stock__available=3)
    other = ProductFactory(stock__available=5)
    order_id, now = uuid.uuid4(), timezone.now() + datetime.timedelta(minutes=1)

    # when
    existing, made_id, locked = reserve(order_id, {ink.id: 3, pen.id: 2}, now=now)

    # then: nothing there before; the products locked, in product id order, with the quantities before
    assert existing == (None,) * len(reservation_queries.RESERVATION_FIELDS)
    assert locked == sorted([pricing_row(pen, 7), pricing_row(ink, 3)])
    reservation = Reservation.objects.get(id=made_id)
    assert (reservation.order_id, reservation.status, reservation.currency, reservation.reason) == (
        order_id,
        Reservation.Status.RESERVED,
        "USD",
        None,
    )
    assert (reservation.created_at, reservation.updated_at) == (now, now)
    assert list(reservation.lines.values_list("product_id", "quantity", "unit_price")) == sorted(
        [(pen.id, 2, Decimal("1.50")), (ink.id, 3, Decimal("4.00"))]
    )
    assert dict(Stock.objects.values_list("product_id", "available")) == {pen.id: 5, ink.id: 0, other.id: 5}
    assert set(Stock.objects.filter(product__in=[pen, ink]).values_list("updated_at", flat=True)) == {now}


def test_reservation_reserve_of_an_order_with_a_reservation_returns_it_and_locks_and_writes_nothing():
    # given
    pen = ProductFactory(stock__available=7)
    now = timezone.now()
    reservation = Reservation.objects.create(
        order_id=uuid.uuid4(), status=Reservation.Status.REJECTED, reason="No.", created_at=now, updated_at=now
    )

    # when
    existing, made_id, locked = reserve(reservation.order_id, {pen.id: 1}, now=now)

    # then: a row the model loads as the ORM would
    loaded = Reservation.from_db(connection.alias, reservation_queries.RESERVATION_FIELDS, existing)
    assert [getattr(loaded, name) for name in reservation_queries.RESERVATION_FIELDS] == [
        getattr(reservation, name) for name in reservation_queries.RESERVATION_FIELDS
    ]
    assert (made_id, locked) == (None, [(None,) * (len(reservation_queries.PRICING_FIELDS) + 1)])
    assert Reservation.objects.count() == 1
    assert Stock.objects.get(product=pen).available == 7


@pytest.mark.parametrize(
    ("make_lines", "line_count"),
    [
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1, ink.id: 4}, None),
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1, hidden.id: 1}, None),
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1, unstocked.id: 1}, None),
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1, 999_999: 1}, None),
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1}, 2),  # a line the caller could not pass
        (lambda pen, ink, hidden, unstocked, dollar: {pen.id: 1, dollar.id: 1}, None),
    ],
    ids=["not-enough-stock", "inactive", "no-stock-row", "unknown", "line-left-out", "currencies"],
)
def test_reservation_reserve_of_lines_that_do_not_fit_writes_nothing_and_returns_what_it_read(
    make_lines, line_count, products_to_reject
):
    # given
    products = products_to_reject
    stock_before = dict(Stock.objects.values_list("product_id", "available"))
    lines = make_lines(**products)

    # when
    _existing, made_id, locked = reserve(uuid.uuid4(), lines, now=timezone.now(), line_count=line_count)

    # then
    assert made_id is None
    assert not Reservation.objects.exists()
    assert not ReservationLine.objects.exists()
    assert dict(Stock.objects.values_list("product_id", "available")) == stock_before
    stocked = sorted(product.id for product in products.values() if product.id in lines and product.id in stock_before)
    assert locked == [pricing_row(Product(id=product_id), stock_before[product_id]) for product_id in stocked]
