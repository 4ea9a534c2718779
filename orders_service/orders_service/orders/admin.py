"""Orders for operators: lines inline, filters by status and date, search by id and user, cancel and re-drive."""

import uuid

from django.contrib import admin, messages

from orders_service.orders import services
from orders_service.orders.models import IdempotencyKey, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "quantity", "unit_price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "status", "total", "currency", "created_at", "updated_at"]
    list_filter = ["status", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    search_fields = ["id", "user_id"]
    search_help_text = "An order id (uuid) or a user id."
    readonly_fields = [
        "id",
        "user_id",
        "status",
        "total",
        "currency",
        "reject_reason",
        "created_at",
        "updated_at",
        "driven_at",
    ]
    inlines = [OrderLineInline]
    actions = ["cancel", "redrive"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        # Orders are placed through the API (idempotency, saga); operators act through the actions.
        return False

    def get_search_results(self, request, queryset, search_term):
        # Exact matches only: an order id or a user id (partial uuids or text match nothing, never a 500).
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(id=uuid.UUID(term)), False
        except ValueError:
            pass
        if term.isdigit() and int(term) < 2**63:
            return queryset.filter(user_id=int(term)), False
        return queryset.none(), False

    @admin.action(description="Cancel the selected confirmed orders")
    def cancel(self, request, queryset):
        cancelled, refused = 0, 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                services.order_cancel(order_id=order_id)
            except services.OrderCannotBeCancelled:
                refused += 1
            else:
                cancelled += 1
        self.message_user(request, f"{cancelled} order(s) cancelling.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} order(s) could not be cancelled in their status.", messages.WARNING)

    @admin.action(description="Re-drive the selected pending or cancelling orders (send their message again)")
    def redrive(self, request, queryset):
        redriven = sum(services.order_redrive(order_id=order_id) for order_id in queryset.values_list("id", flat=True))
        self.message_user(request, f"{redriven} order(s) re-driven.", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user_id", "order_id", "response_status", "created_at"]
    search_fields = ["=key"]
    readonly_fields = [
        "user_id",
        "key",
        "request_fingerprint",
        "response_status",
        "response_body",
        "order",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
