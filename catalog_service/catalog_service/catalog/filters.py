"""Query-string filters of the product list (django-filter); invalid values are 400s, never ignored."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.fields import ChoiceField

from catalog_service.catalog.category_tree import category_descendant_ids
from catalog_service.catalog.models import Category, Product


class ProductOrderingFilter(django_filters.OrderingFilter):
    """``ordering=price|-price|name|-name|created_at|-created_at``; ties are broken by id for stable pages."""

    def filter(self, qs: QuerySet[Product], value: list[str] | None) -> QuerySet[Product]:
        ordered = super().filter(qs, value)
        if value:
            ordered = ordered.order_by(*ordered.query.order_by, "id")
        return ordered


class PresentChoiceField(ChoiceField):
    """A choice that, when the parameter is given, must be one of the choices: ``?in_stock=`` is a 400, not "any"."""

    def clean(self, value: object) -> object:
        if value == "":
            raise ValidationError("Select a valid choice, or leave the parameter out.", code="invalid_choice")
        return super().clean(value)


class PresentChoiceFilter(django_filters.ChoiceFilter):
    field_class = PresentChoiceField


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        to_field_name="slug",
        method="filter_category",
        help_text="A category's slug: its products and those of its subcategories.",
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Words in the name, SKU or description."
    )
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", max_digits=14, decimal_places=2, help_text="Lowest price, inclusive."
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", max_digits=14, decimal_places=2, help_text="Highest price, inclusive."
    )
    in_stock = PresentChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_in_stock",
        help_text="true: only products available to order; false: only those out of stock.",
    )
    ordering = ProductOrderingFilter(
        fields=[("price", "price"), ("name", "name"), ("created_at", "created_at")],
        help_text="Sort order (default: name).",
    )

    class Meta:
        model = Product
        fields = ["category", "search", "min_price", "max_price", "in_stock", "ordering"]

    def filter_category(self, queryset: QuerySet[Product], name: str, value: Category) -> QuerySet[Product]:
        return queryset.filter(category_id__in=[value.id, *category_descendant_ids(category_id=value.id)])

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(sku__icontains=word) | Q(description__icontains=word)
            )
        return queryset

    def filter_in_stock(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        if value == "true":
            return queryset.filter(stock__available__gt=0)
        return queryset.filter(Q(stock__available=0) | Q(stock__isnull=True))


PRODUCT_LIST_QUERY_PARAMETERS = (*ProductFilter.base_filters, "page", "page_size")
