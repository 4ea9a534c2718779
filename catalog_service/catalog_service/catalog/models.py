"""Categories, products and their stock.

Stock lives in its own table, one row per product, so that the order saga's
reservations lock and update small stock rows, never the product rows that
the catalogue reads and managers edit.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

CURRENCY_CODE_VALIDATOR = RegexValidator(r"^[A-Z]{3}\Z", "Enter an ISO 4217 code of three capital letters.")


def catalog_currency() -> str:
    """The currency the catalogue sells in (``settings.CATALOG_CURRENCY``)."""
    return settings.CATALOG_CURRENCY


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="catalog_category_not_its_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default=catalog_currency, validators=[CURRENCY_CODE_VALIDATOR])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="catalog_product_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["is_active", "name", "id"], name="catalog_product_browse_name"),
            models.Index(fields=["is_active", "price", "id"], name="catalog_product_browse_price"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Stock(models.Model):
    """The quantity of a product available to order.

    ``available`` excludes what reservations hold: reserving decrements it,
    releasing increments it, both with conditional updates. The CHECK makes
    overselling impossible even for code that forgets the condition.
    """

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="stock", primary_key=True)
    available = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "stock level"
        constraints = [
            models.CheckConstraint(condition=models.Q(available__gte=0), name="catalog_stock_available_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.available} available"
