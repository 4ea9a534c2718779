"""The authentication backend that checks an operator's credentials against users_service."""

import fnmatch
import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import transaction

from common.auth.tokens import InvalidToken, decode_token

logger = logging.getLogger(__name__)

# Why a login failed, for the form to explain (set on the request).
UNREACHABLE = "users_service_unreachable"
LOCKED_OUT = "users_service_locked_out"


class UsersServiceBackend(ModelBackend):
    """``authenticate(request, username, password)`` -> the mirrored local staff user, or None."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        claims = self._claims_from_users_service(request, username=username, password=password)
        if claims is None or not claims.get("is_staff"):
            return None
        user = operator_mirror(claims=claims)
        return user if self.user_can_authenticate(user) else None

    def _claims_from_users_service(self, request, *, username: str, password: str) -> dict | None:
        url = f"{settings.USERS_SERVICE_URL.rstrip('/')}/api/v1/auth/token/"
        try:
            response = requests.post(
                url,
                json={"username": username, "password": password},
                timeout=settings.ADMIN_SSO_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            logger.warning("admin login: users_service at %s unreachable: %s", url, error)
            _explain(request, UNREACHABLE)
            return None
        if response.status_code == 429:
            _explain(request, LOCKED_OUT)
            return None
        if response.status_code != 200:
            if response.status_code >= 500:
                logger.warning("admin login: users_service answered %s", response.status_code)
                _explain(request, UNREACHABLE)
            return None
        try:
            return decode_token(response.json()["access"])
        except (ValueError, KeyError, TypeError, InvalidToken) as error:
            logger.warning("admin login: users_service's token was not accepted: %s", error)
            _explain(request, UNREACHABLE)
            return None


def _explain(request, reason: str) -> None:
    if request is not None:
        request.admin_sso_problem = reason


def role_permissions(*, roles) -> list[Permission]:
    """The permissions ``ADMIN_ROLE_PERMISSIONS`` grants to ``roles`` (patterns like ``catalog.*``)."""
    patterns = [pattern for role in roles for pattern in settings.ADMIN_ROLE_PERMISSIONS.get(role, [])]
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
def operator_mirror(*, claims: dict):
    """Create or update the local staff user standing for the operator of these verified ``claims``."""
    User = get_user_model()  # noqa: N806
    user, created = User.objects.select_for_update().get_or_create(username=claims["username"])
    if created:
        user.set_unusable_password()
    user.is_staff = True
    user.is_active = True
    user.is_superuser = bool(claims.get("is_superuser"))
    user.save()
    roles = claims.get("roles") if isinstance(claims.get("roles"), list) else []
    user.user_permissions.set(role_permissions(roles=roles))
    return user
