"""What catalog holds for each order: one reservation per order id (a plain value from orders_service)."""

from django.db import models


class Reservation(models.Model):
    """The outcome of an order's reservation, kept so that a repeated request gets the same answer.

    ``reserved``: the lines' stock is taken out of ``Stock.available``;
    ``rejected``: nothing was taken, ``reason`` says why;
    ``released``: the stock was given back (the order was cancelled).
    """

    class Status(models.TextChoices):
        RESERVED = "reserved"
        REJECTED = "rejected"
        RELEASED = "released"

    order_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    currency = models.CharField(max_length=3, null=True, blank=True)
    reason = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"reservation for order {self.order_id} ({self.status})"


class ReservationLine(models.Model):
    """A product and quantity held for the order, at the unit price catalog quoted."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "product_id"], name="reservations_line_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
