"""The catalog side of the order saga: reserve every line of an order or none; release a reservation.

Stock changes go through ``catalog.services.stock_adjust_many``: conditional
UPDATEs in ascending product id order, so concurrent reservations never
oversell (and the CHECK ``available >= 0`` backs that up) and never deadlock.

Both services run in the message handler's transaction, together with the
inbox row and the outbox answer. They are safe to run twice for one order: a
second ``catalog.reserve_stock`` (a re-driven order) finds the reservation and
answers again with the recorded outcome; a second ``catalog.release_stock``
releases nothing more and answers again.
"""

import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from catalog_service.catalog.selectors import products_get_for_pricing
from catalog_service.catalog.services import InsufficientStock, stock_adjust_many
from catalog_service.reservations.models import Reservation, ReservationLine
from common.messaging import outbox

logger = logging.getLogger(__name__)


def _answer(reservation: Reservation, lines: list[ReservationLine] | None = None) -> None:
    if reservation.status == Reservation.Status.RESERVED:
        lines = reservation.lines.all() if lines is None else lines
        outbox.enqueue(
            "orders.stock_reserved",
            {
                "order_id": reservation.order_id,
                "currency": reservation.currency,
                "lines": [
                    {"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}
                    for line in lines
                ],
            },
        )
    elif reservation.status == Reservation.Status.REJECTED:
        outbox.enqueue("orders.stock_rejected", {"order_id": reservation.order_id, "reason": reservation.reason})
    else:
        # Released: the order has been cancelled since; a late reserve request gets no answer.
        logger.info("reservation for order %s was released: reserve_stock ignored", reservation.order_id)


def _test_delay_hook() -> None:
    """Test-only: with ``CATALOG_RESERVE_TEST_DELAY_FILE`` set and that file present, pause mid-reservation.

    The file holds the seconds to sleep; the process writes its pid next to it
    (``<file>.pid``) first, so a test can kill it with the transaction open.
    Off by default (the setting is empty), and costs one ``stat`` when set.
    """
    delay_file = settings.CATALOG_RESERVE_TEST_DELAY_FILE
    if not delay_file or not os.path.exists(delay_file):
        return
    seconds = float(Path(delay_file).read_text().strip() or 0)
    Path(f"{delay_file}.pid").write_text(str(os.getpid()))
    time.sleep(seconds)


def reservation_reserve(*, order_id: uuid.UUID, lines: list[dict]) -> Reservation:
    """Reserve every line (``product_id``, ``quantity``) of an order, or none; answer orders either way.

    Rejected, with a reason fit for the customer, when a product is unknown or
    inactive, when the products are priced in different currencies, or when a
    product has not enough stock.
    """
    existing = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if existing is not None:
        logger.info("order %s already has a %s reservation: answering again", order_id, existing.status)
        _answer(existing)
        return existing
    now = timezone.now()
    quantities = {line["product_id"]: line["quantity"] for line in lines}
    products = products_get_for_pricing(product_ids=quantities)
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
            stock_adjust_many(deltas={product_id: -quantity for product_id, quantity in quantities.items()})
        except InsufficientStock as shortage:
            reason = (
                f"Not enough stock for product {shortage.product_id} ({products[shortage.product_id].name}): "
                f"{shortage.available or 0} available, {quantities[shortage.product_id]} requested."
            )
    if reason is not None:
        reservation = Reservation.objects.create(
            order_id=order_id, status=Reservation.Status.REJECTED, reason=reason, created_at=now, updated_at=now
        )
        _answer(reservation)
        return reservation
    _test_delay_hook()
    reservation = Reservation.objects.create(
        order_id=order_id, status=Reservation.Status.RESERVED, currency=currencies.pop(), created_at=now, updated_at=now
    )
    reserved_lines = ReservationLine.objects.bulk_create(
        [
            ReservationLine(
                reservation=reservation,
                product_id=product_id,
                quantity=quantities[product_id],
                unit_price=products[product_id].price,
            )
            for product_id in sorted(quantities)
        ]
    )
    _answer(reservation, reserved_lines)
    return reservation


def reservation_release(*, order_id: uuid.UUID) -> Reservation | None:
    """Give back the stock reserved for an order (once), and tell orders it is released."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is not None and reservation.status == Reservation.Status.RESERVED:
        stock_adjust_many(deltas={line.product_id: line.quantity for line in reservation.lines.all()})
        reservation.status, reservation.updated_at = Reservation.Status.RELEASED, timezone.now()
        reservation.save(update_fields=["status", "updated_at"])
    outbox.enqueue("orders.stock_released", {"order_id": order_id})
    return reservation
