"""Orders, their lines, and the idempotency keys of order placement.

``user_id`` and ``product_id`` are plain values: users and products live in
other services, with no foreign key across services.
"""

import uuid

from django.db import models


class Order(models.Model):
    """An order and where it stands in the saga.

    ``pending`` -> ``confirmed`` | ``rejected``; ``confirmed`` -> ``cancelling`` -> ``cancelled``.
    ``updated_at`` is the time of the last status change, so ``updated_at - created_at``
    of a confirmed order is its saga latency. ``driven_at`` is when the message that
    should move the order on was last sent (re-drive of stuck orders looks at it).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        CANCELLING = "cancelling"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, null=True, blank=True)
    reject_reason = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    driven_at = models.DateTimeField()
    # The trace of the request that placed it (a W3C traceparent, common.telemetry): its cancel and re-drives
    # continue that trace, so one order is one trace.
    trace_context = models.CharField(max_length=55, blank=True, default="", db_default="")

    # Set by selectors.order_list's prefetch (to_attr), not a column.
    line_items: list["OrderLine"]

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at", "id"], name="orders_order_user_recent"),
            models.Index(fields=["-created_at", "id"], name="orders_order_recent"),
            models.Index(
                fields=["driven_at"],
                name="orders_order_in_flight",
                condition=models.Q(status__in=["pending", "cancelling"]),
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"


class OrderLine(models.Model):
    """A product and quantity of an order; ``unit_price`` is set by catalog when it confirms the order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="orders_orderline_product_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=1000), name="orders_orderline_quantity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class IdempotencyKey(models.Model):
    """The first response to a POST with this ``Idempotency-Key`` from this user, replayed on a retry."""

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON request body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="orders_idempotencykey_per_user")]

    def __str__(self) -> str:
        return f"{self.key} (user {self.user_id})"
