"""How users_service authenticates its own API callers.

The access token is verified exactly as on the other services
(``common.auth``: RS256, published ``kid``, issuer, expiry, type). Because
this service owns the accounts, it also loads the user row: a deactivated or
deleted account is refused at once, and ``request.user`` is the real
``User`` (fresh ``is_staff``), while ``request.auth`` holds the token's claims.
"""

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from common.auth.authentication import JWTAuthentication
from users_service.accounts.models import User
from users_service.accounts.selectors import user_get_active


class AuthenticatedRequest(Request):
    """The request of a view behind ``IsAuthenticated`` here: ``request.user`` is the caller's ``User`` row."""

    user: User


class ActiveUserJWTAuthentication(JWTAuthentication):
    # The override narrows on purpose: request.user becomes the real User, not common's TokenUser.
    def authenticate(self, request: Request) -> tuple[User, dict[str, Any]] | None:  # type: ignore[override]
        result = super().authenticate(request)
        if result is None:
            return None
        token_user, claims = result
        user = user_get_active(user_id=token_user.id)
        if user is None:
            raise exceptions.AuthenticationFailed("User is inactive or does not exist.")
        return user, claims
