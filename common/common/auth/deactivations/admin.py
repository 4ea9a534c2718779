from django.contrib import admin

from common.admin_mixins import ReadOnlyAdminMixin
from common.auth.deactivations.models import DeactivatedUser


@admin.register(DeactivatedUser)
class DeactivatedUserAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: deactivations come from users_service (reactivate the account there)."""

    list_display = ("user_id", "username", "deactivated_at", "recorded_at")
    search_fields = ("username", "=user_id")
    list_filter = ("deactivated_at",)
    can_delete = True
