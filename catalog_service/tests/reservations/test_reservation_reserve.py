"""``reservation_reserve`` on its own, in the test's transaction: statements run, rows and answers written.

The saga through the real message handlers, commits and concurrency is in ``test_reservation_saga.py``.
"""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from catalog_service.catalog.models import Product, Stock
from catalog_service.reservations.models import Reservation
from catalog_service.reservations.services import reservation_reserve
from common.messaging.models import OutboxMessage
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def reserve(order_id, lines) -> Reservation:
    return reservation_reserve(
        order_id=order_id, lines=[{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]
    )


def answers() -> list[tuple[str, dict]]:
    return [(message.name, message.payload) for message in OutboxMessage.objects.order_by("created_at")]


@pytest.mark.parametrize("line_count", [1, 3])
def test_a_reservation_costs_two_statements_whatever_the_number_of_lines(django_assert_num_queries, line_count):
    # given
    products = [ProductFactory(stock__available=10) for _ in range(line_count)]

    # when: the reservation (lock the order's reservation, none; lock the stock with prices, take it; insert the
    # reservation with its lines), then the answer to the outbox
    with django_assert_num_queries(2):
        reservation = reserve(uuid.uuid4(), [(product.id, 2) for product in products])

    # then
    assert reservation.status == Reservation.Status.RESERVED
    assert reservation.lines.count() == line_count


def test_a_second_reserve_costs_three_statements_and_answers_with_the_recorded_lines(django_assert_num_queries):
    # given
    pen = ProductFactory(price=Decimal("1.50"), stock__available=10)
    order_id = uuid.uuid4()
    reserve(order_id, [(pen.id, 4)])
    [first_answer] = answers()

    # when: the reservation (found and locked, nothing else), its lines, the answer
    with django_assert_num_queries(3):
        reservation = reserve(order_id, [(pen.id, 4)])

    # then
    assert reservation.status == Reservation.Status.RESERVED
    assert answers() == [first_answer, first_answer]
    assert Stock.objects.get(product=pen).available == 6


def test_the_reservation_returned_is_the_one_stored_with_its_lines_at_the_quoted_prices():
    # given
    pen = ProductFactory(price=Decimal("1.50"), currency="USD", stock__available=10)
    ink = ProductFactory(price=Decimal("4.00"), currency="USD", stock__available=3)
    order_id = uuid.uuid4()

    # when
    reservation = reserve(order_id, [(ink.id, 3), (pen.id, 2)])

    # then
    stored = Reservation.objects.get(order_id=order_id)
    fields = ("id", "order_id", "status", "currency", "reason", "created_at", "updated_at")
    assert [getattr(reservation, field) for field in fields] == [getattr(stored, field) for field in fields]
    assert not reservation._state.adding
    assert list(stored.lines.values_list("product_id", "quantity", "unit_price")) == sorted(
        [(pen.id, 2, Decimal("1.50")), (ink.id, 3, Decimal("4.00"))]
    )
    assert answers() == [
        (
            "orders.stock_reserved",
            {
                "order_id": str(order_id),
                "currency": "USD",
                "lines": sorted(
                    [
                        {"product_id": pen.id, "quantity": 2, "unit_price": "1.50"},
                        {"product_id": ink.id, "quantity": 3, "unit_price": "4.00"},
                    ],
                    key=lambda line: line["product_id"],
                ),
            },
        )
    ]


@pytest.mark.parametrize(
    ("make_lines", "make_reason"),
    [
        (
            lambda pen, ink, hidden, unstocked, dollar: [(pen.id, 1), (ink.id, 4)],
            lambda pen, ink, hidden, unstocked, dollar: (
                f"Not enough stock for product {ink.id} ({ink.name}): 3 available, 4 requested."
            ),
        ),
        (
            lambda pen, ink, hidden, unstocked, dollar: [(pen.id, 1), (unstocked.id, 2)],
            lambda pen, ink, hidden, unstocked, dollar: (
                f"Not enough stock for product {unstocked.id} ({unstocked.name}): 0 available, 2 requested."
            ),
        ),
        (
            lambda pen, ink, hidden, unstocked, dollar: [(pen.id, 1), (hidden.id, 1)],
            lambda pen, ink, hidden, unstocked, dollar: f"Product {hidden.id} ({hidden.name}) is not available.",
        ),
        (
            lambda pen, ink, hidden, unstocked, dollar: [(pen.id, 1), (999_999, 1), (2**70, 1)],
            lambda pen, ink, hidden, unstocked, dollar: "Product 999999 does not exist.",
        ),
        (
            lambda pen, ink, hidden, unstocked, dollar: [(pen.id, 1), (dollar.id, 1)],
            lambda pen, ink, hidden, unstocked, dollar: (
                "Products priced in different currencies cannot be ordered together."
            ),
        ),
    ],
    ids=["not-enough-stock", "no-stock-row", "inactive", "unknown", "currencies"],
)
def test_a_rejection_takes_nothing_and_says_why(make_lines, make_reason, products_to_reject):
    # given
    products = products_to_reject
    stock_before = dict(Stock.objects.values_list("product_id", "available"))
    order_id = uuid.uuid4()

    # when
    reservation = reserve(order_id, make_lines(**products))

    # then
    reason = make_reason(**products)
    assert (reservation.status, reservation.reason) == (Reservation.Status.REJECTED, reason)
    assert Reservation.objects.get(order_id=order_id).reason == reason
    assert not Reservation.objects.get(order_id=order_id).lines.exists()
    assert dict(Stock.objects.values_list("product_id", "available")) == stock_before
    assert answers() == [("orders.stock_rejected", {"order_id": str(order_id), "reason": reason})]


def test_a_repeated_request_for_a_rejected_order_answers_with_the_same_reason():
    ink = ProductFactory(stock__available=3)
    order_id = uuid.uuid4()
    reserve(order_id, [(ink.id, 4)])
    [first_answer] = answers()
    Stock.objects.filter(product=ink).update(available=10)

    reservation = reserve(order_id, [(ink.id, 4)])

    assert reservation.status == Reservation.Status.REJECTED
    assert answers() == [first_answer, first_answer]
    assert Stock.objects.get(product=ink).available == 10


@pytest.mark.django_db(transaction=True)
def test_a_reservation_locks_the_stock_rows_not_the_products_until_the_transaction_ends():
    # given
    pen = ProductFactory(stock__available=7)
    stock_locked, product_locked = [], []

    def try_to_lock() -> None:
        for model, filters, outcome in (
            (Stock, {"product": pen}, stock_locked),
            (Product, {"id": pen.id}, product_locked),
        ):
            try:
                with transaction.atomic():
                    list(model.objects.select_for_update(nowait=True).filter(**filters))
                outcome.append(False)
            except DatabaseError:
                outcome.append(True)
        connection.close()

    # when: another connection tries while the reservation's transaction is open, then after it
    with transaction.atomic():
        reserve(uuid.uuid4(), [(pen.id, 2)])
        other = threading.Thread(target=try_to_lock)
        other.start()
        other.join(timeout=30)
    after = threading.Thread(target=try_to_lock)
    after.start()
    after.join(timeout=30)

    # then
    assert stock_locked == [True, False]
    assert product_locked == [False, False]
    assert Stock.objects.get(product=pen).available == 5
