"""Reads of orders: a customer sees their own orders, an order operator sees every order."""

import uuid
from typing import Any

from django.db.models import Prefetch, QuerySet

from common.auth.permissions import ORDER_OPERATOR, has_role
from common.auth.tokens import TokenUser
from orders_service.orders.models import Order, OrderLine


def _with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    # One query for all the lines of a page; they land in ``order.line_items``. (Order declares that attribute,
    # services set it too: the django plugin's own declaration from to_attr would be a second one.)
    lines = Prefetch("lines", queryset=OrderLine.objects.order_by("id"), to_attr="line_items")
    return orders.prefetch_related(lines)  # type: ignore[no-redef]


ORDER_ROW_FIELDS = ("id", "status", "total", "currency", "reject_reason", "created_at", "updated_at")


def _visible_orders(*, user: TokenUser, status: str | None) -> QuerySet[Order]:
    orders = Order.objects.all() if has_role(user, ORDER_OPERATOR) else Order.objects.filter(user_id=user.id)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "id")


def order_list(*, user: TokenUser, status: str | None = None) -> QuerySet[Order]:
    """The orders ``user`` may see, newest first, with their lines (``line_items``)."""
    return _with_lines(_visible_orders(user=user, status=status))


def order_rows(*, user: TokenUser, status: str | None = None) -> QuerySet[Order, dict[str, Any]]:
    """The same orders as ``order_list``, as plain rows of ``ORDER_ROW_FIELDS`` (no model instances).

    The list endpoint pages these and adds the lines with ``order_lines_by_order``:
    building 20 orders and 40 lines as models and serializers costs several
    times the queries themselves.
    """
    return _visible_orders(user=user, status=status).values(*ORDER_ROW_FIELDS)


def order_lines_by_order(*, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The lines (``product_id``, ``quantity``, ``unit_price``) of each order, in one query."""
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {order_id: [] for order_id in order_ids}
    rows = OrderLine.objects.filter(order_id__in=order_ids).order_by("id")
    fields = ("order_id", "product_id", "quantity", "unit_price")
    for order_id, product_id, quantity, unit_price in rows.values_list(*fields):
        lines[order_id].append({"product_id": product_id, "quantity": quantity, "unit_price": unit_price})
    return lines


def order_get(*, user: TokenUser, order_id: uuid.UUID) -> Order | None:
    """The order if ``user`` may see it (their own, or any for an order operator), else None."""
    return order_list(user=user).filter(id=order_id).first()
