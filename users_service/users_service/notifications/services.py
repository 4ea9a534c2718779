"""Record and email a customer's order notification, once per order and status."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
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
    """
    existing = Notification.objects.filter(order_id=order_id, order_status=status).first()
    if existing is not None:
        return existing
    subject, message = _wording(order_id=order_id, status=status, total=total, currency=currency, reason=reason)
    notification = Notification(
        user_id=user_id,
        order_id=order_id,
        order_status=status,
        subject=subject,
        message=message,
        created_at=timezone.now(),
    )
    email = (
        get_user_model()
        .objects.filter(id=user_id, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .first()
    )
    if email:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [email])
        notification.emailed_at = timezone.now()
    notification.save()
    return notification
