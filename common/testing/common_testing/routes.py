"""Which API routes an anonymous caller may call: each service's test compares them with its explicit public
list, so a route that forgets its permissions (or a permissive default) fails a test, not an audit."""

from collections.abc import Iterator

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from common.auth.permissions import anonymous_may_call

METHODS = ("get", "post", "put", "patch", "delete")
# Public on every service: probes, and the OpenAPI schema and its docs page. The schema describes an API whose
# routes and shapes are public knowledge (clients are generated from it); it holds no data.
# /metrics is for the scraper only: it refuses, as a 404, a request through a proxy or from outside the allowed
# networks (common.telemetry.metrics_api), which the anonymous caller of this walk is not.
_PREFIX = settings.URL_PREFIX.removeprefix("/")
INFRASTRUCTURE_ROUTES = frozenset(
    {"GET health/live/", "GET health/ready/", f"GET {_PREFIX}api/schema/", f"GET {_PREFIX}api/docs/", "GET metrics"}
)


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, type[APIView]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
            continue
        view_class = getattr(pattern.callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            yield prefix + str(pattern.pattern), view_class


def anonymous_routes() -> set[str]:
    """``"GET api/v1/products/"`` for every method of every DRF route whose permissions let anonymous callers
    through (the view may still refuse bad input: this is about who may call, not what succeeds)."""
    return {
        f"{method.upper()} {route}"
        for route, view_class in _routes(get_resolver().url_patterns)
        for method in METHODS
        if hasattr(view_class, method) and anonymous_may_call(view_class, method)
    }
