"""Reads of notifications."""

from django.db.models import QuerySet

from users_service.notifications.models import Notification


def notification_list(*, user_id: int) -> QuerySet[Notification]:
    """A user's own notifications, newest first."""
    return Notification.objects.filter(user_id=user_id).order_by("-created_at", "-id")
