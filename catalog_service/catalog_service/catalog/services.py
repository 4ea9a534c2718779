"""Writes to the catalogue: categories, products and stock.

Services raise ``django.core.exceptions.ValidationError`` keyed by field for bad input (as the models'
own validation does; ``common.errors``' handler answers it as a 400 naming the field), ``CategoryInUse``
(an ``ApplicationError``: 409) when a category cannot be deleted, and ``InsufficientStock`` when a stock
change would take ``available`` below zero (the saga turns it into a rejection, never an HTTP answer).

For the order saga (which runs in this service's Celery worker):
- ``stock_adjust(product_id=, delta=)`` changes one product's available quantity by ``delta`` with a
  conditional update (never below zero) and returns the new quantity;
- ``stock_adjust_many(deltas=)`` does the same for several products, all or none, locking rows in
  ascending product id order so concurrent callers never deadlock (a release of a reservation);
- ``catalog.selectors.products_get_for_pricing(product_ids=)`` gives current prices.
A reservation takes its stock in ``reservations.queries.RESERVATION_RESERVE``, one statement with the
reservation, which locks the rows in the same order. Every stock write invalidates the public cache when its
transaction commits.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog_service.catalog import queries
from catalog_service.catalog.category_tree import category_descendant_ids
from catalog_service.catalog.models import Category, Product, Stock
from catalog_service.catalog.public_cache import catalog_changed
from common.errors import ConflictError

# The models with unique, user-chosen fields (slug, sku) that _save_unique saves.
_Unique = TypeVar("_Unique", Category, Product)


class CategoryInUse(ConflictError):
    """The category still has products or subcategories."""

    default_code = "category_in_use"
    default_message = "The category still has products or subcategories."


class InsufficientStock(Exception):
    """A stock change would take ``available`` below zero (or the product has no stock row)."""

    def __init__(self, *, product_id: int, available: int | None, requested_delta: int) -> None:
        self.product_id = product_id
        self.available = available
        self.requested_delta = requested_delta
        super().__init__(f"product {product_id}: {available} available, change of {requested_delta} refused")


PRODUCT_FIELDS = frozenset({"sku", "name", "slug", "description", "category", "price", "currency", "is_active"})
CATEGORY_FIELDS = frozenset({"name", "slug", "parent"})


# Categories


def category_create(*, name: str, slug: str | None = None, parent: Category | None = None) -> Category:
    """Create a category; ``slug`` defaults to one derived from ``name``."""
    category = Category(name=name, parent=parent)
    category.slug = slug or _free_slug(Category, base=slugify(name) or "category")
    return _save_unique(category, unique_fields=("slug",))


def category_update(*, category: Category, data: Mapping[str, Any]) -> Category:
    """Change name, slug or parent (a category cannot move below itself)."""
    unknown = set(data) - CATEGORY_FIELDS
    if unknown:
        raise ValueError(f"not category fields: {sorted(unknown)}")
    if "parent" in data and data["parent"] is not None:
        parent = data["parent"]
        if parent.pk == category.pk or parent.pk in category_descendant_ids(category_id=category.pk):
            raise ValidationError({"parent": ValidationError("A category cannot be placed below itself.", "invalid")})
    for field, value in data.items():
        setattr(category, field, value)
    return _save_unique(category, unique_fields=("slug",))


def category_delete(*, category: Category) -> None:
    """Delete a category that has neither products (active or not) nor subcategories."""
    with transaction.atomic():
        product_count = category.products.count()
        if product_count:
            raise CategoryInUse(
                f"Category '{category.slug}' has {product_count} product(s); move them to another category first."
            )
        if category.children.exists():
            raise CategoryInUse(f"Category '{category.slug}' has subcategories; move or delete them first.")
        category.delete()


# Products


def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    slug: str | None = None,
    description: str = "",
    currency: str | None = None,
    is_active: bool = True,
    stock: int = 0,
) -> Product:
    """Create a product and its stock row; ``slug`` defaults to one derived from name (and SKU if taken)."""
    _check_not_negative(price=price, stock=stock)
    product = Product(
        sku=sku,
        name=name,
        category=category,
        price=price,
        description=description,
        currency=currency or settings.CATALOG_CURRENCY,
        is_active=is_active,
    )
    with transaction.atomic():
        if slug:
            product.slug = slug
        else:
            base = slugify(name) or slugify(sku) or "product"
            product.slug = _free_slug(Product, base=base, alternatives=[f"{base}-{slugify(sku)}"])
        _save_unique(product, unique_fields=("sku", "slug"))
        Stock.objects.create(product=product, available=stock)
    return product


def product_update(*, product: Product, data: Mapping[str, Any]) -> Product:
    """Change product fields and, with ``stock`` in ``data``, set the available quantity.

    The slug stays as it is when only the name changes, so product URLs stay stable.
    """
    data = dict(data)
    stock = data.pop("stock", None)
    unknown = set(data) - PRODUCT_FIELDS
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    _check_not_negative(price=data.get("price"), stock=stock)
    with transaction.atomic():
        if data:
            for field, value in data.items():
                setattr(product, field, value)
            _save_unique(product, unique_fields=("sku", "slug"))
        if stock is not None:
            stock_set(product_id=product.pk, available=stock)
            product.stock.refresh_from_db()
    return product


def product_deactivate(*, product: Product) -> Product:
    """Hide a product from customers (the API's DELETE); orders that refer to it keep working."""
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    return product


def products_set_active(*, product_ids: list[int], is_active: bool) -> int:
    """Activate or deactivate several products at once; returns how many changed."""
    with transaction.atomic():
        changed = (
            Product.objects.filter(id__in=product_ids)
            .exclude(is_active=is_active)
            .update(is_active=is_active, updated_at=timezone.now())
        )
        if changed:
            catalog_changed()
    return changed


# Stock


def stock_set(*, product_id: int, available: int) -> Stock:
    """Set the quantity available to order (a stocktake), creating the stock row if it is missing."""
    _check_not_negative(stock=available)
    with transaction.atomic():
        stock, created = Stock.objects.select_for_update().get_or_create(
            product_id=product_id, defaults={"available": available}
        )
        if not created and stock.available != available:
            stock.available = available
            stock.save(update_fields=["available", "updated_at"])
    return stock


def stock_adjust(*, product_id: int, delta: int) -> int:
    """Add ``delta`` (negative to take) to a product's available stock; returns the new quantity.

    One conditional UPDATE: it never takes stock below zero and never loses a concurrent change.
    Raises ``InsufficientStock`` when there is not enough (nothing changes then).
    """
    return stock_adjust_many(deltas={product_id: delta})[product_id]


def stock_adjust_many(*, deltas: Mapping[int, int]) -> dict[int, int]:
    """Apply several stock changes, all or none; returns the new quantities by product id.

    Three statements whatever the number of products, and no savepoint, because this runs in every
    release of a reservation: ``SELECT ... FOR UPDATE`` locks the rows in ascending product id order (so concurrent
    callers cannot deadlock), the quantities are checked, and one ``UPDATE`` applies every change. Raises
    ``InsufficientStock`` for the first product, by id, that cannot take its change; nothing changes then,
    and the caller's transaction stays usable.
    """
    product_ids = sorted(deltas)
    if not product_ids:
        return {}
    with transaction.atomic(savepoint=False):
        locked = dict(
            Stock.objects.select_for_update()
            .filter(product_id__in=product_ids)
            .order_by("product_id")
            .values_list("product_id", "available")
        )
        shortage = first_shortage(deltas=deltas, available=locked)
        if shortage is None:
            new_quantities = _stock_apply(deltas={product_id: deltas[product_id] for product_id in product_ids})
            catalog_changed()
    if shortage is not None:
        raise InsufficientStock(product_id=shortage, available=locked.get(shortage), requested_delta=deltas[shortage])
    return new_quantities


def first_shortage(*, deltas: Mapping[int, int], available: Mapping[int, int]) -> int | None:
    """The first product, by id, that has no stock row or would go below zero; None if every change fits."""
    return next(
        (
            product_id
            for product_id in sorted(deltas)
            if product_id not in available or available[product_id] + deltas[product_id] < 0
        ),
        None,
    )


def _stock_apply(*, deltas: Mapping[int, int]) -> dict[int, int]:
    """One UPDATE for every (locked) row (``queries.stock_apply``); the CHECK ``available >= 0`` still guards it."""
    parameters = [value for product_id, delta in deltas.items() for value in (product_id, delta)]
    with connection.cursor() as cursor:
        cursor.execute(queries.stock_apply(row_count=len(deltas)), [timezone.now(), *parameters])
        return dict(cursor.fetchall())


# Helpers


def _check_not_negative(*, price: Decimal | None = None, stock: int | None = None) -> None:
    errors = {}
    if price is not None and price < 0:
        errors["price"] = ValidationError("The price cannot be negative.", "min_value")
    if stock is not None and stock < 0:
        errors["stock"] = ValidationError("The stock cannot be negative.", "min_value")
    if errors:
        raise ValidationError(errors)


def _free_slug(model: type[Category] | type[Product], *, base: str, alternatives: Sequence[str] = ()) -> str:
    """The first of ``base``, ``alternatives``, ``base-2``, ``base-3``... that no row uses (one query)."""
    max_length = cast(int, model._meta.get_field("slug").max_length)  # both models' slugs declare one
    base = base[: max_length - 8].strip("-") or base[: max_length - 8]
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidates = [base, *(alternative[:max_length].strip("-") for alternative in alternatives)]
    for candidate in candidates:
        if candidate and candidate not in taken:
            return candidate
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _save_unique(instance: _Unique, *, unique_fields: tuple[str, ...]) -> _Unique:
    """Save ``instance``; a value another row already has is a ValidationError naming the field.

    Checked before saving for a clear message, and again after an IntegrityError for the race where two
    requests write the same value at once.
    """
    errors = _duplicates(instance, unique_fields=unique_fields)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        errors = _duplicates(instance, unique_fields=unique_fields)
        if errors:
            raise ValidationError(errors) from error
        raise
    return instance


def _duplicates(instance: Category | Product, *, unique_fields: tuple[str, ...]) -> dict[str, ValidationError]:
    model = type(instance)
    errors = {}
    for field in unique_fields:
        value = getattr(instance, field)
        others = model.objects.filter(**{field: value})
        if instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            label = cast("models.Field[Any, Any]", model._meta.get_field(field)).verbose_name  # a concrete column
            errors[field] = ValidationError(f"A {model._meta.verbose_name} with this {label} already exists.", "unique")
    return errors
