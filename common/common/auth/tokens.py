"""Validate an access token: RS256 only, known ``kid``, issuer, expiry, type ``access``."""

from dataclasses import dataclass

import jwt
from django.conf import settings

from common.auth.keys import KeyNotFound, public_keys

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ["user_id", "username", "token_type", "jti", "iat", "exp", "iss"]
# What a hostile token can make PyJWT raise (an ``exp`` of 1e400 is an OverflowError, not a PyJWTError).
_UNTRUSTWORTHY = (jwt.PyJWTError, ValueError, TypeError, OverflowError, KeyError)


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
    claims: dict

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.id

    def has_role(self, role: str) -> bool:
        """Superusers hold every role."""
        return self.is_superuser or role in self.roles


def decode_token(token: str, *, expected_type: str | None = "access") -> dict:
    """Return the verified claims of ``token``, or raise ``InvalidToken``.

    ``expected_type`` is the ``token_type`` claim the caller accepts; ``None``
    accepts any type (users_service's token backend checks the type itself).
    """
    try:
        header = jwt.get_unverified_header(token)
    except _UNTRUSTWORTHY as error:
        raise InvalidToken("Malformed token.") from error
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"Only {ALGORITHM} tokens are accepted.")
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
    if expected_type is not None and claims.get("token_type") != expected_type:
        raise InvalidToken(f"Token is not an {expected_type} token.")
    user_id = claims.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InvalidToken("Token is invalid.")
    return claims


def user_from_claims(claims: dict) -> TokenUser:
    roles = claims.get("roles") or []
    return TokenUser(
        id=claims["user_id"],
        username=str(claims["username"]),
        is_staff=bool(claims.get("is_staff", False)),
        is_superuser=bool(claims.get("is_superuser", False)),
        roles=frozenset(str(role) for role in roles) if isinstance(roles, list) else frozenset(),
        claims=claims,
    )
