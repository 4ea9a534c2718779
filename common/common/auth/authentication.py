"""DRF authentication from a bearer access token, with no user table and no call to users_service."""

import functools
from typing import TYPE_CHECKING

from django.apps import apps
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from common.auth.tokens import Claims, InvalidToken, TokenUser, decode_token_user

if TYPE_CHECKING:  # at run time, drf_spectacular.openapi loads DRF's settings, and so this module
    from drf_spectacular.openapi import AutoSchema


@functools.cache
def _deactivations_installed() -> bool:
    return apps.is_installed("common.auth.deactivations")


class JWTAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>`` -> a ``TokenUser``; a bad token is a 401."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, Claims] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token or " " in token:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            claims, user = decode_token_user(token)
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(str(error)) from error
        self.check_user(user)
        return user, claims

    def check_user(self, user: TokenUser) -> None:
        """Refuse a verified token of a user deactivated since it was issued (``common.auth.deactivations``).

        Subclasses may refuse more; the check costs no query per request.
        """
        if _deactivations_installed():
            from common.auth.deactivations.selectors import token_revoked

            if token_revoked(user_id=user.id, issued_at=user.claims["iat"]):
                raise exceptions.AuthenticationFailed("This account has been deactivated.")

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


# drf-spectacular's OpenApiGeneratorExtension.__init_subclass__ (it registers the extension) is unannotated.
class JWTAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "common.auth.authentication.JWTAuthentication"
    name = "jwtAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
