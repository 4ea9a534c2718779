"""The catalogue back office: categories, products with their stock, bulk actions and a CSV export.

Every change is in the admin log (``LogEntry``): Django records the change and add views and the list's
inline edits; the bulk actions below record one entry per product they change. Writes that Django's
forms do not cover (stock in the list, bulk (de)activation) go through ``catalog.services``.
Products are never deleted here, only deactivated: orders refer to them by id.
"""

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from catalog_service.catalog import services
from catalog_service.catalog.models import Category, Product, Stock


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "updated_at"]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


class StockInline(admin.StackedInline):
    model = Stock
    can_delete = False
    min_num = 0
    max_num = 1
    extra = 1
    fields = ["available", "updated_at"]
    readonly_fields = ["updated_at"]


class StockListFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: "admin.ModelAdmin[Product]") -> list[tuple[str, str]]:
        return [("in", "In stock"), ("out", "Out of stock")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "in":
            return queryset.filter(stock__available__gt=0)
        if self.value() == "out":
            return queryset.exclude(stock__available__gt=0)
        return queryset


class ProductChangeListForm(forms.ModelForm):
    """A row of the product list: price (a model field) and the stock row's quantity, both editable."""

    stock_available = forms.IntegerField(label="Stock", min_value=0, max_value=2_147_483_647)

    class Meta:
        model = Product
        fields = ["price"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stock = getattr(self.instance, "stock", None) if self.instance.pk else None
        self.initial["stock_available"] = stock.available if stock is not None else 0
        self.fields["stock_available"].widget.attrs["style"] = "width: 6em"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "stock_available", "is_active", "updated_at"]
    list_display_links = ["sku", "name"]
    # "stock_available" is edited too: it is a field of the list's form (ProductChangeListForm), saved in
    # save_related through the stock service. list_editable may only name model fields.
    list_editable = ["price"]
    list_select_related = ["category", "stock"]
    list_filter = [("category", admin.RelatedOnlyFieldListFilter), "is_active", StockListFilter]
    search_fields = ["sku", "name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "sku",
        "name",
        "slug",
        "category",
        "description",
        ("price", "currency"),
        "is_active",
        ("created_at", "updated_at"),
    ]
    inlines = [StockInline]
    actions = ["activate", "deactivate", "export_csv"]
    list_per_page = 50

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        # Orders refer to products by id: deactivate a product instead of deleting it (as the API does).
        return False

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[ProductChangeListForm]:
        return ProductChangeListForm

    @admin.display(description="Stock", ordering="stock__available")
    def stock_available(self, product: Product) -> int:
        stock = getattr(product, "stock", None)
        return stock.available if stock is not None else 0

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "stock_available" in form.changed_data:
            services.stock_set(product_id=form.instance.pk, available=form.cleaned_data["stock_available"])
        elif not Stock.objects.filter(product_id=form.instance.pk).exists():
            # A product added without filling in its stock starts with none available.
            services.stock_set(product_id=form.instance.pk, available=0)

    @admin.action(description="Activate the selected products", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_active(request, queryset, is_active=True)

    @admin.action(description="Deactivate the selected products", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_active(request, queryset, is_active=False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Product], *, is_active: bool) -> None:
        to_change = list(queryset.exclude(is_active=is_active))
        services.products_set_active(product_ids=[product.pk for product in to_change], is_active=is_active)
        for product in to_change:
            product.is_active = is_active
            self.log_change(request, product, [{"changed": {"fields": ["Is active"]}}])
        verb = "activated" if is_active else "deactivated"
        self.message_user(request, f"{len(to_change)} product(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Export the selected products as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse:
        filename = f"products-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(["id", "sku", "name", "slug", "category", "price", "currency", "stock", "is_active"])
        for product in queryset.select_related("category", "stock").order_by("sku"):
            stock = getattr(product, "stock", None)
            writer.writerow(
                [
                    product.pk,
                    _csv_safe(product.sku),
                    _csv_safe(product.name),
                    product.slug,
                    product.category.slug,
                    product.price,
                    product.currency,
                    stock.available if stock is not None else 0,
                    product.is_active,
                ]
            )
        return response


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to spreadsheet programs; quote it so it stays text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value
