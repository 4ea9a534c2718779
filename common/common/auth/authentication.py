"""DRF authentication from a bearer access token, with no user table and no call to users_service."""

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.apps import apps
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from common.auth.tokens import Claims, InvalidToken, TokenUser, decode_token_user

if TYPE_CHECKING:  # at run time, drf_spectacular.openapi loads DRF's settings, and so this module
    from drf_spectacular.openapi import AutoSchema
    from rest_framework.authentication import BaseAuthentication


@functools.cache
def _deactivations_installed() -> bool:
    return apps.is_installed("common.auth.deactivations")


class JWTAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>`` -> a ``TokenUser``; a bad token is a 401."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, Claims] | None:
        return self.authenticate_authorization(authentication.get_authorization_header(request).decode("latin-1"))

    def authenticate_authorization(self, header: str) -> tuple[TokenUser, Claims] | None:
        """The caller and claims of an ``Authorization`` header's value; None if it is no bearer token."""
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


def bearer_user(request: HttpRequest, authentication_classes: "Sequence[type[BaseAuthentication]]") -> TokenUser | None:
    """The caller a valid bearer token of ``request`` names, for a view that answers before DRF's dispatch.

    ``authentication_classes`` are the view's. None when they are not one ``JWTAuthentication`` (then the view's
    own may decide otherwise), without a bearer token, or when the token is refused: then DRF's dispatch must
    answer, as it would (anonymous, or a 401 with its ``WWW-Authenticate``).
    """
    if len(authentication_classes) != 1 or not issubclass(authentication_classes[0], JWTAuthentication):
        return None
    try:
        authenticated = authentication_classes[0]().authenticate_authorization(
            request.META.get("HTTP_AUTHORIZATION", "")
        )
    except exceptions.AuthenticationFailed:
        return None
    return None if authenticated is None else authenticated[0]


# drf-spectacular's OpenApiGeneratorExtension.__init_subclass__ (it registers the extension) is unannotated.
class JWTAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "common.auth.authentication.JWTAuthentication"
    name = "jwtAuth"
    match_subclasses = True

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
