"""The catalog side of the order saga: reserve every line of an order or none; release a reservation.

The stock rows are locked in ascending product id order (by
``queries.RESERVATION_RESERVE`` for a reservation, ``catalog.services.stock_adjust_many``
for a release) and checked before one UPDATE takes or gives back every line,
so concurrent reservations never oversell (and the CHECK ``available >= 0``
backs that up) and never deadlock.

A reservation runs once per order, so its common path is two statements, none
built by the ORM (whose Python costs several times each statement): the whole
reservation (``queries.RESERVATION_RESERVE``: the order's reservation looked up
and locked, the stock locked with the prices, checked, taken, the reservation
inserted with its lines), and the outbox answer. A rejection is rare: the
reason is worked out here from what that statement read, then recorded.

Both services run in the message handler's transaction, together with the
inbox row and the outbox answer. They are safe to run twice for one order: a
second ``catalog.reserve_stock`` (a re-driven order) finds the reservation and
answers again with the recorded outcome; a second ``catalog.release_stock``
releases nothing more and answers again.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from django.db import connection
from django.utils import timezone

from catalog_service.catalog.public_cache import catalog_changed
from catalog_service.catalog.selectors import PRODUCT_ID_MAX, ProductPrice, products_get_for_pricing
from catalog_service.catalog.services import first_shortage, stock_adjust_many
from catalog_service.reservations import queries
from catalog_service.reservations.models import Reservation
from common.database import prepared
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
    now = timezone.now()
    quantities = {line["product_id"]: line["quantity"] for line in lines}
    wanted = {product_id: quantity for product_id, quantity in quantities.items() if 0 < product_id <= PRODUCT_ID_MAX}
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            queries.RESERVATION_RESERVE,
            [order_id, now, len(quantities), Reservation.Status.RESERVED, list(wanted), list(wanted.values())],
        )
        rows = cursor.fetchall()
    # Each row: the order's reservation's fields, the new reservation's id, a locked product (queries).
    made_at = len(queries.RESERVATION_FIELDS)
    existing, made_id = rows[0][:made_at], rows[0][made_at]
    if existing[0] is not None:
        reservation = Reservation.from_db(connection.alias, queries.RESERVATION_FIELDS, existing)
        logger.info("order %s already has a %s reservation: answering again", order_id, reservation.status)
        _answer(reservation)
        return reservation
    locked = [row[made_at + 1 :] for row in rows if row[made_at + 1] is not None]
    products = {
        product_id: ProductPrice(
            product_id=product_id, sku=sku, name=name, price=price, currency=currency, is_active=is_active
        )
        for product_id, sku, name, price, currency, is_active, _ in locked
    }
    if made_id is not None:
        catalog_changed()
        reserved_lines: list[ReservedLine] = [
            {"product_id": product_id, "quantity": quantities[product_id], "unit_price": products[product_id].price}
            for product_id in sorted(quantities)
        ]
        currency = products[min(products)].currency  # (one currency for all: the statement checked)
        reservation = _reservation_made(reservation_id=made_id, order_id=order_id, currency=currency, now=now)
        _answer(reservation, reserved_lines)
        return reservation
    available = {product_id: available for product_id, *_, available in locked}
    reason = _rejection_reason(quantities=quantities, products=products, available=available)
    # Rare, so the ORM's INSERT; a concurrent reservation of the same order breaks the unique ``order_id``:
    # the message fails, and its retry answers with that one.
    reservation = Reservation.objects.create(
        order_id=order_id, status=Reservation.Status.REJECTED, reason=reason, created_at=now, updated_at=now
    )
    _answer(reservation)
    return reservation


def _rejection_reason(
    *, quantities: Mapping[int, int], products: dict[int, ProductPrice], available: Mapping[int, int]
) -> str:
    """Why the lines ``quantities`` cannot be reserved, given the ``products`` with a stock row and their
    ``available`` quantities, as ``queries.RESERVATION_RESERVE`` read them when it found they do not fit.

    The first problem by product id: unknown or inactive; then mixed currencies; then the first line short
    of stock. The rules are that statement's verdict, told in words.
    """
    if len(products) < len(quantities):
        # Unknown, or without a stock row: the product table tells which (rare, so a second query is fine).
        products = products | products_get_for_pricing(product_ids=quantities.keys() - products.keys())
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None:
            return f"Product {product_id} does not exist."
        if not product.is_active:
            return f"Product {product_id} ({product.name}) is not available."
    if len({product.currency for product in products.values()}) > 1:
        return "Products priced in different currencies cannot be ordered together."
    short = first_shortage(
        deltas={product_id: -quantity for product_id, quantity in quantities.items()}, available=available
    )
    if short is not None:
        return (
            f"Not enough stock for product {short} ({products[short].name}): "
            f"{available.get(short, 0)} available, {quantities[short]} requested."
        )
    raise RuntimeError(f"lines {dict(quantities)} refused without a reason")  # (the rules above disagree)


def _reservation_made(*, reservation_id: int, order_id: uuid.UUID, currency: str, now: datetime) -> Reservation:
    """The reservation ``queries.RESERVATION_RESERVE`` inserted, as if loaded: the values it wrote."""
    values: dict[str, Any] = {
        "id": reservation_id,
        "order_id": order_id,
        "status": Reservation.Status.RESERVED,
        "currency": currency,
        "reason": None,
        "created_at": now,
        "updated_at": now,
    }
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
