"""Reads of orders: a customer sees their own orders, an order operator sees every order."""

import uuid

from django.db.models import Prefetch, QuerySet

from common.auth.permissions import ORDER_OPERATOR, has_role
from orders_service.orders.models import Order, OrderLine


def _with_lines(orders: QuerySet) -> QuerySet:
    # One query for all the lines of a page; they land in ``order.line_items``.
    return orders.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id"), to_attr="line_items"))


def order_list(*, user, status: str | None = None) -> QuerySet[Order]:
    """The orders ``user`` may see, newest first, with their lines (``line_items``)."""
    orders = Order.objects.all() if has_role(user, ORDER_OPERATOR) else Order.objects.filter(user_id=user.id)
    if status:
        orders = orders.filter(status=status)
    return _with_lines(orders.order_by("-created_at", "id"))


def order_get(*, user, order_id: uuid.UUID) -> Order | None:
    """The order if ``user`` may see it (their own, or any for an order operator), else None."""
    return order_list(user=user).filter(id=order_id).first()
