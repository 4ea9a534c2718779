"""Notifications for operators: what each customer was told, and whether it was emailed."""

from typing import TYPE_CHECKING

from django.contrib import admin

from common.admin_mixins import ExactIdSearchMixin, ReadOnlyAdminMixin
from users_service.notifications.models import Notification

# Django's admin classes are generic only in django-stubs (django_stubs_ext is not installed at run time).
if TYPE_CHECKING:
    _NotificationAdminBase = admin.ModelAdmin[Notification]
else:
    _NotificationAdminBase = admin.ModelAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, ExactIdSearchMixin, _NotificationAdminBase):
    list_display = ["subject", "user_id", "order_id", "order_status", "created_at", "emailed_at"]
    list_filter = ["order_status", "created_at"]
    uuid_search_field = "order_id"
    integer_search_field = "user_id"
    search_help_text = "An order id (uuid) or a user id."
    date_hierarchy = "created_at"
    readonly_fields = ["user_id", "order_id", "order_status", "subject", "message", "created_at", "emailed_at"]
    can_delete = True
