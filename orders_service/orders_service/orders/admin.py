"""Orders for operators: lines inline, filters by status and date, search by id and user, cancel and re-drive."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from common.admin_mixins import ExactIdSearchMixin, ReadOnlyAdminMixin
from orders_service.orders import services
from orders_service.orders.models import IdempotencyKey, Order, OrderLine


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "quantity", "unit_price"]


@admin.register(Order)
class OrderAdmin(ExactIdSearchMixin, admin.ModelAdmin):
    list_display = ["id", "user_id", "status", "total", "currency", "created_at", "updated_at"]
    list_filter = ["status", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    # Exact matches only: an order id or a user id.
    uuid_search_field = "id"
    integer_search_field = "user_id"
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Orders are placed through the API (idempotency, saga); operators act through the actions.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        # A deleted order would leave its reserved stock held and its saga half done: cancel it instead.
        return False

    @admin.action(description="Cancel the selected confirmed orders", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
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

    @admin.action(
        description="Re-drive the selected pending or cancelling orders (send their message again)",
        permissions=["change"],
    )
    def redrive(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        redriven = sum(services.order_redrive(order_id=order_id) for order_id in queryset.values_list("id", flat=True))
        self.message_user(request, f"{redriven} order(s) re-driven.", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    can_delete = True
