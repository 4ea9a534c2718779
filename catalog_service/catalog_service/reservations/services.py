"""The catalog side of the order saga: reserve every line of an order or none; release a reservation.

Stock changes go through ``catalog.services``: the stock rows are locked in
ascending product id order (``stock_lock_for_pricing`` for a reservation,
``stock_adjust_many`` for a release) and checked before one UPDATE takes or
gives back every line, so concurrent reservations never oversell (and the
CHECK ``available >= 0`` backs that up) and never deadlock.

A reservation runs once per order, so its common path is five statements,
none built by the ORM (whose Python costs several times each statement): the
order's reservation, looked up and locked; the stock rows, locked with their
prices; the stock UPDATE; the reservation with its lines in one INSERT; the
outbox answer.

Both services run in the message handler's transaction, together with the
inbox row and the outbox answer. They are safe to run twice for one order: a
second ``catalog.reserve_stock`` (a re-driven order) finds the reservation and
answers again with the recorded outcome; a second ``catalog.release_stock``
releases nothing more and answers again.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from django.db import connection
from django.utils import timezone

from catalog_service.catalog.selectors import products_get_for_pricing
from catalog_service.catalog.services import (
    InsufficientStock,
    stock_adjust_locked,
    stock_adjust_many,
    stock_lock_for_pricing,
)
from catalog_service.reservations import queries
from catalog_service.reservations.models import Reservation
from common.messaging import outbox

logger = logging.getLogger(__name__)


class RequestedLine(TypedDict):
    """A line of ``catalog.reserve_stock``'s payload."""

    product_id: int
    quantity: int


class ReservedLine(TypedDict):
    """A reserved line, as stored and as told to orders in ``orders.stock_reserved``."""

    product_id: int
    quantity: int
    unit_price: Decimal


def _answer(reservation: Reservation, lines: list[ReservedLine] | None = None) -> None:
    """Tell orders the outcome; ``lines`` (``product_id``, ``quantity``, ``unit_price``) default to the stored ones."""
    if reservation.status == Reservation.Status.RESERVED:
        if lines is None:
            lines = list(reservation.lines.values("product_id", "quantity", "unit_price"))
        outbox.enqueue(
            "orders.stock_reserved",
            {"order_id": reservation.order_id, "currency": reservation.currency, "lines": lines},
        )
    elif reservation.status == Reservation.Status.REJECTED:
        outbox.enqueue("orders.stock_rejected", {"order_id": reservation.order_id, "reason": reservation.reason})
    else:
        # Released: the order has been cancelled since; a late reserve request gets no answer.
        logger.info("reservation for order %s was released: reserve_stock ignored", reservation.order_id)


def reservation_reserve(*, order_id: uuid.UUID, lines: list[RequestedLine]) -> Reservation:
    """Reserve every line (``product_id``, ``quantity``) of an order, or none; answer orders either way.

    Rejected, with a reason fit for the customer, when a product is unknown or
    inactive, when the products are priced in different currencies, or when a
    product has not enough stock.
    """
    existing = _reservation_get_locked(order_id=order_id)
    if existing is not None:
        logger.info("order %s already has a %s reservation: answering again", order_id, existing.status)
        _answer(existing)
        return existing
    now = timezone.now()
    quantities = {line["product_id"]: line["quantity"] for line in lines}
    locked = stock_lock_for_pricing(product_ids=quantities)
    products = {product_id: stock.product for product_id, stock in locked.items()}
    if len(products) < len(quantities):
        # Unknown, or without a stock row: the product table tells which (rare, so a second query is fine).
        products |= products_get_for_pricing(product_ids=quantities.keys() - products.keys())
    reason = None
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None:
            reason = f"Product {product_id} does not exist."
        elif not product.is_active:
            reason = f"Product {product_id} ({product.name}) is not available."
        if reason:
            break
    currencies = {product.currency for product in products.values()}
    if reason is None and len(currencies) > 1:
        reason = "Products priced in different currencies cannot be ordered together."
    if reason is None:
        try:
            stock_adjust_locked(
                deltas={product_id: -quantity for product_id, quantity in quantities.items()}, locked=locked
            )
        except InsufficientStock as shortage:
            reason = (
                f"Not enough stock for product {shortage.product_id} ({products[shortage.product_id].name}): "
                f"{shortage.available or 0} available, {quantities[shortage.product_id]} requested."
            )
    if reason is not None:
        reservation = _reservation_insert(
            order_id=order_id, status=Reservation.Status.REJECTED, reason=reason, lines=[], now=now
        )
        _answer(reservation)
        return reservation
    reserved_lines: list[ReservedLine] = [
        {"product_id": product_id, "quantity": quantities[product_id], "unit_price": products[product_id].price}
        for product_id in sorted(quantities)
    ]
    reservation = _reservation_insert(
        order_id=order_id, status=Reservation.Status.RESERVED, currency=currencies.pop(), lines=reserved_lines, now=now
    )
    _answer(reservation, reserved_lines)
    return reservation


def _reservation_get_locked(*, order_id: uuid.UUID) -> Reservation | None:
    """The order's reservation, locked until commit (a concurrent release waits for us), or None.

    A raw query: every order asks, and almost every one finds nothing.
    """
    with connection.cursor() as cursor:
        cursor.execute(queries.RESERVATION_GET_LOCKED, [order_id])
        row = cursor.fetchone()
    return None if row is None else Reservation.from_db(connection.alias, queries.RESERVATION_FIELDS, row)


def _reservation_insert(
    *,
    order_id: uuid.UUID,
    status: str,
    lines: Sequence[Mapping[str, Any]],  # ReservedLines, read by column name (queries.LINE_FIELDS)
    now: datetime,
    currency: str | None = None,
    reason: str | None = None,
) -> Reservation:
    """Insert the reservation and its ``lines`` in one statement, where the ORM needs two (and more Python).

    The lines travel as three arrays, one per column, unnested into rows. A concurrent reservation of the
    same order breaks the unique ``order_id``: the message fails, and its retry answers with that one.
    """
    values: dict[str, Any] = {
        "order_id": order_id,
        "status": status,
        "currency": currency,
        "reason": reason,
        "created_at": now,
        "updated_at": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            queries.RESERVATION_INSERT,
            [
                *(values[name] for name in queries.RESERVATION_INSERT_FIELDS),
                *([line[name] for line in lines] for name in queries.LINE_FIELDS),
            ],
        )
        (values["id"],) = cursor.fetchone()
    return Reservation.from_db(
        connection.alias, queries.RESERVATION_FIELDS, [values[name] for name in queries.RESERVATION_FIELDS]
    )


def reservation_release(*, order_id: uuid.UUID) -> Reservation | None:
    """Give back the stock reserved for an order (once), and tell orders it is released."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is not None and reservation.status == Reservation.Status.RESERVED:
        stock_adjust_many(deltas={line.product_id: line.quantity for line in reservation.lines.all()})
        reservation.status, reservation.updated_at = Reservation.Status.RELEASED, timezone.now()
        reservation.save(update_fields=["status", "updated_at"])
    outbox.enqueue("orders.stock_released", {"order_id": order_id})
    return reservation
