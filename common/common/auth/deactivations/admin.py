from typing import TYPE_CHECKING

from django.contrib import admin

from common.admin_mixins import ReadOnlyAdminMixin
from common.auth.deactivations.models import DeactivatedUser

# Django's admin classes are generic only in django-stubs (django_stubs_ext is not installed at run time).
if TYPE_CHECKING:
    _DeactivatedUserAdminBase = admin.ModelAdmin[DeactivatedUser]
else:
    _DeactivatedUserAdminBase = admin.ModelAdmin


@admin.register(DeactivatedUser)
class DeactivatedUserAdmin(ReadOnlyAdminMixin, _DeactivatedUserAdminBase):
    """Read-only: deactivations come from users_service (reactivate the account there)."""

    list_display = ("user_id", "username", "deactivated_at", "recorded_at")
    search_fields = ("username", "=user_id")
    list_filter = ("deactivated_at",)
    can_delete = True
