"""Reservations for operators: what each order holds, lines inline; read-only (the saga writes them)."""

import uuid

from django.contrib import admin

from catalog_service.reservations.models import Reservation, ReservationLine


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ["product_id", "quantity", "unit_price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order_id", "status", "currency", "reason", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["order_id"]
    search_help_text = "An order id (uuid)."
    date_hierarchy = "created_at"
    readonly_fields = ["order_id", "status", "currency", "reason", "created_at", "updated_at"]
    inlines = [ReservationLineInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(order_id=uuid.UUID(term)), False
        except ValueError:
            return queryset.none(), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
