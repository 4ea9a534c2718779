"""Record and email a customer's order notification, once per order and status."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone

from users_service.notifications.models import Notification


def _wording(*, order_id: uuid.UUID, status: str, total: Decimal | None, currency: str | None, reason: str | None):
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

    Runs in the message handler's transaction: if the email cannot be sent the
    record is rolled back and the message retried, so a recorded notification
    has been emailed (at least once). A second call for the same order and
    status returns the first record and sends nothing.

    The record is inserted first and the unique (order, status) constraint
    decides whether this call is the first: a concurrent second call waits on
    the first one's insert, so it does not email too. The SQL is our own, one
    statement (two when it emails): this runs once per order in the saga, and
    building the ORM's three queries cost more CPU than everything else here.
    """
    subject, message = _wording(order_id=order_id, status=status, total=total, currency=currency, reason=reason)
    created_at = timezone.now()
    inserted = _notification_insert(
        user_id=user_id, order_id=order_id, status=status, subject=subject, message=message, created_at=created_at
    )
    if inserted is None:  # rare: a re-driven order told the same fact again
        return Notification.objects.get(order_id=order_id, order_status=status)
    notification_id, email = inserted
    emailed_at = None
    if email:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [email])
        emailed_at = timezone.now()  # once it has gone out, as before: not in the insert
        _notification_mark_emailed(notification_id=notification_id, emailed_at=emailed_at)
    return Notification.from_db(  # as if loaded: the values in the model's field order
        connection.alias,
        ["id", "user_id", "order_id", "order_status", "subject", "message", "created_at", "emailed_at"],
        [notification_id, user_id, order_id, status, subject, message, created_at, emailed_at],
    )


def _notification_insert(
    *, user_id: int, order_id: uuid.UUID, status: str, subject: str, message: str, created_at: datetime
) -> tuple[int, str | None] | None:
    """The new record's id and the address to email (None: no active account with one); None if already recorded.

    The address is read in the same statement, and only for a row actually inserted.
    """
    table = connection.ops.quote_name(Notification._meta.db_table)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, order_id, order_status, subject, message, created_at) "  # noqa: S608 - our own tables
            "VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (order_id, order_status) DO NOTHING "
            f"RETURNING id, (SELECT email FROM {users} WHERE id = %s AND is_active AND email <> '')",
            [user_id, order_id, status, subject, message, created_at, user_id],
        )
        return cursor.fetchone()


def _notification_mark_emailed(*, notification_id: int, emailed_at: datetime) -> None:
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET emailed_at = %s WHERE id = %s", [emailed_at, notification_id])  # noqa: S608 - our own table
