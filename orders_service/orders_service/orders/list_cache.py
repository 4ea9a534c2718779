"""A customer's order list, served from Redis, and the per-user version that makes every change visible at once.

Only a customer's own list is cached, per user; an order operator (who sees every order) bypasses the cache.
A customer's GET of a current cached page is answered before DRF's dispatch once the token is verified
(``orders.apis.OrderPlaceApi.dispatch``).

Each page is cached under its user's order list version (``common.cache.serve_versioned_page``, whose
docstring gives the consistency argument). Every committed change to one of the user's orders replaces that
user's version (``transaction.on_commit``), so the user's first read after it rebuilds the page from the
database. A version outlives the pages built at it (``VERSION_TIMEOUT_SECONDS``).

What bumps a user's version:
- ``order_list_changed()``, which ``orders.services`` calls in every write of an order: placing, cancelling,
  and each saga status change (confirm, reject, mark cancelled, which all notify the user). Lines are written
  only there (in bulk, which sends no signal);
- ``post_delete`` of ``Order``: the admin's delete action (its fields are read-only) and shells. There is
  no ``post_save`` hook: every save goes through the services, which bump once per change (a signal would
  make that a second Redis write on every saga step). A data fix made outside the services should call
  ``order_list_changed()``; otherwise its pages are served until they expire.

Re-driving a stuck order changes only ``driven_at``, which the list does not show: no bump.

When Redis fails, reads fall back to the database and a failed bump is logged; cached pages expire after
``CACHES["default"]["TIMEOUT"]`` seconds in any case. Never call ``cache.clear()`` here: the cache may share
its Redis database with the Celery broker.
"""

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete
from django.http import HttpRequest, HttpResponse
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.response import Response

from common.cache import cached_page, serve_versioned_page, version_replace

if TYPE_CHECKING:
    from orders_service.orders.models import Order

logger = logging.getLogger(__name__)

# What the list page depends on besides the user, the scheme, the host and the path (pagination, filter).
QUERY_PARAMETERS = ("page", "page_size", "status")
# A customer's pages may be kept by the customer's own client (not a shared cache), which asks again each time.
CACHE_CONTROL = "private, no-cache"
# A version outlives the pages built at it; once it expires, the user's next read starts a new one.
VERSION_TIMEOUT_SECONDS = 24 * 60 * 60


def _version_key(user_id: int) -> str:
    return f"orders:list-version:{user_id}"


def order_list_version_bump(*, user_id: int) -> None:
    """Make every cached page of ``user_id``'s order list stale now."""
    try:
        version_replace(_version_key(user_id), timeout=VERSION_TIMEOUT_SECONDS)
    except RedisError:
        logger.exception("could not bump the order list version of user %s; cached pages may be stale", user_id)


def order_list_changed(*, user_id: int) -> None:
    """Call in the transaction of any change to ``user_id``'s orders: their cached list is stale once it commits."""
    transaction.on_commit(functools.partial(order_list_version_bump, user_id=user_id))


def _on_order_change(sender: type[Model], instance: "Order", **kwargs: object) -> None:
    order_list_changed(user_id=instance.user_id)


def connect_model_signals() -> None:
    from orders_service.orders.models import Order

    post_delete.connect(_on_order_change, sender=Order, dispatch_uid="list_cache.delete.Order")


def _page_key(request: HttpRequest | Request, *, user_id: int) -> str:
    # Only the parameters the page depends on, sorted: ?b=1&a=2 and ?a=2&b=1&junk=3 share one entry.
    # Scheme and host are part of the key because pagination links are absolute.
    query = sorted((name, value) for name in QUERY_PARAMETERS for value in request.GET.getlist(name))
    identity = repr((user_id, request.scheme, request.get_host(), request.path, query))
    return f"orders:list-page:{user_id}:" + hashlib.sha256(identity.encode()).hexdigest()


def serve_order_list_page(request: Request, *, user_id: int, build: Callable[[], Response]) -> HttpResponse:
    """The cached JSON of ``user_id``'s order list page, or ``build()``'s response, cached when it is a 200; with
    its ``ETag``, and a 304 to a request whose ``If-None-Match`` names it.

    ``build`` reads the database; errors it raises (an invalid filter, an unknown page) reach DRF as they are.
    """
    return serve_versioned_page(request, build=build, description="order list", **_cached_as(request, user_id=user_id))


def cached_order_list_page(request: HttpRequest, *, user_id: int, allow: str) -> HttpResponse | None:
    """``user_id``'s current cached order list page (or its 304), or None: for an answer before DRF's dispatch."""
    return cached_page(request, allow=allow, **_cached_as(request, user_id=user_id))


def _cached_as(request: HttpRequest | Request, *, user_id: int) -> dict[str, Any]:
    """Where and how ``user_id``'s page for ``request`` is cached: the same for a read through DRF and before it."""
    return {
        "version_key": _version_key(user_id),
        "page_key": _page_key(request, user_id=user_id),
        "version_timeout": VERSION_TIMEOUT_SECONDS,
        "cache_control": CACHE_CONTROL,
    }
