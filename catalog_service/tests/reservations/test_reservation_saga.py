"""The catalog side of the saga through its real message handlers (inbox, outbox), real Postgres and Redis."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from catalog_service.catalog.models import Stock
from catalog_service.reservations import tasks
from catalog_service.reservations.models import Reservation
from common.messaging.models import DeadLetter
from common_testing.messaging import deliver, queued_messages
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def reserve(order_id, lines, **options):
    payload = {
        "order_id": str(order_id),
        "lines": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines],
    }
    return deliver(tasks.reserve_stock, payload, **options)


def available(product) -> int:
    return Stock.objects.get(product=product).available


def answers(broker) -> list[tuple[str, dict]]:
    return [
        (message["headers"]["task"], message["kwargs"]["message"]["payload"])
        for message in queued_messages(broker, "orders")
    ]


def test_reserve_takes_every_line_and_answers_with_prices(broker):
    # given
    pen = ProductFactory(price=Decimal("1.50"), stock__available=10)
    ink = ProductFactory(price=Decimal("4.00"), stock__available=3)
    order_id = uuid.uuid4()

    # when
    outcome = reserve(order_id, [(ink.id, 3), (pen.id, 2)])

    # then
    assert outcome == "applied"
    assert (available(pen), available(ink)) == (8, 0)
    assert Reservation.objects.get(order_id=order_id).status == "reserved"
    assert answers(broker) == [
        (
            "orders.stock_reserved",
            {
                "order_id": str(order_id),
                "currency": "EUR",
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
    ("make_lines", "reason_part"),
    [
        (lambda pen, ink, hidden: [(pen.id, 1), (ink.id, 4)], "Not enough stock for product"),
        (lambda pen, ink, hidden: [(pen.id, 1), (hidden.id, 1)], "is not available"),
        (lambda pen, ink, hidden: [(pen.id, 1), (999_999, 1)], "Product 999999 does not exist"),
    ],
)
def test_reserve_takes_nothing_when_one_line_cannot_be_served(broker, make_lines, reason_part):
    # given
    pen = ProductFactory(stock__available=10)
    ink = ProductFactory(stock__available=3)
    hidden = ProductFactory(is_active=False, stock__available=10)
    order_id = uuid.uuid4()

    # when
    reserve(order_id, make_lines(pen, ink, hidden))

    # then
    assert (available(pen), available(ink), available(hidden)) == (10, 3, 10)
    [(name, payload)] = answers(broker)
    assert name == "orders.stock_rejected"
    assert reason_part in payload["reason"]
    assert Reservation.objects.get(order_id=order_id).status == "rejected"


def test_a_second_reserve_for_the_same_order_answers_again_without_taking_more(broker):
    pen = ProductFactory(stock__available=10)
    order_id = uuid.uuid4()
    reserve(order_id, [(pen.id, 4)])

    reserve(order_id, [(pen.id, 4)])  # a re-driven order: a new message id

    assert available(pen) == 6
    assert [name for name, _ in answers(broker)] == ["orders.stock_reserved", "orders.stock_reserved"]


def test_the_same_message_delivered_three_times_takes_stock_once(broker):
    pen = ProductFactory(stock__available=10)
    message_id = uuid.uuid4()

    outcomes = [reserve(uuid.UUID(int=7), [(pen.id, 4)], message_id=message_id) for _ in range(3)]

    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert available(pen) == 6
    assert len(answers(broker)) == 1


def test_release_gives_the_stock_back_once_and_answers_each_time(broker):
    pen = ProductFactory(stock__available=10)
    order_id = uuid.uuid4()
    reserve(order_id, [(pen.id, 4)])

    deliver(tasks.release_stock, {"order_id": str(order_id)})
    deliver(tasks.release_stock, {"order_id": str(order_id)})

    assert available(pen) == 10
    assert Reservation.objects.get(order_id=order_id).status == "released"
    assert [name for name, _ in answers(broker)][1:] == ["orders.stock_released", "orders.stock_released"]


def test_a_reserve_after_the_release_takes_nothing(broker):
    pen = ProductFactory(stock__available=10)
    order_id = uuid.uuid4()
    reserve(order_id, [(pen.id, 4)])
    deliver(tasks.release_stock, {"order_id": str(order_id)})

    reserve(order_id, [(pen.id, 4)])

    assert available(pen) == 10


def run_concurrently(functions) -> list:
    results: list = [None] * len(functions)
    start = threading.Barrier(len(functions))

    def run(index, function):
        try:
            start.wait()
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, function)) for index, function in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_reservations_never_oversell(broker):
    # given
    pen = ProductFactory(stock__available=5)

    # when: 12 orders of one pen each, at the same time
    results = run_concurrently([lambda: reserve(uuid.uuid4(), [(pen.id, 1)]) for _ in range(12)])

    # then
    assert results == ["applied"] * 12
    assert available(pen) == 0
    assert Reservation.objects.filter(status="reserved").count() == 5
    assert Reservation.objects.filter(status="rejected").count() == 7


def test_multi_line_reservations_in_opposite_order_do_not_deadlock(broker):
    pen = ProductFactory(stock__available=100)
    ink = ProductFactory(stock__available=100)

    results = run_concurrently(
        [lambda: reserve(uuid.uuid4(), [(pen.id, 1), (ink.id, 1)]) for _ in range(5)]
        + [lambda: reserve(uuid.uuid4(), [(ink.id, 1), (pen.id, 1)]) for _ in range(5)]
    )

    assert results == ["applied"] * 10
    assert (available(pen), available(ink)) == (90, 90)
    assert not DeadLetter.objects.exists()
