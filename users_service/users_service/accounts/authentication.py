"""How users_service authenticates its own API callers.

The access token is verified exactly as on the other services
(``common.auth``: RS256, published ``kid``, issuer, expiry, type). Because
this service owns the accounts, it also loads the user row: a deactivated or
deleted account is refused at once, and ``request.user`` is the real
``User`` (fresh ``is_staff``), while ``request.auth`` holds the token's claims.
"""

from rest_framework import exceptions

from common.auth.authentication import JWTAuthentication
from users_service.accounts.models import User
from users_service.accounts.selectors import user_get_active


class ActiveUserJWTAuthentication(JWTAuthentication):
    def authenticate(self, request) -> tuple[User, dict] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        token_user, claims = result
        user = user_get_active(user_id=token_user.id)
        if user is None:
            raise exceptions.AuthenticationFailed("User is inactive or does not exist.")
        return user, claims
