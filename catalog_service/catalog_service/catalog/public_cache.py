"""The public catalogue, served from Redis, and the catalogue version that makes every write visible at once.

Anonymous callers and customers see the same catalogue (active products only), so their product list,
product detail and category pages are cached as rendered JSON. Catalog managers bypass the cache.

Consistency: each cached page is stored together with the catalogue *version* it was built at. A read
fetches the current version and the page in one round trip (MGET) and serves the page only when the two
versions match. Every committed change to a category, product or stock row replaces the version
(``transaction.on_commit``), so the first read after a write rebuilds the page from the database. The
version is read *before* the database is queried: a page built while a write commits is stored under the
old version and is never served after the bump.

What bumps the version:
- ``post_save`` / ``post_delete`` of ``Category``, ``Product`` and ``Stock`` (the admin, services, shells);
- ``catalog_changed()``, which every service calls after a bulk ``QuerySet.update()`` (signals do not fire
  for those). Code outside this app that updates stock rows (the order saga) goes through
  ``catalog.services``, which calls it.

When Redis fails, reads fall back to the database and a failed bump is logged; cached pages expire after
``CACHES["default"]["TIMEOUT"]`` seconds in any case. Never call ``cache.clear()`` here: the cache may share
its Redis database with the Celery broker.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

logger = logging.getLogger(__name__)

VERSION_KEY = "public-catalog:version"
_renderer = JSONRenderer()


def catalog_version_bump() -> None:
    """Make every cached public page stale now."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except RedisError:
        logger.exception("could not bump the public catalogue version; cached pages may be stale until they expire")


def catalog_changed() -> None:
    """Call in the transaction of any catalogue write: the public cache is invalidated once it commits."""
    transaction.on_commit(catalog_version_bump)


def _on_model_change(sender, **kwargs) -> None:
    catalog_changed()


def connect_model_signals() -> None:
    from catalog_service.catalog.models import Category, Product, Stock

    for model in (Category, Product, Stock):
        post_save.connect(_on_model_change, sender=model, dispatch_uid=f"public_cache.save.{model.__name__}")
        post_delete.connect(_on_model_change, sender=model, dispatch_uid=f"public_cache.delete.{model.__name__}")


def _page_key(request: Request, *, query_parameters: Iterable[str]) -> str:
    # Only the parameters the page depends on, sorted: ?b=1&a=2 and ?a=2&b=1&junk=3 share one entry.
    # Scheme and host are part of the key because pagination links are absolute.
    query = sorted((name, value) for name in query_parameters for value in request.query_params.getlist(name))
    identity = repr((request.scheme, request.get_host(), request.path, query))
    return "public-catalog:page:" + hashlib.sha256(identity.encode()).hexdigest()


def _current_version_and_page(key: str) -> tuple[str | None, bytes | None]:
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        return cache.get(VERSION_KEY), None
    page = found.get(key)
    if page is not None and page[0] == version:
        return version, page[1]
    return version, None


def serve_public_page(
    request: Request, *, query_parameters: Iterable[str] = (), build: Callable[[], Response]
) -> HttpResponse:
    """The cached JSON of a public page, or ``build()``'s response, rendered and cached when it is a 200."""
    key = _page_key(request, query_parameters=query_parameters)
    try:
        version, body = _current_version_and_page(key)
    except RedisError:
        logger.warning("public catalogue cache unavailable; reading from the database", exc_info=True)
        version, body = None, None
    if body is not None:
        return HttpResponse(body, content_type="application/json")
    response = build()
    if response.status_code != 200:
        return response
    body = _renderer.render(response.data)
    if version is not None:
        try:
            cache.set(key, (version, body))
        except RedisError:
            logger.warning("could not cache a public catalogue page", exc_info=True)
    return HttpResponse(body, content_type="application/json")
