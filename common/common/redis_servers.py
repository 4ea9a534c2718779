"""Where Redis is: one URL, ``REDIS_URL``, for the broker, the caches and the deactivation store.

Two forms:

- ``redis://[[user]:password@]host:port/db``: one Redis server (redis-py's own URL);
- ``sentinel://[[user]:password@]host:port[,host:port...]/master_name[/db]``: the master that Redis Sentinel
  names ``master_name``, asked of the sentinels listed (any one that answers will do). The password, if
  any, is the master's; the sentinels are asked without one.

Every user of Redis goes through this module, so each follows a failover the same way: a connection is
made to whichever server the sentinels name master at the time it connects, and a connection that meets
the old master (refused, reset, or ``READONLY`` once it has been demoted to a replica) is dropped, so the
next command connects to the new one.

- Celery (the broker, every service's worker and the scheduler): ``celery_broker_url`` and
  ``celery_transport_options`` turn the URL into kombu's own form (``sentinel://h1:p1;sentinel://h2:p2/db``
  with ``master_name`` among the transport options);
- Django's cache: ``ConnectionPool`` is the ``pool_class`` of ``common.cache.RedisCache`` (its ``from_url``
  understands both forms);
- plain clients (the deactivation store, the readiness check): ``redis_client``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "sentinel://"
SENTINEL_DEFAULT_PORT = 26379


@dataclass(frozen=True)
class SentinelLocation:
    """A ``sentinel://`` URL, parsed."""

    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    db: int
    username: str | None
    password: str | None


def sentinel_location(url: str) -> SentinelLocation | None:
    """The parts of a ``sentinel://`` URL; ``None`` for any other URL. ``ValueError`` for a malformed one."""
    if not url.startswith(SENTINEL_SCHEME):
        return None
    rest = url.removeprefix(SENTINEL_SCHEME)
    netloc, _, path = rest.partition("/")
    userinfo, _, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    sentinels = []
    for address in hosts.split(","):
        host, _, port = address.strip().rpartition(":") if ":" in address else (address.strip(), "", "")
        if not host:
            raise ValueError(f"REDIS_URL: a sentinel without a host in {_without_password(url)!r}")
        sentinels.append((host, int(port) if port else SENTINEL_DEFAULT_PORT))
    master_name, _, db = path.partition("/")
    if not master_name:
        raise ValueError(
            f"REDIS_URL: {_without_password(url)!r} names no master (sentinel://host:port[,host:port...]/master/db)"
        )
    return SentinelLocation(
        sentinels=tuple(sentinels),
        master_name=unquote(master_name),
        db=int(db.strip("/") or 0),
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    return f"{scheme}://{'***@' if at else ''}{hosts}"


def _sentinel(location: SentinelLocation, connection_kwargs: dict[str, Any]) -> Sentinel:
    # The sentinels are asked with the same socket timeouts as the master, so a dead sentinel costs no more
    # than a dead server; the next one in the list is asked.
    timeouts = {name: value for name, value in connection_kwargs.items() if name.startswith("socket_")}
    return Sentinel(list(location.sentinels), sentinel_kwargs=timeouts, **connection_kwargs)  # type: ignore[no-untyped-call]


def _master_kwargs(location: SentinelLocation) -> dict[str, Any]:
    credentials = {"username": location.username, "password": location.password}
    return {"db": location.db, **{name: value for name, value in credentials.items() if value is not None}}


def redis_client(url: str, **connection_kwargs: Any) -> redis.Redis:
    """A client of the Redis that ``url`` names (``socket_timeout=...`` and the like are passed on)."""
    location = sentinel_location(url)
    if location is None:
        return redis.Redis.from_url(url, **connection_kwargs)
    sentinel = _sentinel(location, connection_kwargs)
    master: redis.Redis = sentinel.master_for(location.master_name, **_master_kwargs(location))  # type: ignore[no-untyped-call]
    return master


class ConnectionPool(redis.ConnectionPool):
    """Django's cache ``pool_class``: ``from_url`` returns a Sentinel-managed pool for a ``sentinel://`` URL."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        location = sentinel_location(url)
        if location is None:
            return redis.ConnectionPool.from_url(url, **kwargs)
        return redis_client(url, **kwargs).connection_pool


def celery_broker_url(url: str) -> str:
    """``REDIS_URL`` as kombu's broker URL: unchanged for ``redis://``; for Sentinel, one ``sentinel://`` a node."""
    location = sentinel_location(url)
    if location is None:
        return url
    userinfo = ""
    if location.password is not None:
        userinfo = f"{location.username or ''}:{location.password}@"
    return ";".join(f"sentinel://{userinfo}{host}:{port}/{location.db}" for host, port in location.sentinels)


def celery_transport_options(url: str) -> dict[str, Any]:
    """What kombu's Sentinel transport needs beside the URL: the master's name (nothing for ``redis://``)."""
    location = sentinel_location(url)
    return {} if location is None else {"master_name": location.master_name}
