"""The orders side of the saga, through the real message handlers (inbox, outbox) and the real broker."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.db import transaction
from django.utils import timezone

from common.messaging.models import InboxMessage
from common_testing.messaging import deliver, queued_messages
from orders_service.orders import services, tasks
from orders_service.orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending_order():
    order = OrderFactory(user_id=5)
    OrderLineFactory(order=order, product_id=3, quantity=2)
    OrderLineFactory(order=order, product_id=7, quantity=1)
    return order


def reserved_payload(order):
    return {
        "order_id": str(order.id),
        "currency": "EUR",
        "lines": [
            {"product_id": 3, "quantity": 2, "unit_price": "10.50"},
            {"product_id": 7, "quantity": 1, "unit_price": "0.99"},
        ],
    }


def test_stock_reserved_confirms_with_prices_and_total_and_notifies(pending_order, broker):
    # when
    outcome = deliver(tasks.stock_reserved, reserved_payload(pending_order))

    # then
    assert outcome == "applied"
    order = Order.objects.get(id=pending_order.id)
    assert order.status == "confirmed"
    assert order.total == Decimal("21.99")
    assert order.currency == "EUR"
    assert order.updated_at > order.created_at
    assert sorted(order.lines.values_list("unit_price", flat=True)) == [Decimal("0.99"), Decimal("10.50")]
    [notification] = queued_messages(broker, "users")
    assert notification["kwargs"]["message"]["payload"] == {
        "order_id": str(order.id),
        "user_id": 5,
        "status": "confirmed",
        "total": "21.99",
        "currency": "EUR",
        "reason": None,
    }


def test_an_answer_without_the_price_of_a_line_changes_nothing_and_is_retried(pending_order, broker):
    payload = reserved_payload(pending_order)
    payload["lines"] = [line for line in payload["lines"] if line["product_id"] != 7]

    with pytest.raises(Retry):
        deliver(tasks.stock_reserved, payload)

    order = Order.objects.get(id=pending_order.id)
    assert (order.status, order.total, order.currency) == ("pending", None, None)
    assert list(order.lines.values_list("unit_price", flat=True)) == [None, None]
    assert queued_messages(broker, "users") == []
    [retry] = queued_messages(broker, "orders")
    assert retry["headers"]["task"] == "orders.stock_reserved"


def test_a_confirmation_is_one_statement_and_its_message(pending_order, broker, django_assert_num_queries):
    # when: the confirmation (status, currency, total, prices), then the notification into the outbox
    with transaction.atomic(), django_assert_num_queries(2):
        order = services.order_confirm(
            order_id=pending_order.id, currency="EUR", priced_lines=reserved_payload(pending_order)["lines"]
        )

    # then
    stored = Order.objects.get(id=pending_order.id)
    assert (order.status, order.total, order.currency) == (stored.status, stored.total, stored.currency)
    assert (stored.status, stored.total) == ("confirmed", Decimal("21.99"))


def test_a_second_confirmation_with_other_prices_returns_none_and_changes_nothing(pending_order, broker):
    # given
    deliver(tasks.stock_reserved, reserved_payload(pending_order))
    lines_before = list(pending_order.lines.values_list("product_id", "unit_price"))
    order_before = Order.objects.values().get(id=pending_order.id)
    repriced = [{**line, "unit_price": "99.00"} for line in reserved_payload(pending_order)["lines"]]

    # when
    with transaction.atomic():
        outcome = services.order_confirm(order_id=pending_order.id, currency="USD", priced_lines=repriced)

    # then
    assert outcome is None
    assert Order.objects.values().get(id=pending_order.id) == order_before
    assert list(pending_order.lines.values_list("product_id", "unit_price")) == lines_before
    assert len(queued_messages(broker, "users")) == 1


def test_a_confirmation_of_an_unknown_order_raises_does_not_exist(broker):
    with pytest.raises(Order.DoesNotExist), transaction.atomic():
        services.order_confirm(order_id=uuid.uuid4(), currency="EUR", priced_lines=[])

    assert queued_messages(broker, "users") == []


def test_the_same_message_delivered_three_times_has_one_effect(pending_order, broker):
    message_id = uuid.uuid4()

    outcomes = [deliver(tasks.stock_reserved, reserved_payload(pending_order), message_id=message_id) for _ in range(3)]

    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert InboxMessage.objects.filter(message_id=message_id).count() == 1
    assert len(queued_messages(broker, "users")) == 1


def test_a_second_answer_for_a_settled_order_changes_nothing(pending_order, broker):
    deliver(tasks.stock_reserved, reserved_payload(pending_order))

    deliver(tasks.stock_rejected, {"order_id": str(pending_order.id), "reason": "late"})
    deliver(tasks.stock_reserved, reserved_payload(pending_order))

    order = Order.objects.get(id=pending_order.id)
    assert (order.status, order.reject_reason) == ("confirmed", None)
    assert len(queued_messages(broker, "users")) == 1


def test_stock_rejected_rejects_with_the_reason_and_notifies(pending_order, broker):
    deliver(tasks.stock_rejected, {"order_id": str(pending_order.id), "reason": "Not enough stock for product 3."})

    order = Order.objects.get(id=pending_order.id)
    assert (order.status, order.reject_reason, order.total) == ("rejected", "Not enough stock for product 3.", None)
    [notification] = queued_messages(broker, "users")
    assert notification["kwargs"]["message"]["payload"]["status"] == "rejected"


def test_stock_released_cancels_a_cancelling_order_and_notifies(broker):
    order = OrderFactory(user_id=5, status="cancelling")

    deliver(tasks.stock_released, {"order_id": str(order.id)})

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert queued_messages(broker, "users")[0]["kwargs"]["message"]["payload"]["status"] == "cancelled"


def test_redrive_resends_the_message_of_orders_stuck_past_the_timeout(broker, settings):
    # given
    settings.ORDERS_SAGA_TIMEOUT_SECONDS = 30
    long_ago = timezone.now() - timedelta(seconds=60)
    stuck_pending = OrderFactory(created_at=long_ago)
    OrderLineFactory(order=stuck_pending, product_id=4, quantity=3)
    stuck_cancelling = OrderFactory(status="cancelling", created_at=long_ago)
    OrderFactory()  # pending, but recent
    OrderFactory(status="confirmed", created_at=long_ago)

    # when
    redriven = services.orders_redrive_stuck()

    # then
    assert redriven == 2
    sent = {
        message["headers"]["task"]: message["kwargs"]["message"]["payload"]
        for message in queued_messages(broker, "catalog")
    }
    assert sent == {
        "catalog.reserve_stock": {"order_id": str(stuck_pending.id), "lines": [{"product_id": 4, "quantity": 3}]},
        "catalog.release_stock": {"order_id": str(stuck_cancelling.id)},
    }
    # and not again before the next timeout
    assert services.orders_redrive_stuck() == 0


def test_an_answer_for_an_unknown_order_fails_and_is_retried(broker):
    with pytest.raises(Retry):
        deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())})

    [retry] = queued_messages(broker, "orders")
    assert retry["headers"]["task"] == "orders.stock_released"
    assert retry["headers"]["retries"] == 1
