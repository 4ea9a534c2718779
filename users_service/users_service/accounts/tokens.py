"""The tokens users_service issues: djangorestframework-simplejwt's classes, signed with RS256 and a ``kid``.

simplejwt's ``TokenBackend`` signs with one configured key and no key id, so
``SigningKeyTokenBackend`` replaces it: it signs with the current key from
``users_service.accounts.signing`` (``kid`` header, ``iss`` claim) and
verifies with ``common.auth`` — the very code catalog and orders use — so a
refresh token signed by a retired key still verifies during a rotation and
only RS256 tokens of a published key are ever accepted.

Claims of both tokens: ``user_id`` (an integer), ``username``, ``is_staff``,
``is_superuser``, ``roles`` (the user's group names), ``token_type``, ``jti``,
``iat``, ``exp``, ``iss``.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import jwt
from django.conf import settings
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from common.auth.tokens import InvalidToken, decode_token
from users_service.accounts import signing
from users_service.accounts.models import User


class SigningKeyTokenBackend(TokenBackend):
    def __init__(self) -> None:
        super().__init__(algorithm="RS256")

    def get_leeway(self) -> timedelta:
        return timedelta(seconds=settings.JWT_LEEWAY_SECONDS)

    def encode(self, payload: dict[str, Any]) -> str:
        claims = {**payload, "iss": settings.JWT_ISSUER}
        return jwt.encode(claims, signing.private_key(), algorithm="RS256", headers={"kid": signing.signing_key_id()})

    def decode(self, token: simplejwt_tokens.Token | str, verify: bool = True) -> dict[str, Any]:
        if not verify:
            raise TokenBackendError("Tokens are only ever read verified.")
        try:
            return decode_token(str(token), expected_type=None)
        except InvalidToken as error:
            if "expired" in str(error):
                raise TokenBackendExpiredToken(str(error)) from error
            raise TokenBackendError(str(error)) from error


token_backend = SigningKeyTokenBackend()


class AccessToken(simplejwt_tokens.AccessToken):
    _token_backend = token_backend


class RefreshToken(simplejwt_tokens.RefreshToken):
    _token_backend = token_backend
    access_token_class = AccessToken

    @property
    def access_token(self) -> AccessToken:
        # simplejwt dates the access token's ``exp`` from this token's time but its ``iat`` from its own, a
        # moment later: across a second boundary the pair says the access token lives 299 s. One time for both.
        access = cast(AccessToken, super().access_token)  # built from access_token_class
        access.set_iat(at_time=self.current_time)
        return access


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def user_claims(*, user: User) -> dict[str, Any]:
    """The identity claims of ``user`` as of now (roles are read afresh at every issue and refresh)."""
    return {
        "user_id": user.id,
        "username": user.username,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "roles": sorted(group.name for group in user.groups.all()),
    }


def token_pair_for_user(*, user: User) -> TokenPair:
    """A new access and refresh token; the refresh token is recorded as outstanding (for logout and rotation)."""
    refresh = RefreshToken()
    for claim, value in user_claims(user=user).items():
        refresh[claim] = value
    encoded_refresh = str(refresh)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh["jti"],
        token=encoded_refresh,
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(refresh.access_token), refresh=encoded_refresh)
