"""The public catalogue, served from Redis, and the catalogue version that makes every write visible at once.

Anonymous callers and customers see the same catalogue (active products only), so their product list,
product detail and category pages are cached as rendered JSON. Catalog managers bypass the cache.

Each page is cached under the catalogue version (``common.cache.serve_versioned_page``, whose docstring
gives the consistency argument). Every committed change to a category, product or stock row replaces the
version (``transaction.on_commit``), so the first read after a write rebuilds the page from the database.
The version never expires.

What bumps the version:
- ``post_save`` / ``post_delete`` of ``Category``, ``Product`` and ``Stock`` (the admin, services, shells);
- ``catalog_changed()``, which every service calls after a bulk ``QuerySet.update()`` (signals do not fire
  for those). Code outside this app that updates stock rows (the order saga) goes through
  ``catalog.services``, which calls it.

Every page carries a strong ``ETag`` and ``Cache-Control: no-cache``; a read whose ``If-None-Match`` names the
current page's tag is a 304 (``common.cache``). An anonymous GET of a cached page is answered before DRF's
dispatch (``PublicPageFastPath``), and so is a customer's once their token is verified: nothing but the cache
decides that answer, and DRF's content negotiation and permission checks would only repeat what the fast path
already knows.

When Redis fails, reads fall back to the database and a failed bump is logged; cached pages expire after
``CACHES["default"]["TIMEOUT"]`` seconds in any case. Never call ``cache.clear()`` here: the cache may share
its Redis database with the Celery broker.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import bearer_user
from common.auth.permissions import CATALOG_MANAGER, has_role
from common.cache import answerable_before_dispatch, cached_page, serve_versioned_page, version_replace

logger = logging.getLogger(__name__)

VERSION_KEY = "public-catalog:version"


def catalog_version_bump() -> None:
    """Make every cached public page stale now."""
    try:
        version_replace(VERSION_KEY, timeout=None)
    except RedisError:
        logger.exception("could not bump the public catalogue version; cached pages may be stale until they expire")


def catalog_changed() -> None:
    """Call in the transaction of any catalogue write: the public cache is invalidated once it commits."""
    transaction.on_commit(catalog_version_bump)


def _on_model_change(sender: type[Model], **kwargs: object) -> None:
    catalog_changed()


def connect_model_signals() -> None:
    from catalog_service.catalog.models import Category, Product, Stock

    for model in (Category, Product, Stock):
        post_save.connect(_on_model_change, sender=model, dispatch_uid=f"public_cache.save.{model.__name__}")
        post_delete.connect(_on_model_change, sender=model, dispatch_uid=f"public_cache.delete.{model.__name__}")


# Public pages may be kept by clients and caches in front, which ask again each time (a 304 if unchanged).
CACHE_CONTROL = "no-cache"


def _page_key(request: HttpRequest | Request, *, query_parameters: Iterable[str]) -> str:
    # Only the parameters the page depends on, sorted: ?b=1&a=2 and ?a=2&b=1&junk=3 share one entry.
    # Scheme and host are part of the key because pagination links are absolute.
    query = sorted((name, value) for name in query_parameters for value in request.GET.getlist(name))
    identity = repr((request.scheme, request.get_host(), request.path, query))
    return "public-catalog:page:" + hashlib.sha256(identity.encode()).hexdigest()


def serve_public_page(
    request: Request, *, query_parameters: Iterable[str] = (), build: Callable[[], Response]
) -> HttpResponse:
    """The cached JSON of a public page, or ``build()``'s response, rendered and cached when it is a 200."""
    return serve_versioned_page(
        request,
        version_key=VERSION_KEY,
        page_key=_page_key(request, query_parameters=query_parameters),
        build=build,
        version_timeout=None,
        description="public catalogue",
        cache_control=CACHE_CONTROL,
    )


class PublicPageFastPath(APIView):
    """A GET of a current cached public page by an anonymous caller or a customer, answered before DRF's dispatch.

    What the fast path knows: with no ``Authorization`` header the caller is anonymous; with a valid bearer token
    (``common.auth.authentication.bearer_user``, the view's own authentication) of anyone but a catalog manager
    the caller sees the same public page. Anyone may read (``IsCatalogManagerOrReadOnly``), reads are not
    throttled, and with no ``format`` parameter and a plain ``Accept`` DRF would render JSON
    (``common.cache.answerable_before_dispatch``). Everything else (a token refused, a catalog manager, a cache
    miss, Redis down, HEAD, OPTIONS, a write) goes through DRF as before. ``public_query_parameters`` names what
    the page depends on, as in ``serve_public_page``.
    """

    public_query_parameters: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if answerable_before_dispatch(request) and self._sees_the_public_page(request):
            response = cached_page(
                request,
                version_key=VERSION_KEY,
                page_key=_page_key(request, query_parameters=self.public_query_parameters),
                version_timeout=None,
                cache_control=CACHE_CONTROL,
                allow=", ".join(self.allowed_methods),
            )
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def _sees_the_public_page(self, request: HttpRequest) -> bool:
        if "HTTP_AUTHORIZATION" not in request.META:
            return True
        user = bearer_user(request, self.authentication_classes)
        return user is not None and not has_role(user, CATALOG_MANAGER)
