"""The authentication backend that checks an operator's credentials against users_service."""

import fnmatch
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, cast

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import transaction
from django.http import HttpRequest

from common import remote_calls
from common.auth.tokens import Claims, InvalidToken, decode_token

if TYPE_CHECKING:  # django-stubs' name for the class of settings.AUTH_USER_MODEL
    from django.contrib.auth.models import _User

logger = logging.getLogger(__name__)

# Why a login failed, for the form to explain (set on the request).
UNREACHABLE = "users_service_unreachable"
LOCKED_OUT = "users_service_locked_out"


class _AdminSsoSettings(Protocol):
    """The settings this backend reads: ``common.settings.admin_sso``'s, and the service's role map."""

    USERS_SERVICE_URL: str
    ADMIN_SSO_TIMEOUT_SECONDS: float
    ADMIN_ROLE_PERMISSIONS: dict[str, list[str]]


def _sso_settings() -> _AdminSsoSettings:
    # Only the services with admin single sign-on (catalog, orders) define them; users_service, which
    # checks the credentials, does not, and its settings are what mypy types ``settings`` from there.
    return cast(_AdminSsoSettings, settings)


class UsersServiceBackend(ModelBackend):
    """``authenticate(request, username, password)`` -> the mirrored local staff user, or None."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: object
    ) -> "_User | None":
        if not username or not password:
            return None
        claims = self._claims_from_users_service(request, username=username, password=password)
        if claims is None or not claims.get("is_staff"):
            return None
        user = operator_mirror(claims=claims)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _claims_from_users_service(self, request: HttpRequest | None, *, username: str, password: str) -> Claims | None:
        url = f"{_sso_settings().USERS_SERVICE_URL.rstrip('/')}/api/v1/auth/token/"
        # The login is the browser's: users_service counts its failures per the browser's address where it trusts
        # this service as a proxy (the gateway's trusted-proxy rule), as this service's login form already has.
        client_address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
        forwarded = {"X-Forwarded-For": client_address} if client_address else {}
        try:
            response = remote_calls.call(
                remote_calls.USERS_SERVICE,
                lambda timeout: requests.post(
                    url, json={"username": username, "password": password}, headers=forwarded, timeout=timeout
                ),
                read_timeout=_sso_settings().ADMIN_SSO_TIMEOUT_SECONDS,
            )
        except remote_calls.RemoteUnavailable as error:
            logger.warning("admin login: users_service at %s unreachable: %s", url, error)
            _explain(request, UNREACHABLE)
            return None
        if response.status_code == 429:
            _explain(request, LOCKED_OUT)
            return None
        if response.status_code != 200:
            return None
        try:
            return decode_token(response.json()["access"])
        except (ValueError, KeyError, TypeError, InvalidToken) as error:
            logger.warning("admin login: users_service's token was not accepted: %s", error)
            _explain(request, UNREACHABLE)
            return None


def _explain(request: HttpRequest | None, reason: str) -> None:
    if request is not None:
        request.admin_sso_problem = reason  # type: ignore[attr-defined]  # read by SingleSignOnAuthenticationForm


def role_permissions(*, roles: Iterable[str]) -> list[Permission]:
    """The permissions ``ADMIN_ROLE_PERMISSIONS`` grants to ``roles`` (patterns like ``catalog.*``)."""
    patterns = [pattern for role in roles for pattern in _sso_settings().ADMIN_ROLE_PERMISSIONS.get(role, [])]
    if not patterns:
        return []
    permissions = Permission.objects.select_related("content_type")
    return [
        permission
        for permission in permissions
        if any(
            fnmatch.fnmatchcase(f"{permission.content_type.app_label}.{permission.codename}", pattern)
            for pattern in patterns
        )
    ]


@transaction.atomic
def operator_mirror(*, claims: Claims) -> "_User | None":
    """Create or update the local staff user standing for the operator of these verified ``claims``.

    A mirror never has a usable password (it is made without one). A local account of the same name that has
    one (a break-glass account of ``createsuperuser``) is not a mirror and is never taken over: None, and the
    login falls through to Django's own check of the local password.
    """
    User = get_user_model()  # noqa: N806
    user, created = User.objects.select_for_update().get_or_create(username=claims["username"])
    if created:
        user.set_unusable_password()
    elif user.has_usable_password():
        logger.warning("admin login: %r is a local account here, not a mirror; single sign-on refused", user.username)
        return None
    user.is_staff = True
    user.is_active = True
    user.is_superuser = bool(claims.get("is_superuser"))
    user.save()
    roles = claims.get("roles")
    user.user_permissions.set(role_permissions(roles=roles if isinstance(roles, list) else []))
    return user
