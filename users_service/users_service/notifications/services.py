"""Record and email a customer's order notification, once per order and status."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from common.database import prepared
from users_service.notifications import queries
from users_service.notifications.models import Notification


def _wording(
    *, order_id: uuid.UUID, status: str, total: Decimal | None, currency: str | None, reason: str | None
) -> tuple[str, str]:
    reference = str(order_id)[:8]
    if status == Notification.OrderStatus.CONFIRMED:
        return f"Your order {reference} is confirmed", f"Your order {order_id} is confirmed. Total: {total} {currency}."
    if status == Notification.OrderStatus.REJECTED:
        return f"Your order {reference} could not be placed", f"Your order {order_id} could not be placed: {reason}"
    return f"Your order {reference} is cancelled", f"Your order {order_id} is cancelled; nothing will be charged."


def notification_send(
    *,
    user_id: int,
    order_id: uuid.UUID,
    status: str,
    total: Decimal | None = None,
    currency: str | None = None,
    reason: str | None = None,
) -> Notification:
    """Record the notification and email it to the user's address (if the account has one).

    Runs in the message handler's transaction (its own if called outside one):
    if the email cannot be sent the record is rolled back and the message
    retried, so a recorded notification has been emailed (at least once). A second call for the same order and
    status returns the first record and sends nothing.

    The record is inserted first and the unique (order, status) constraint
    decides whether this call is the first: a concurrent second call waits on
    the first one's insert, so it does not email too. The SQL is our own, one
    statement: this runs once per order in the saga, and building the ORM's
    three queries cost more CPU than everything else here (``queries``). So the
    insert records ``emailed_at`` already when there is an address to email:
    the time of the record, just before the email is handed to the mail
    backend. No other transaction sees the row before the email has gone out
    and the row has committed, and a failed send rolls it back, ``emailed_at``
    and all.
    """
    subject, message = _wording(order_id=order_id, status=status, total=total, currency=currency, reason=reason)
    values: dict[str, Any] = {
        "user_id": user_id,
        "order_id": order_id,
        "order_status": status,
        "subject": subject,
        "message": message,
        "created_at": timezone.now(),
    }
    emailed_at = values["created_at"]  # recorded only if there is an address, and committed only once sent
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        prepared.execute(
            cursor,
            queries.NOTIFICATION_INSERT,
            [user_id, *(values[name] for name in queries.NOTIFICATION_INSERT_FIELDS), emailed_at],
        )
        inserted = cursor.fetchone()
        if inserted is None:  # rare: a re-driven order told the same fact again
            return Notification.objects.get(order_id=order_id, order_status=status)
        values["id"], email = inserted
        values["emailed_at"] = emailed_at if email else None
        if email:
            send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [email])
    return Notification.from_db(  # as if loaded: the values in the model's field order
        connection.alias, queries.NOTIFICATION_FIELDS, [values[name] for name in queries.NOTIFICATION_FIELDS]
    )
