"""Every statement of ``orders.queries`` runs against the test database and does what the services rely on.

The statements take their names from the models, but what they do with them is written by hand: a model
change they cannot follow (a renamed or retyped field, a field a statement names that is gone) fails here,
and a new statement without a run here fails ``test_every_statement_has_a_run``.
"""

import json
import uuid
from datetime import datetime, timedelta
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
    ("ORDER_REJECT", Order.Status.PENDING, Order.Status.REJECTED, {"reject_reason": "Not enough stock."}),
    ("ORDER_MARK_CANCELLED", Order.Status.CANCELLING, Order.Status.CANCELLED, {}),
]
RUNS = {"ORDER_INSERT", "ORDER_INSERT_WITH_IDEMPOTENCY_KEY", "ORDER_CONFIRM", *(name for name, *_ in TRANSITIONS)}


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


def _placed_with_key(key: str) -> tuple[Order, list]:
    now = timezone.now()
    order = Order(
        id=uuid.uuid4(), user_id=7, status=Order.Status.PENDING, created_at=now, updated_at=now, driven_at=now
    )
    body = {"id": str(order.id), "items": [{"product_id": 3, "quantity": 2, "unit_price": None}]}
    values = {
        "user_id": 7,
        "key": key,
        "request_fingerprint": "f" * 64,
        "response_status": 201,
        "response_body": json.dumps(body),
        "order": order.id,
        "created_at": now,
    }
    return order, [
        *[getattr(order, name) for name in queries.ORDER_INSERT_FIELDS],
        *[values[name] for name in queries.IDEMPOTENCY_KEY_INSERT_FIELDS],
        order.id,
        [3],
        [2],
    ]


def test_order_insert_with_idempotency_key_writes_the_order_its_lines_and_the_key_once_per_user():
    # given
    order, parameters = _placed_with_key("key-1")

    # when
    run(queries.ORDER_INSERT_WITH_IDEMPOTENCY_KEY, parameters)

    # then
    stored = IdempotencyKey.objects.get(user_id=7, key="key-1")
    assert (stored.request_fingerprint, stored.response_status) == ("f" * 64, 201)
    lines = [{"product_id": 3, "quantity": 2, "unit_price": None}]
    assert stored.response_body == {"id": str(order.id), "items": lines}
    assert (stored.order_id, stored.created_at) == (order.id, order.created_at)
    assert Order.objects.get(id=order.id).status == Order.Status.PENDING
    assert list(OrderLine.objects.filter(order_id=order.id).values_list("product_id", "quantity")) == [(3, 2)]


def test_order_insert_with_a_key_used_before_writes_nothing():
    # given
    run(queries.ORDER_INSERT_WITH_IDEMPOTENCY_KEY, _placed_with_key("key-1")[1])
    second, parameters = _placed_with_key("key-1")

    # when
    with pytest.raises(IntegrityError), transaction.atomic():
        run(queries.ORDER_INSERT_WITH_IDEMPOTENCY_KEY, parameters)

    # then
    assert IdempotencyKey.objects.count() == 1
    assert not Order.objects.filter(id=second.id).exists()
    assert not OrderLine.objects.filter(order_id=second.id).exists()


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


def confirm(order_id: uuid.UUID, prices: dict[int, str], updated_at: datetime) -> list[tuple]:
    return run(
        queries.ORDER_CONFIRM,
        [list(prices), list(prices.values()), order_id, "confirmed", updated_at, "EUR", order_id, "pending"],
    )


def line_prices(order: Order) -> list[tuple[int, Decimal | None]]:
    return list(order.lines.order_by("product_id").values_list("product_id", "unit_price"))


def test_order_confirm_confirms_a_pending_order_totals_it_and_prices_its_lines_only():
    # given
    order = OrderFactory(created_at=timezone.now() - timedelta(1))
    OrderLineFactory(order=order, product_id=3, quantity=2)
    OrderLineFactory(order=order, product_id=9, quantity=3)
    other = OrderLineFactory(product_id=3)
    updated_at = timezone.now()

    # when: prices at the line column's scale after rounding (10.505 -> 10.51), one for a product not ordered
    [row] = confirm(order.id, {3: "10.505", 9: "0.99", 4: "1.00"}, updated_at)

    # then
    stored = Order.objects.get(id=order.id)
    assert (stored.status, stored.updated_at, stored.currency) == ("confirmed", updated_at, "EUR")
    assert stored.total == Decimal("23.99") == 2 * Decimal("10.51") + 3 * Decimal("0.99")
    assert line_prices(stored) == [(3, Decimal("10.51")), (9, Decimal("0.99"))]
    *returned, unpriced = row
    assert dict(zip(queries.ORDER_TRANSITION_RETURNING, returned, strict=True)) == {
        field: getattr(stored, field) for field in queries.ORDER_TRANSITION_RETURNING
    }
    assert unpriced == []
    assert OrderLine.objects.get(id=other.id).unit_price is None


def test_order_confirm_of_an_order_not_pending_returns_nothing_and_changes_nothing():
    # given
    order = OrderFactory(status=Order.Status.REJECTED, reject_reason="Not enough stock.")
    OrderLineFactory(order=order, product_id=3, quantity=2)
    before = Order.objects.get(id=order.id)

    # when
    rows = confirm(order.id, {3: "10.50"}, timezone.now())

    # then
    assert rows == []
    stored = Order.objects.get(id=order.id)
    assert [(field.name, getattr(stored, field.name)) for field in Order._meta.concrete_fields] == [
        (field.name, getattr(before, field.name)) for field in Order._meta.concrete_fields
    ]
    assert line_prices(stored) == [(3, None)]


def test_order_confirm_of_a_confirmed_order_leaves_its_prices_and_total():
    # given
    order = OrderFactory()
    OrderLineFactory(order=order, product_id=3, quantity=2)
    confirm(order.id, {3: "10.50"}, timezone.now())

    # when
    rows = confirm(order.id, {3: "99.00"}, timezone.now())

    # then
    assert rows == []
    stored = Order.objects.get(id=order.id)
    assert (stored.total, line_prices(stored)) == (Decimal("21.00"), [(3, Decimal("10.50"))])


def test_order_confirm_returns_the_lines_without_a_price():
    order = OrderFactory()
    for product_id in (9, 3, 5):
        OrderLineFactory(order=order, product_id=product_id, quantity=1)

    [row] = confirm(order.id, {5: "2.00"}, timezone.now())

    assert row[-1] == [3, 9]  # the caller rolls back: what the statement wrote then does not matter


def test_order_confirm_of_an_unknown_order_returns_nothing():
    assert confirm(uuid.uuid4(), {3: "10.50"}, timezone.now()) == []
