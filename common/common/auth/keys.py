"""The public keys that verify tokens, by ``kid``.

Three sources, used together:

- ``settings.JWT_PUBLIC_JWKS``: a JWKS (dict) configured in the environment;
- ``settings.JWT_PUBLIC_JWKS_PROVIDER``: the dotted path of a function that
  returns a JWKS; users_service uses it to trust its own signing keys (current
  and previous) without a request to itself;
- ``settings.JWT_JWKS_URL``: users_service's ``/.well-known/jwks.json``, fetched
  with a short timeout and cached for ``JWT_JWKS_CACHE_SECONDS``. An unknown
  ``kid`` triggers a refetch (at most every ``JWT_JWKS_MIN_REFETCH_SECONDS``),
  so a newly rotated key is picked up at once. When users_service cannot be
  reached the keys already fetched stay in use, so verification keeps working.
  The fetch goes through users_service's circuit breaker (``common.remote_calls``):
  while users_service is down, a worker stops trying after a few failures. The
  last JWKS fetched is also kept in the service's cache (Redis), so a worker
  started while users_service is down verifies with what another one fetched.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from jwt.algorithms import AllowedPublicKeys
from redis.exceptions import RedisError

from common import remote_calls

logger = logging.getLogger(__name__)


class KeyNotFound(Exception):
    """No public key is known for this ``kid``."""


@dataclass
class _RemoteKeys:
    keys: dict[str, AllowedPublicKeys] = field(default_factory=dict)
    fetched_at: float = 0.0
    attempted_at: float = 0.0


class PublicKeys:
    """Thread-safe lookup of verification keys by ``kid``; one instance per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remote = _RemoteKeys()

    def reset(self) -> None:
        with self._lock:
            self._remote = _RemoteKeys()

    def get(self, kid: str) -> AllowedPublicKeys:
        configured = _configured_keys()
        if kid in configured:
            return configured[kid]
        url = getattr(settings, "JWT_JWKS_URL", "")
        if not url:
            raise KeyNotFound(kid)
        with self._lock:
            now = time.monotonic()
            stale = now - self._remote.fetched_at > settings.JWT_JWKS_CACHE_SECONDS
            unknown = kid not in self._remote.keys
            may_refetch = now - self._remote.attempted_at > settings.JWT_JWKS_MIN_REFETCH_SECONDS
            if (stale or unknown) and may_refetch:
                self._refetch(url, now)
            try:
                return self._remote.keys[kid]
            except KeyError:
                raise KeyNotFound(kid) from None

    def _refetch(self, url: str, now: float) -> None:
        self._remote.attempted_at = now
        try:
            response = remote_calls.call(
                remote_calls.USERS_SERVICE,
                lambda timeout: requests.get(url, timeout=timeout),
                read_timeout=settings.JWT_JWKS_TIMEOUT_SECONDS,
            )
            response.raise_for_status()
            jwks = response.json()
            keys = _keys_from_jwks(jwks)
        except (remote_calls.RemoteUnavailable, requests.RequestException, ValueError, jwt.PyJWTError) as error:
            # Keep verifying with the keys we have; users_service may be restarting. A process that has none
            # yet (started while users_service is down) takes the copy another process of the service shared.
            logger.warning("could not refresh the JWKS from %s: %s", url, error)
            if not self._remote.keys:
                self._remote.keys = _shared_copy()
            return
        self._remote = _RemoteKeys(keys=keys, fetched_at=now, attempted_at=now)
        _share(jwks)


SHARED_JWKS_KEY = "auth:jwks"


def _share(jwks: object) -> None:
    """Keep the JWKS fetched last in the service's cache (Redis), for its processes that could not fetch it."""
    try:
        cache.set(SHARED_JWKS_KEY, json.dumps(jwks), timeout=None)
    except RedisError as error:
        logger.warning("the JWKS fetched was not shared: %s", error)


def _shared_copy() -> dict[str, AllowedPublicKeys]:
    try:
        shared = cache.get(SHARED_JWKS_KEY)
        return _keys_from_jwks(json.loads(shared)) if shared else {}
    except (RedisError, ValueError, jwt.PyJWTError) as error:
        logger.warning("no shared copy of the JWKS: %s", error)
        return {}


def _configured_keys() -> dict[str, AllowedPublicKeys]:
    jwks = {"keys": list((getattr(settings, "JWT_PUBLIC_JWKS", None) or {}).get("keys", []))}
    provider = getattr(settings, "JWT_PUBLIC_JWKS_PROVIDER", "")
    if provider:
        jwks["keys"].extend(import_string(provider)().get("keys", []))
    # Parsing RSA keys costs more than a lookup: parse each distinct JWKS once.
    return _parsed_jwks(json.dumps(jwks, sort_keys=True))


@lru_cache(maxsize=16)
def _parsed_jwks(jwks_json: str) -> dict[str, AllowedPublicKeys]:
    return _keys_from_jwks(json.loads(jwks_json))


def _keys_from_jwks(jwks: object) -> dict[str, AllowedPublicKeys]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys", []), list):
        raise ValueError("a JWKS is an object with a list of keys")
    keys: dict[str, AllowedPublicKeys] = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not entry.get("kid"):
            continue
        keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
    return keys


public_keys = PublicKeys()


def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("JWT_"):
        public_keys.reset()


setting_changed.connect(_reset_on_setting_change)
