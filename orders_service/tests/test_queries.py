"""Every statement of ``orders.queries`` runs against the test database and does what the services rely on.

The statements take their names from the models, but what they do with them is written by hand: a model
change they cannot follow (a renamed or retyped field, a field a statement names that is gone) fails here,
and a new statement without a run here fails ``test_every_statement_has_a_run``.
"""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders_service.orders import queries
from orders_service.orders.models import IdempotencyKey, Order, OrderLine
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

STATEMENTS = {name: value for name, value in vars(queries).items() if name.isupper() and isinstance(value, str)}
TRANSITIONS = [
    ("ORDER_CONFIRM", Order.Status.PENDING, Order.Status.CONFIRMED, {"currency": "EUR"}),
    ("ORDER_REJECT", Order.Status.PENDING, Order.Status.REJECTED, {"reject_reason": "Not enough stock."}),
    ("ORDER_MARK_CANCELLED", Order.Status.CANCELLING, Order.Status.CANCELLED, {}),
]
RUNS = {"ORDER_INSERT", "IDEMPOTENCY_KEY_INSERT", "ORDER_LINES_PRICE", *(name for name, *_ in TRANSITIONS)}


def run(statement: str, parameters: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall() if cursor.description else []


def test_every_statement_has_a_run():
    assert set(STATEMENTS) == RUNS


def test_order_insert_writes_the_order_and_its_lines():
    # given
    now = timezone.now()
    order = Order(
        id=uuid.uuid4(), user_id=7, status=Order.Status.PENDING, created_at=now, updated_at=now, driven_at=now
    )

    # when
    run(
        queries.ORDER_INSERT,
        [*[getattr(order, name) for name in queries.ORDER_INSERT_FIELDS], order.id, [3, 2**40], [2, 1000]],
    )

    # then
    stored = Order.objects.get(id=order.id)
    assert (stored.user_id, stored.status, stored.created_at, stored.updated_at, stored.driven_at) == (
        7,
        Order.Status.PENDING,
        now,
        now,
        now,
    )
    assert (stored.total, stored.currency, stored.reject_reason) == (None, None, None)
    assert list(stored.lines.values_list("product_id", "quantity", "unit_price")) == [(3, 2, None), (2**40, 1000, None)]


def test_idempotency_key_insert_writes_the_key_once_per_user():
    # given
    order = OrderFactory(user_id=7)
    body = {"id": str(order.id), "items": [{"product_id": 3, "quantity": 2, "unit_price": None}]}
    values = {
        "user_id": 7,
        "key": "key-1",
        "request_fingerprint": "f" * 64,
        "response_status": 201,
        "response_body": json.dumps(body),
        "order": order.id,
        "created_at": order.created_at,
    }
    parameters = [values[name] for name in queries.IDEMPOTENCY_KEY_INSERT_FIELDS]

    # when
    run(queries.IDEMPOTENCY_KEY_INSERT, parameters)

    # then
    stored = IdempotencyKey.objects.get(user_id=7, key="key-1")
    assert (stored.request_fingerprint, stored.response_status, stored.response_body) == ("f" * 64, 201, body)
    assert (stored.order_id, stored.created_at) == (order.id, order.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        run(queries.IDEMPOTENCY_KEY_INSERT, parameters)


@pytest.mark.parametrize(("name", "source", "target", "changes"), TRANSITIONS)
def test_transition_moves_an_order_only_from_its_source_status(name, source, target, changes):
    # given
    order = OrderFactory(user_id=7, status=source, total=Decimal("12.30"), created_at=timezone.now() - timedelta(1))
    updated_at = timezone.now()
    parameters = [target, updated_at, *changes.values(), order.id, source]

    # when
    [row] = run(STATEMENTS[name], parameters)

    # then
    stored = Order.objects.get(id=order.id)
    assert (stored.status, stored.updated_at) == (target, updated_at)
    assert {field: getattr(stored, field) for field in changes} == changes
    assert dict(zip(queries.ORDER_TRANSITION_RETURNING, row, strict=True)) == {
        field: getattr(stored, field) for field in queries.ORDER_TRANSITION_RETURNING
    }
    assert run(STATEMENTS[name], parameters) == []  # no longer in the source status: no row, no change
    assert Order.objects.get(id=order.id).updated_at == updated_at


def test_order_lines_price_prices_the_lines_of_the_order_only():
    # given
    order = OrderFactory()
    OrderLineFactory(order=order, product_id=3, quantity=2)
    OrderLineFactory(order=order, product_id=9, quantity=1)
    other = OrderLineFactory(product_id=3)

    # when
    rows = run(queries.ORDER_LINES_PRICE, [[3, 4], ["10.50", "1.00"], order.id])

    # then
    assert sorted(rows) == [(3, 2, Decimal("10.50")), (9, 1, None)]
    returned = [dict(zip(queries.ORDER_LINES_PRICE_RETURNING, row, strict=True)) for row in rows]
    assert sorted(returned, key=str) == sorted(order.lines.values(*queries.ORDER_LINES_PRICE_RETURNING), key=str)
    assert OrderLine.objects.get(id=other.id).unit_price is None


def test_order_lines_price_with_no_prices_leaves_every_line_unpriced():
    order = OrderLineFactory(product_id=3, unit_price=Decimal("1.00")).order

    rows = run(queries.ORDER_LINES_PRICE, [[], [], order.id])

    assert rows == [(3, 2, None)]
