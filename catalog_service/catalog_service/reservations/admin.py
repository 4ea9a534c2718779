"""Reservations for operators: what each order holds, lines inline; read-only (the saga writes them)."""

from django.contrib import admin

from catalog_service.reservations.models import Reservation, ReservationLine
from common.admin_mixins import ExactIdSearchMixin, ReadOnlyAdminMixin


class ReservationLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReservationLine
    fields = ["product_id", "quantity", "unit_price"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, ExactIdSearchMixin, admin.ModelAdmin):
    list_display = ["order_id", "status", "currency", "reason", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    uuid_search_field = "order_id"
    search_help_text = "An order id (uuid)."
    date_hierarchy = "created_at"
    readonly_fields = ["order_id", "status", "currency", "reason", "created_at", "updated_at"]
    inlines = [ReservationLineInline]
