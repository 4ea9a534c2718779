"""Django's Redis cache backend, and rendered pages cached under a version that a change replaces.

``RedisCache``: Django's Redis cache backend with one ``redis.Redis`` per connection pool instead of one
per cache operation, and ``get_values``, a page's read in one MGET (both explained, with what they assume
of Django and redis-py, in ``common.kombu_redis_patches``). Behaviour is otherwise Django's own.

``serve_versioned_page``: a JSON page served from the cache for as long as the version it was built at is
current (its docstring gives the consistency argument), with a strong ``ETag`` (a hash of the page's bytes,
stored with it) and a 304 to a request whose ``If-None-Match`` names it. Each service names its keys and
decides what replaces a version and who bypasses the cache.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends import redis as django_redis
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from common import kombu_redis_patches
from common.telemetry import tracing

logger = logging.getLogger(__name__)
_renderer = JSONRenderer()


class RedisCache(django_redis.RedisCache):
    """``CACHES[...]["BACKEND"] = "common.cache.RedisCache"``: Django's, with one client per pool and one MGET.

    Both reach into Django's and redis-py's internals, so they live, with what they assume, in
    ``common.kombu_redis_patches`` (``ReusedRedisCacheClient``, ``redis_cache_get_values``).
    """

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = kombu_redis_patches.ReusedRedisCacheClient

    def get_values(self, keys: list[str]) -> list[Any]:
        """The values of ``keys`` in one MGET, ``None`` where a key is missing (``get_many`` returns a dict).

        This is every cached page's read. A failure raises ``RedisError``, as a command would.
        """
        return kombu_redis_patches.redis_cache_get_values(self, keys)


def _current_version_and_page(
    *, version_key: str, page_key: str, version_timeout: int | None
) -> tuple[str | None, tuple[bytes, str] | None]:
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
    if page is not None and page[0] == version and len(page) == 3:  # (version, body, etag)
        return version, (page[1], page[2])
    return version, None


def version_replace(version_key: str, *, timeout: int | None) -> None:
    """Replace the version under ``version_key`` with a new random one: every page cached at the old one is stale
    now. Bookkeeping of every change, so it makes no span (the change's own spans are the trace's record); a
    failure raises ``RedisError``."""
    with tracing.untraced():
        cache.set(version_key, uuid.uuid4().hex, timeout=timeout)


def strong_etag(body: bytes) -> str:
    """A strong entity tag for a page's bytes: equal tags, equal bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


# Whether a page came from the cache: a client sees why it still gets a page while the database is down
# (a cached page needs no database), and how fresh it is (a cached page is current, see below).
_SERVED_FROM_CACHE = {"X-Cache": "hit"}
_BUILT = {"X-Cache": "miss"}


def serve_versioned_page(
    request: HttpRequest,
    *,
    version_key: str,
    page_key: str,
    build: Callable[[], Response],
    version_timeout: int | None,
    description: str,
    cache_control: str,
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

    Revalidation: every page carries a strong ``ETag`` (``strong_etag`` of its bytes, computed once when it is
    built) and ``cache_control`` (``"no-cache"``: a client or cache in front may keep the page but asks again
    each time). A GET whose ``If-None-Match`` names the current page's tag is a 304 without a body (Django's
    ``get_conditional_response``); a change the page shows changes its bytes, and so its tag, at once.

    ``build`` reads the database; errors it raises reach DRF as they are, and a response other than a 200 is
    returned as it is, uncached. When Redis fails, the page is built from the database and a warning naming
    ``description`` (``"order list"``) is logged.
    """
    try:
        version, cached = _current_version_and_page(
            version_key=version_key, page_key=page_key, version_timeout=version_timeout
        )
    except RedisError:
        logger.warning("%s cache unavailable; reading from the database", description, exc_info=True)
        version, cached = None, None
    if cached is not None:
        body, etag = cached
        return _page_response(request, body, etag=etag, cache_control=cache_control, served_from=_SERVED_FROM_CACHE)
    response = build()
    if response.status_code != 200:
        return response
    body = _renderer.render(response.data)
    etag = strong_etag(body)
    if version is not None:
        try:
            cache.set(page_key, (version, body, etag))
        except RedisError:
            logger.warning("could not cache a page of the %s", description, exc_info=True)
    return _page_response(request, body, etag=etag, cache_control=cache_control, served_from=_BUILT)


# What DRF's JSON-only content negotiation answers with JSON whatever it parses.
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json", "application/*"})


def answerable_before_dispatch(request: HttpRequest) -> bool:
    """Whether DRF would answer ``request`` with a cached JSON page as it is: a GET with a plain ``Accept`` and
    no ``format`` parameter. Only such a request may be answered by ``cached_page`` before DRF's dispatch;
    anything else (HEAD, OPTIONS, a write, another media type) goes through DRF."""
    return (
        request.method == "GET" and request.META.get("HTTP_ACCEPT", "") in _PLAIN_ACCEPT and "format" not in request.GET
    )


def cached_page(
    request: HttpRequest,
    *,
    version_key: str,
    page_key: str,
    version_timeout: int | None,
    cache_control: str,
    allow: str,
) -> HttpResponse | None:
    """The current cached page (or its 304), or ``None`` when there is none or Redis fails: the caller builds it.

    For a caller that answers before DRF's dispatch (``answerable_before_dispatch``), once it knows nothing but
    the cache decides the answer (an anonymous read of a public page, a customer's own order list); ``allow``
    is the ``Allow`` header DRF would add.
    """
    try:
        _, cached = _current_version_and_page(
            version_key=version_key, page_key=page_key, version_timeout=version_timeout
        )
    except RedisError:
        return None
    if cached is None:
        return None
    body, etag = cached
    response = _page_response(request, body, etag=etag, cache_control=cache_control, served_from=_SERVED_FROM_CACHE)
    response["Allow"] = allow
    return response


def _page_response(
    request: HttpRequest, body: bytes, *, etag: str, cache_control: str, served_from: dict[str, str]
) -> HttpResponse:
    response = HttpResponse(
        body,
        content_type="application/json",
        headers={**served_from, "ETag": etag, "Cache-Control": cache_control},
    )
    return get_conditional_response(request, etag=etag, response=response) or response
