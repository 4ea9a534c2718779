from django.contrib import admin

from common.auth.deactivations.models import DeactivatedUser


@admin.register(DeactivatedUser)
class DeactivatedUserAdmin(admin.ModelAdmin):
    """Read-only: deactivations come from users_service (reactivate the account there)."""

    list_display = ("user_id", "username", "deactivated_at", "recorded_at")
    search_fields = ("username", "=user_id")
    list_filter = ("deactivated_at",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
