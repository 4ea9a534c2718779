"""Notifications for operators: what each customer was told, and whether it was emailed."""

import uuid

from django.contrib import admin

from users_service.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user_id", "order_id", "order_status", "created_at", "emailed_at"]
    list_filter = ["order_status", "created_at"]
    search_fields = ["order_id", "user_id"]
    search_help_text = "An order id (uuid) or a user id."
    date_hierarchy = "created_at"
    readonly_fields = ["user_id", "order_id", "order_status", "subject", "message", "created_at", "emailed_at"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(order_id=uuid.UUID(term)), False
        except ValueError:
            pass
        if term.isdigit() and int(term) < 2**63:
            return queryset.filter(user_id=int(term)), False
        return queryset.none(), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
