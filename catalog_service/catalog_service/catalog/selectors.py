"""Reads of the catalogue. Every selector runs a fixed number of queries, whatever the size of the result."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from catalog_service.catalog.filters import ProductFilter
from catalog_service.catalog.models import Category, Product

# Ids outside Postgres' bigint range cannot exist; asking for them must be a "not found", not a database error.
PRODUCT_ID_MAX = 2**63 - 1


def category_list() -> QuerySet[Category]:
    """All categories by name, with their parent (one query)."""
    return Category.objects.select_related("parent").order_by("name", "id")


def category_get(*, slug: str) -> Category | None:
    return Category.objects.select_related("parent").filter(slug=slug).first()


def product_list(*, filters: Mapping[str, str] | None = None, include_inactive: bool = False) -> QuerySet[Product]:
    """Products matching ``filters`` (see ``ProductFilter``), with category and stock joined in.

    Raises ``ValidationError`` naming the parameter when a filter value is invalid.
    """
    queryset = Product.objects.select_related("category", "stock")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    filterset = ProductFilter(data=filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.form.errors.as_data())
    return filterset.qs


def product_get(*, product_id: int, include_inactive: bool = False) -> Product | None:
    """One product with category and stock, or None (inactive products only with ``include_inactive``)."""
    if not 0 < product_id <= PRODUCT_ID_MAX:
        return None
    queryset = Product.objects.select_related("category", "stock")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.filter(id=product_id).first()


@dataclass(frozen=True)
class ProductPrice:
    """What an order needs to know about a product to price a line."""

    product_id: int
    sku: str
    name: str
    price: Decimal
    currency: str
    is_active: bool


def product_get_for_pricing(*, product_id: int) -> ProductPrice | None:
    """The current price of one product, active or not (the caller decides what inactive means)."""
    return products_get_for_pricing(product_ids=[product_id]).get(product_id)


def products_get_for_pricing(*, product_ids: Iterable[int]) -> dict[int, ProductPrice]:
    """Current prices by product id in one query; ids that do not exist are absent from the result."""
    wanted = {product_id for product_id in product_ids if 0 < product_id <= PRODUCT_ID_MAX}
    rows = Product.objects.filter(id__in=wanted).values_list("id", "sku", "name", "price", "currency", "is_active")
    return {
        product_id: ProductPrice(
            product_id=product_id, sku=sku, name=name, price=price, currency=currency, is_active=is_active
        )
        for product_id, sku, name, price, currency, is_active in rows
    }
