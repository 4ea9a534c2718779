"""The fast copy of the deactivations that web processes read: a Redis hash, ``user_id -> deactivated_at``.

The database table (``DeactivatedUser``) is the record; the hash in Redis
(the service's broker, ``REDIS_URL``; key ``JWT_DEACTIVATIONS_KEY``)
is what ``JWTAuthentication`` consults, so checking a token costs no database
query. Each web process keeps a snapshot of the hash, reloaded at most every
``JWT_DEACTIVATIONS_REFRESH_SECONDS`` (default 1 s). If Redis cannot be
reached the last snapshot stays in use (logged).

The message handler writes the whole table into the hash, inside the inbox
transaction: if Redis is down the handler fails and the message is retried,
and a Redis that lost its data is refilled by the next deactivation (or by
``deactivations_store_rebuild()``). Entries only matter for as long as an
access token lives (minutes), since users_service refuses to refresh or
issue tokens for a deactivated account.
"""

import logging
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.signals import setting_changed

from common import redis_servers
from common.auth.deactivations.models import DeactivatedUser

if TYPE_CHECKING:
    from redis.typing import EncodableT

logger = logging.getLogger(__name__)


def _key() -> str:
    return getattr(settings, "JWT_DEACTIVATIONS_KEY", "") or f"{settings.SERVICE_NAME}:deactivated-users"


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis_servers.redis_client(url, socket_connect_timeout=1, socket_timeout=1)


def _client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


def deactivations_store_rebuild() -> int:
    """Write every recorded deactivation into the Redis hash; returns how many."""
    rows: dict[EncodableT, EncodableT] = {
        str(user_id): moment.timestamp()
        for user_id, moment in DeactivatedUser.objects.values_list("user_id", "deactivated_at")
    }
    if rows:
        _client().hset(_key(), mapping=rows)
    _snapshot.reset()
    return len(rows)


class _Snapshot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deactivated_at: dict[int, float] = {}
        self._loaded_at = float("-inf")

    def reset(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")

    def deactivated_at(self, user_id: int) -> float | None:
        interval = getattr(settings, "JWT_DEACTIVATIONS_REFRESH_SECONDS", 1.0)
        with self._lock:
            now = time.monotonic()
            if now - self._loaded_at >= interval:
                try:
                    raw = _client().hgetall(_key())
                    self._deactivated_at = {int(user): float(moment) for user, moment in raw.items()}
                except redis.RedisError as error:
                    logger.warning("deactivations: Redis unreachable, using the last snapshot: %s", error)
                self._loaded_at = now
            return self._deactivated_at.get(user_id)


_snapshot = _Snapshot()


def deactivated_at(*, user_id: int) -> float | None:
    """When ``user_id`` was last deactivated (epoch seconds), per the snapshot; None if never."""
    return _snapshot.deactivated_at(user_id)


def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("JWT_") or setting == "REDIS_URL":
        _snapshot.reset()


setting_changed.connect(_reset_on_setting_change)
