"""users_service's signing keys: the private key signs; its public half and retired keys are published.

Configuration (environment):

- ``JWT_PRIVATE_KEY`` (PEM text) or ``JWT_PRIVATE_KEY_FILE`` (path to a PEM
  file): the RSA key (2048 bits or more) that signs every token. Production
  refuses to start without one; ``./manage_all.sh up`` generates a development
  key under ``.var/keys/``; the test settings make a throwaway key.
- ``JWT_SIGNING_KEY_ID``: the ``kid`` put in every token's header. Default: the
  key's RFC 7638 thumbprint, so a new key automatically gets a new ``kid``.
- ``JWT_PREVIOUS_PUBLIC_JWKS`` (JSON) or ``JWT_PREVIOUS_PUBLIC_JWKS_FILE``: the
  public keys of retired signing keys, still published and trusted.

Rotation: print the current public JWK (``manage.py signing_key public-jwk``),
add it to ``JWT_PREVIOUS_PUBLIC_JWKS``, install the new private key and
restart. Tokens signed by either key verify on every service (catalog and
orders refetch the JWKS when they meet an unknown ``kid``). Once the longest
token lifetime (the refresh token's) has passed, drop the old key from the
previous set.

This module only does key arithmetic; it reads Django settings lazily so the
settings modules can import it.
"""

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import environ
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MINIMUM_KEY_BITS = 2048


def signing_settings(env: environ.Env) -> dict[str, Any]:
    """``JWT_SIGNING_KEY`` (PEM, may be empty), ``JWT_SIGNING_KEY_ID``, ``JWT_PREVIOUS_PUBLIC_JWKS`` from the env."""
    private_pem = env.str("JWT_PRIVATE_KEY", default="").replace("\\n", "\n")
    key_file = env.str("JWT_PRIVATE_KEY_FILE", default="")
    if not private_pem and key_file:
        try:
            private_pem = Path(key_file).read_text()
        except OSError as error:
            raise ImproperlyConfigured(f"JWT_PRIVATE_KEY_FILE={key_file} cannot be read: {error}") from error
    previous = env.json("JWT_PREVIOUS_PUBLIC_JWKS", default={"keys": []})
    previous_file = env.str("JWT_PREVIOUS_PUBLIC_JWKS_FILE", default="")
    if previous_file:
        previous = {"keys": [*previous.get("keys", []), *json.loads(Path(previous_file).read_text()).get("keys", [])]}
    return {
        "JWT_SIGNING_KEY": private_pem,
        "JWT_SIGNING_KEY_ID": env.str("JWT_SIGNING_KEY_ID", default=""),
        "JWT_PREVIOUS_PUBLIC_JWKS": previous,
    }


def generate_private_key_pem() -> str:
    """A new 2048-bit RSA private key in PKCS#8 PEM (tests, and ``manage.py signing_key generate``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=MINIMUM_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@lru_cache(maxsize=8)
def _load_private_key(pem: str) -> rsa.RSAPrivateKey:
    if not pem:
        raise ImproperlyConfigured(
            "users_service has no signing key: set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE"
            " (./manage_all.sh up generates one)."
        )
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"the JWT signing key is not an unencrypted PEM private key: {error}") from error
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MINIMUM_KEY_BITS:
        raise ImproperlyConfigured(f"the JWT signing key must be an RSA key of at least {MINIMUM_KEY_BITS} bits")
    return key


def private_key() -> rsa.RSAPrivateKey:
    return _load_private_key(settings.JWT_SIGNING_KEY)


def key_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): a stable ``kid`` derived from the key itself."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def signing_key_id() -> str:
    """The ``kid`` of the current signing key."""
    return settings.JWT_SIGNING_KEY_ID or key_thumbprint(private_key().public_key())


def current_public_jwk() -> dict[str, Any]:
    return _public_jwk(settings.JWT_SIGNING_KEY, signing_key_id())


@lru_cache(maxsize=8)
def _public_jwk(pem: str, kid: str) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(_load_private_key(pem).public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def published_jwks() -> dict[str, list[dict[str, Any]]]:
    """What ``/.well-known/jwks.json`` serves and users_service itself trusts: the current key, then retired ones."""
    current = current_public_jwk()
    previous = [
        {**key, "alg": "RS256", "use": "sig"}
        for key in (settings.JWT_PREVIOUS_PUBLIC_JWKS or {}).get("keys", [])
        if isinstance(key, dict) and key.get("kty") == "RSA" and key.get("kid") and key.get("kid") != current["kid"]
    ]
    public_fields = ("kty", "kid", "alg", "use", "n", "e")
    return {"keys": [{name: key[name] for name in public_fields if name in key} for key in [current, *previous]]}
