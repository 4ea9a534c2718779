"""What a customer was told about their orders."""

from django.db import models


class Notification(models.Model):
    """One per order and status: a second message for the same fact records (and emails) nothing more.

    ``user_id`` is a plain value, not a foreign key: a notification for an
    account that no longer exists (or was never mirrored here) is still
    recorded, just not emailed.
    """

    class OrderStatus(models.TextChoices):
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    user_id = models.BigIntegerField()
    order_id = models.UUIDField()
    order_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    subject = models.CharField(max_length=200)
    message = models.TextField()
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "order_status"], name="notifications_once_per_order_status"),
        ]
        indexes = [models.Index(fields=["user_id", "-created_at", "-id"], name="notifications_user_recent")]

    def __str__(self) -> str:
        return self.subject
