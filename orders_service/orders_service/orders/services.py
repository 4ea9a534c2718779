"""Writes of orders: placing (idempotently), cancelling, and the orders side of the saga.

Every status change happens in one transaction with the outbox message it
causes (``common.messaging.outbox``). Handlers of catalog's answers lock the
order row and act only from the status they expect, so a duplicate or late
answer changes nothing.
"""

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.database import prepared
from common.errors import ApplicationError, ConflictError
from common.messaging import outbox
from common.telemetry import metrics, tracing
from orders_service.orders import queries
from orders_service.orders.json_bodies import order_as_json
from orders_service.orders.list_cache import order_list_changed
from orders_service.orders.models import IdempotencyKey, Order, OrderLine

logger = logging.getLogger(__name__)


class OrderCannotBeCancelled(ConflictError):
    """Only a confirmed order can be cancelled (a cancelling one is accepted again, idempotently)."""

    default_message = "The order cannot be changed in its current status."


class IdempotencyKeyReused(ApplicationError):
    """The Idempotency-Key was used before with another request body."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request body."


# The HTTP status of a first placement: answered, and stored with the Idempotency-Key for repeats.
PLACED_STATUS = 201


@dataclass(frozen=True)
class OrderLineInput:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class StoredResponse:
    """The response to give for a POST with an Idempotency-Key (the first one, on a repeat)."""

    status: int
    body: dict
    order_id: uuid.UUID | None
    replayed: bool


def _reserve_stock_message(order: Order, lines: Iterable[OrderLine | OrderLineInput]) -> None:
    outbox.enqueue(
        "catalog.reserve_stock",
        {
            "order_id": order.id,
            "lines": [{"product_id": line.product_id, "quantity": line.quantity} for line in lines],
        },
    )


def _notify_message(order: Order) -> None:
    # Every saga status change notifies the user: their cached order list is stale once it commits.
    order_list_changed(user_id=order.user_id)
    outbox.enqueue(
        "users.notify_order_status",
        {
            "order_id": order.id,
            "user_id": order.user_id,
            "status": order.status,
            "total": order.total,
            "currency": order.currency,
            "reason": order.reject_reason,
        },
    )


def order_place(*, user_id: int, lines: list[OrderLineInput]) -> Order:
    """Create a pending order with its lines and ask catalog to reserve them (after commit).

    The returned order carries its lines in ``line_items``.
    """
    order = _order_new(user_id=user_id, lines=lines)
    _order_save(order)
    return order


def _order_new(*, user_id: int, lines: list[OrderLineInput]) -> Order:
    now = timezone.now()
    order = Order(
        id=uuid.uuid4(),
        user_id=user_id,
        status=Order.Status.PENDING,
        created_at=now,
        updated_at=now,
        driven_at=now,
        trace_context=tracing.current_trace_context(),
    )
    order.line_items = [OrderLine(order=order, product_id=line.product_id, quantity=line.quantity) for line in lines]
    return order


def _order_save(order: Order, *, idempotency_key: dict[str, Any] | None = None) -> None:
    """Insert the order with its lines (and ``idempotency_key``, the values of a key's row) and its message."""
    with transaction.atomic(savepoint=False):
        _order_insert(order, idempotency_key=idempotency_key)
        _reserve_stock_message(order, order.line_items)
        order_list_changed(user_id=order.user_id)
        transaction.on_commit(_order_counted_pending)


def _order_counted_pending() -> None:
    metrics.order_counted(status=Order.Status.PENDING)


def _order_insert(order: Order, *, idempotency_key: dict[str, Any] | None) -> None:
    """Insert the order, its ``line_items`` and the key it was placed with, if any, in one statement
    (``queries.ORDER_INSERT_WITH_IDEMPOTENCY_KEY``): every order placed runs this."""
    parameters = [getattr(order, name) for name in queries.ORDER_INSERT_FIELDS]
    statement = queries.ORDER_INSERT
    if idempotency_key is not None:
        parameters += [idempotency_key[name] for name in queries.IDEMPOTENCY_KEY_INSERT_FIELDS]
        statement = queries.ORDER_INSERT_WITH_IDEMPOTENCY_KEY
    parameters += [
        order.id,
        [line.product_id for line in order.line_items],
        [line.quantity for line in order.line_items],
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, statement, parameters)


def _stored_response(record: IdempotencyKey, *, request_fingerprint: str) -> StoredResponse:
    if record.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused
    return StoredResponse(
        status=record.response_status, body=record.response_body, order_id=record.order_id, replayed=True
    )


def idempotent_response_get(*, user_id: int, key: str, request_fingerprint: str) -> StoredResponse | None:
    """The first response given to this user's ``key``, or None if the key is new.

    Raises ``IdempotencyKeyReused`` if the key came with another request body.
    """
    record = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
    return None if record is None else _stored_response(record, request_fingerprint=request_fingerprint)


def order_place_idempotent(
    *,
    user_id: int,
    key: str,
    request_fingerprint: str,
    lines: list[OrderLineInput],
) -> StoredResponse:
    """Place an order once per (user, Idempotency-Key); the 201 it answers is stored for repeats.

    The key is written with the order, in its statement; a key stored before
    (a repeat, or a concurrent request with the same key) makes that statement
    fail, which rolls the whole transaction back, so no second order and no
    message, and the stored response is returned. A first request, the common
    case, costs no lookup of the key.
    """
    order = _order_new(user_id=user_id, lines=lines)
    body = order_as_json(order)
    idempotency_key = {
        "user_id": user_id,
        "key": key,
        "request_fingerprint": request_fingerprint,
        "response_status": PLACED_STATUS,
        "response_body": json.dumps(body),
        "order": order.id,
        "created_at": order.created_at,
    }
    try:
        with transaction.atomic():
            _order_save(order, idempotency_key=idempotency_key)
    except IntegrityError:
        stored = idempotent_response_get(user_id=user_id, key=key, request_fingerprint=request_fingerprint)
        if stored is None:
            raise
        return stored
    return StoredResponse(status=PLACED_STATUS, body=body, order_id=order.id, replayed=False)


def order_cancel(*, order_id: uuid.UUID) -> Order:
    """Start cancelling a confirmed order: ``cancelling``, and ask catalog to release its stock.

    A cancelling order is accepted again without a second message. Any other
    status raises ``OrderCannotBeCancelled``: a pending order settles within
    moments and is cancelled once confirmed; rejected and cancelled are final.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(id=order_id)
        if order.status == Order.Status.CANCELLING:
            return order
        if order.status != Order.Status.CONFIRMED:
            raise OrderCannotBeCancelled(f"An order in status {order.status} cannot be cancelled.")
        now = timezone.now()
        order.status, order.updated_at, order.driven_at = Order.Status.CANCELLING, now, now
        order.save(update_fields=["status", "updated_at", "driven_at"])
        # In the order's own trace (linked to this request's), so one order is one trace, its cancel included.
        with tracing.continued_span("order cancel", traceparent=order.trace_context, attributes=_span_of(order)):
            outbox.enqueue("catalog.release_stock", {"order_id": order.id})
        order_list_changed(user_id=order.user_id)
        transaction.on_commit(lambda: metrics.order_counted(status=Order.Status.CANCELLING))
    return order


def _order_transition(
    *, statement: str, order_id: uuid.UUID, source: str, target: str, changes: tuple[str, ...] = ()
) -> Order | None:
    """Move the order from ``source`` to ``target`` with a new ``updated_at`` and the values ``changes`` of the
    fields that ``statement`` (one of the transitions in ``queries``) sets.

    One conditional UPDATE, which also locks the row until the caller's transaction ends: of two handlers
    racing for the same order, the second waits and then finds it no longer in ``source``. Returns the order
    as it now is (not re-read), or None if it was not in ``source`` (a duplicate or late answer): then
    nothing changes. ``Order.DoesNotExist`` if there is no such order. A saga step runs for every order,
    hence SQL, not the ORM's read and save.
    """
    updated_at = timezone.now()
    with connection.cursor() as cursor:
        prepared.execute(cursor, statement, [target, updated_at, *changes, order_id, source])
        row = cursor.fetchone()
    if row is None:
        _order_not_moved(order_id=order_id, source=source, target=target)
        return None
    return _order_moved(order_id=order_id, target=target, updated_at=updated_at, returned=row)


def _order_not_moved(*, order_id: uuid.UUID, source: str, target: str) -> None:
    """A transition found no order in ``source``: ``Order.DoesNotExist`` if there is no such order at all."""
    if not Order.objects.filter(id=order_id).exists():  # not ours: fails, so the message is retried, then parked
        raise Order.DoesNotExist(f"no order {order_id}")
    logger.info("order %s is not %s: moving it to %s ignored", order_id, source, target)


def _order_moved(*, order_id: uuid.UUID, target: str, updated_at: datetime, returned: Sequence[Any]) -> Order:
    """The order a transition moved to ``target``, from the ``ORDER_TRANSITION_RETURNING`` values it returned;
    its metrics are counted once the transaction commits."""
    fields = dict(zip(queries.ORDER_TRANSITION_RETURNING, returned, strict=True))
    transaction.on_commit(
        lambda: _order_transition_counted(target=target, seconds=(updated_at - fields["created_at"]).total_seconds())
    )
    return Order(id=order_id, status=target, updated_at=updated_at, **fields)


def _order_transition_counted(*, target: str, seconds: float) -> None:
    """The metrics of a committed transition: the status reached and, for the saga's end, its duration."""
    metrics.order_counted(status=target)
    if target in (Order.Status.CONFIRMED, Order.Status.REJECTED):
        metrics.order_settled(outcome=target, seconds=seconds)


def order_confirm(*, order_id: uuid.UUID, currency: str, priced_lines: list[dict]) -> Order | None:
    """catalog reserved the stock: price the lines, total them, confirm, notify. Only from ``pending``.

    Like the two below, it runs in the caller's transaction (the message handler's), and like them it is one
    statement (``queries.ORDER_CONFIRM``) besides the message it sends: the transition also sets the currency
    and the total, and prices the lines. None, and nothing changed, if the order is not pending (a duplicate or
    late answer); ``Order.DoesNotExist`` if there is no such order; ``ValueError`` if ``priced_lines`` lacks
    the price of one of the order's lines, so that the caller's transaction rolls back, status, prices and all.
    """
    # (distinct product ids) Decimals: a prepared statement takes an array of strings as text[], not numeric[].
    prices = {line["product_id"]: Decimal(line["unit_price"]) for line in priced_lines}
    source, target, updated_at = Order.Status.PENDING, Order.Status.CONFIRMED, timezone.now()
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            queries.ORDER_CONFIRM,
            [list(prices), list(prices.values()), order_id, target, updated_at, currency, order_id, source],
        )
        row = cursor.fetchone()
    if row is None:
        _order_not_moved(order_id=order_id, source=source, target=target)
        return None
    *returned, unpriced = row
    if unpriced:
        raise ValueError(f"catalog's answer for order {order_id} has no price for products {unpriced}")
    order = _order_moved(order_id=order_id, target=target, updated_at=updated_at, returned=returned)
    _notify_message(order)
    return order


def order_reject(*, order_id: uuid.UUID, reason: str) -> Order | None:
    """catalog reserved nothing: reject with its reason, notify. Only from ``pending``."""
    order = _order_transition(
        statement=queries.ORDER_REJECT,
        order_id=order_id,
        source=Order.Status.PENDING,
        target=Order.Status.REJECTED,
        changes=(reason,),
    )
    if order is not None:
        _notify_message(order)
    return order


def order_mark_cancelled(*, order_id: uuid.UUID) -> Order | None:
    """catalog released the stock: cancelled, notify. Only from ``cancelling``."""
    order = _order_transition(
        statement=queries.ORDER_MARK_CANCELLED,
        order_id=order_id,
        source=Order.Status.CANCELLING,
        target=Order.Status.CANCELLED,
    )
    if order is not None:
        _notify_message(order)
    return order


def order_redrive(*, order_id: uuid.UUID) -> bool:
    """Send again the message that moves a pending or cancelling order on; False for any other status."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(id=order_id)
        if order.status not in (Order.Status.PENDING, Order.Status.CANCELLING):
            return False
        _redrive_message(order)
        order.driven_at = timezone.now()
        order.save(update_fields=["driven_at"])
    logger.info("order %s re-driven (%s)", order.id, order.status)
    return True


def _redrive_message(order: Order) -> None:
    """The message that moves a pending or cancelling order on, sent again in the order's own trace."""
    with tracing.continued_span("order redrive", traceparent=order.trace_context, attributes=_span_of(order)):
        if order.status == Order.Status.PENDING:
            _reserve_stock_message(order, order.lines.all())
        else:
            outbox.enqueue("catalog.release_stock", {"order_id": order.id})


def _span_of(order: Order) -> dict[str, str]:
    return {"order_id": str(order.id), "order.status": order.status}


def orders_redrive_stuck(*, older_than_seconds: float | None = None, limit: int = 200) -> int:
    """Re-drive the orders pending or cancelling whose last message is older than the saga timeout.

    Rows are claimed with SKIP LOCKED, so an order being handled right now is
    left alone, and two runs never re-drive the same order at once.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.ORDERS_SAGA_TIMEOUT_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with transaction.atomic():
        stuck = list(
            Order.objects.filter(status__in=[Order.Status.PENDING, Order.Status.CANCELLING], driven_at__lt=cutoff)
            .order_by("driven_at")
            .select_for_update(skip_locked=True)
            .prefetch_related("lines")[:limit]
        )
        now = timezone.now()
        for order in stuck:
            _redrive_message(order)
            order.driven_at = now
        Order.objects.bulk_update(stuck, ["driven_at"])
    if stuck:
        logger.warning("re-drove %d stuck orders", len(stuck))
    return len(stuck)
