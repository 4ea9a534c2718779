"""The users admin: accounts, roles (Django's group admin) and refresh tokens, with search and filters.

Operators log into users_service's admin with their local account. Unticking
"active" here goes through ``user_deactivate``, exactly like the staff API,
so the account's tokens stop working on every service.
"""

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin as SimpleJwtBlacklistedTokenAdmin
from rest_framework_simplejwt.token_blacklist.admin import OutstandingTokenAdmin as SimpleJwtOutstandingTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from common.login_lockout import LockoutAdminAuthenticationForm
from users_service.accounts import services
from users_service.accounts.models import User

# Django's admin classes are generic only in django-stubs (django_stubs_ext is not installed at run time).
if TYPE_CHECKING:
    _UserAdminBase = DjangoUserAdmin[User]
else:
    _UserAdminBase = DjangoUserAdmin


# Operators log in here under the API login's failed-login lockout (per account and per client address).
admin.site.login_form = LockoutAdminAuthenticationForm


@admin.register(User)
class UserAdmin(_UserAdminBase):
    list_display = ("username", "email", "is_active", "is_staff", "roles", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("-date_joined",)
    actions = ["deactivate_users"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # saved as it was; user_deactivate does the switch and its consequences
        super().save_model(request, obj, form, change)
        if deactivating:
            services.user_deactivate(user=obj)

    @admin.action(description="Deactivate the selected users (tokens refused on every service)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        operator = cast(User, request.user)  # only staff reach the admin
        for user in queryset.filter(is_active=True).exclude(pk=operator.pk):
            services.user_deactivate(user=user)
            count += 1
        self.message_user(request, f"{count} user(s) deactivated.")


admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(SimpleJwtOutstandingTokenAdmin):
    # simplejwt's admin has no annotations: mypy takes its tuples' exact lengths for their types.
    list_display = ("jti", "user", "created_at", "expires_at", "is_blacklisted")  # type: ignore[assignment]
    list_filter = ("created_at", "expires_at", ("blacklistedtoken", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email", "jti")  # type: ignore[assignment]
    ordering = ("-created_at",)

    def get_queryset(self, *args: Any, **kwargs: Any) -> QuerySet[OutstandingToken]:
        return super().get_queryset(*args, **kwargs).select_related("blacklistedtoken")

    @admin.display(boolean=True, description="blacklisted")
    def is_blacklisted(self, token: OutstandingToken) -> bool:
        return hasattr(token, "blacklistedtoken")


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(SimpleJwtBlacklistedTokenAdmin):
    list_filter = ("blacklisted_at", "token__expires_at")
    search_fields = ("token__user__username", "token__user__email", "token__jti")  # type: ignore[assignment]  # as above
    ordering = ("-blacklisted_at",)
