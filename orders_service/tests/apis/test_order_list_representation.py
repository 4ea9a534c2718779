"""The list endpoint's row-based rendering is exactly the serializer's rendering of the same order."""

from decimal import Decimal

import pytest

from orders_service.orders import selectors
from orders_service.orders.apis import OrderOutputSerializer
from orders_service.orders.json_bodies import order_row_as_json
from orders_service.orders.models import Order, OrderLine
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


class Customer:
    id = 31
    is_authenticated = True
    roles = frozenset()

    def has_role(self, role):
        return False


@pytest.mark.parametrize(
    ("status", "total", "unit_price", "reject_reason"),
    [
        (Order.Status.PENDING, None, None, None),
        (Order.Status.CONFIRMED, Decimal("31.50"), Decimal("10.50"), None),
        (Order.Status.REJECTED, None, None, "Not enough stock for product 7 (Mug): 0 available, 1 requested."),
    ],
)
def test_row_rendering_equals_the_serializer(status, total, unit_price, reject_reason):
    # given
    order = OrderFactory(user_id=Customer.id, status=status, total=total, currency="EUR", reject_reason=reject_reason)
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.create(order=order, product_id=7, quantity=1, unit_price=unit_price)
    OrderLine.objects.create(order=order, product_id=3, quantity=2, unit_price=unit_price)

    # when
    [row] = selectors.order_rows(user=Customer())
    rendered = order_row_as_json(row, selectors.order_lines_by_order(order_ids=[order.id])[order.id])

    # then
    expected = OrderOutputSerializer(selectors.order_list(user=Customer()).get()).data
    assert rendered == dict(expected) | {"items": [dict(item) for item in expected["items"]]}
