"""Validate an access token: RS256 only, known ``kid``, issuer, expiry, type ``access``.

A client sends the same access token with every request for minutes, so each
process remembers the tokens it has verified (``VerifiedTokens``): the exact
token string maps to its claims for at most ``VERIFIED_TOKEN_SECONDS`` and
never past the token's own expiry. A token that differs by one byte is another
key and is verified in full. What must be checked per request (expiry, type,
a deactivated user) is still checked on every request.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.core.signals import setting_changed

from common.auth.keys import KeyNotFound, public_keys

ALGORITHM = "RS256"
# Header parameters that point at a key or carry one (RFC 7515 4.1.2-4.1.6): a forger's way to pick the key.
KEY_LOCATING_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
REQUIRED_CLAIMS = ["user_id", "username", "token_type", "jti", "iat", "exp", "iss"]
# What a hostile token can make PyJWT raise (an ``exp`` of 1e400 is an OverflowError, not a PyJWTError).
_UNTRUSTWORTHY = (jwt.PyJWTError, ValueError, TypeError, OverflowError, KeyError)


Claims = dict[str, Any]
"""A verified token's claims as PyJWT decodes them: ``REQUIRED_CLAIMS``, and ``roles``, ``is_staff``,
``is_superuser`` when the issuer wrote them."""


class InvalidToken(Exception):
    """The token must not be trusted; the message says why (safe to show)."""


@dataclass(frozen=True)
class TokenUser:
    """The caller, as the token describes it. No database row stands behind it."""

    id: int
    username: str
    is_staff: bool
    is_superuser: bool
    roles: frozenset[str]
    claims: Claims

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.id

    def has_role(self, role: str) -> bool:
        """Superusers hold every role."""
        return self.is_superuser or role in self.roles


VERIFIED_TOKEN_SECONDS = 60
VERIFIED_TOKENS_PER_PROCESS = 4096


class VerifiedTokens:
    """A bounded, thread-safe LRU of token string -> (claims, the user they describe, remembered until)."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[Claims, TokenUser, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[Claims, TokenUser] | None:
        now = time.time()
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            claims, user, until = entry
            if now >= until:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return claims, user

    def remember(self, token: str, claims: Claims) -> TokenUser:
        until = min(time.time() + VERIFIED_TOKEN_SECONDS, float(claims["exp"]))
        user = user_from_claims(claims)
        with self._lock:
            self._entries[token] = (claims, user, until)
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return user

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_tokens = VerifiedTokens(size=VERIFIED_TOKENS_PER_PROCESS)


def _forget_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("JWT_"):
        verified_tokens.clear()


setting_changed.connect(_forget_on_setting_change)


def decode_token(token: str, *, expected_type: str | None = "access") -> Claims:
    """Return the verified claims of ``token``, or raise ``InvalidToken``.

    ``expected_type`` is the ``token_type`` claim the caller accepts; ``None``
    accepts any type (users_service's token backend checks the type itself).
    """
    return decode_token_user(token, expected_type=expected_type)[0]


def decode_token_user(token: str, *, expected_type: str | None = "access") -> tuple[Claims, TokenUser]:
    """``decode_token``'s claims and the ``TokenUser`` they describe, built once per verified token."""
    verified = verified_tokens.get(token)
    if verified is None:
        claims = _verify(token)
        verified = claims, verified_tokens.remember(token, claims)
    if expected_type is not None and verified[0].get("token_type") != expected_type:
        raise InvalidToken(f"Token is not an {expected_type} token.")
    return verified


def _verify(token: str) -> Claims:
    """Verify ``token`` in full: header, key, signature, issuer, times, claims."""
    try:
        header = jwt.get_unverified_header(token)
    except _UNTRUSTWORTHY as error:
        raise InvalidToken("Malformed token.") from error
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"Only {ALGORITHM} tokens are accepted.")
    if KEY_LOCATING_HEADERS & set(header):
        # A token must not say where its key is: keys come only from this service's own sources (by kid).
        raise InvalidToken("Token headers that name or carry a key (jku, x5u, jwk, x5c) are refused.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("Token has no key id (kid).")
    try:
        key = public_keys.get(kid)
    except KeyNotFound as error:
        raise InvalidToken("Token signed by an unknown key.") from error
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER,
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("Token has expired.") from error
    except jwt.ImmatureSignatureError as error:
        raise InvalidToken("Token is not valid yet.") from error
    except jwt.InvalidIssuerError as error:
        raise InvalidToken("Token has the wrong issuer.") from error
    except _UNTRUSTWORTHY as error:
        raise InvalidToken("Token is invalid.") from error
    user_id = claims.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InvalidToken("Token is invalid.")
    return claims


def user_from_claims(claims: Claims) -> TokenUser:
    roles = claims.get("roles") or []
    return TokenUser(
        id=claims["user_id"],
        username=str(claims["username"]),
        is_staff=bool(claims.get("is_staff", False)),
        is_superuser=bool(claims.get("is_superuser", False)),
        roles=frozenset(str(role) for role in roles) if isinstance(roles, list) else frozenset(),
        claims=claims,
    )
