"""Django's Redis cache backend, and rendered pages cached under a version that a change replaces.

``RedisCache``: Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
cache operation; with redis-py 8 that object alone costs more than the
round trip on a small machine (it fills a table of ~170 response callbacks).
The client is thread-safe and its pool handles forks, so one per pool is
enough. Behaviour is otherwise Django's own.

``serve_versioned_page``: a JSON page served from the cache for as long as the version it was built at is
current (its docstring gives the consistency argument). Each service names its keys and decides what
replaces a version and who bypasses the cache.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends import redis as django_redis
from django.http import HttpResponse
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

logger = logging.getLogger(__name__)
_renderer = JSONRenderer()


class ReusedRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """``CACHES[...]["BACKEND"] = "common.cache.RedisCache"``."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    def get_values(self, keys: list[str]) -> list[Any]:
        """The values of ``keys`` in one MGET, ``None`` where a key is missing (``get_many`` returns a dict).

        This is every cached page's read, so it takes a pooled connection itself: Django's ``get_many``
        and redis-py's command wrappers (retries, observability hooks, reply callbacks) cost about a
        third of the round trip on a small machine. A failure raises ``RedisError``, as a command would,
        and the connection is dropped rather than reused with a reply half read.
        """
        names = [self.make_and_validate_key(key) for key in keys]
        pool = self._cache.get_client(None).connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command("MGET", *names)
            values = connection.read_response()
        except BaseException:
            connection.disconnect()
            raise
        finally:
            pool.release(connection)
        loads = self._cache._serializer.loads
        return [None if value is None else loads(value) for value in values]


def _current_version_and_page(
    *, version_key: str, page_key: str, version_timeout: int | None
) -> tuple[str | None, bytes | None]:
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        version, page = backend.get_values([version_key, page_key])
    else:
        found = cache.get_many([version_key, page_key])
        version, page = found.get(version_key), found.get(page_key)
    if version is None:
        fresh = uuid.uuid4().hex
        if cache.add(version_key, fresh, timeout=version_timeout):
            return fresh, None
        return cache.get(version_key), None  # a concurrent read or a bump set it first
    if page is not None and page[0] == version:
        return version, page[1]
    return version, None


def serve_versioned_page(
    *,
    version_key: str,
    page_key: str,
    build: Callable[[], Response],
    version_timeout: int | None,
    description: str,
) -> HttpResponse:
    """The cached JSON under ``page_key`` if it is current, or ``build()``'s response, cached when it is a 200.

    Consistency: a page is stored together with the version it was built at. A read fetches the current
    version and the page in one round trip (MGET) and serves the page only when the two versions match. The
    caller replaces the version (a new random value under ``version_key``, on commit) after every change the
    page depends on, so the first read after it rebuilds the page from the database. The version is read
    *before* ``build()`` queries the database: a page built while a change commits is stored under the old
    version and is never served after the replacement. A version is a random value, so one that expires
    (after ``version_timeout`` seconds; ``None``: never) or is lost with Redis and is created again never
    matches a page stored before. Pages expire after the cache's default timeout.

    ``build`` reads the database; errors it raises reach DRF as they are, and a response other than a 200 is
    returned as it is, uncached. When Redis fails, the page is built from the database and a warning naming
    ``description`` (``"order list"``) is logged.
    """
    try:
        version, body = _current_version_and_page(
            version_key=version_key, page_key=page_key, version_timeout=version_timeout
        )
    except RedisError:
        logger.warning("%s cache unavailable; reading from the database", description, exc_info=True)
        version, body = None, None
    if body is not None:
        return HttpResponse(body, content_type="application/json")
    response = build()
    if response.status_code != 200:
        return response
    body = _renderer.render(response.data)
    if version is not None:
        try:
            cache.set(page_key, (version, body))
        except RedisError:
            logger.warning("could not cache a page of the %s", description, exc_info=True)
    return HttpResponse(body, content_type="application/json")
