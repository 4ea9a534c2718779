"""OpenTelemetry's Django middleware, without its work for a request that could only make a span no one keeps.

``tracing.install`` puts ``QuietRequestsMiddleware`` in the place the Django instrumentation takes in
``MIDDLEWARE``. A GET of a quiet root (``QuietSampler``: the catalogue's cached public reads) that carries no
``traceparent`` would start a trace the sampler drops; the instrumentation still describes such a request
(its URL, headers, attributes, a non-recording span and its context), which cost about as much as the cached
read itself. Here such a request goes straight on; any other request (a write, a read within a caller's
trace, a path that is not a quiet root) is the instrumentation's, as before.

Whether a path is a quiet root is remembered per path (at most ``QUIET_PATHS_REMEMBERED``; the map starts
again when full): finding the name means resolving the URL, which Django does again for the view. And the
instrumentation's ``process_view`` and ``process_exception``, which Django calls for every request, only add
to the request's span: without one (a quiet request, or a URL the instrumentation excludes) they return at
once instead of building the request's absolute URI to check the exclusions again.

Relies on the instrumentation's ``_DjangoMiddleware``: its ``__call__``, ``_get_span_name`` (the name its span
and the sampler see; from the method and, before the view is resolved, the path alone), ``process_view``,
``process_exception`` and ``_environ_activation_key`` (the ``request.META`` key of the span it started).
"""

from typing import Any

from django.http import HttpRequest
from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware

INSTRUMENTATION_MIDDLEWARE = f"{_DjangoMiddleware.__module__}.{_DjangoMiddleware.__qualname__}"


QUIET_PATHS_REMEMBERED = 4096


class QuietRequestsMiddleware(_DjangoMiddleware):
    quiet_roots: frozenset[str] = frozenset()  # set by tracing.install

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)  # type: ignore[no-untyped-call]  # the instrumentation has no types
        self._quiet_paths: dict[str, bool] = {}

    def __call__(self, request: HttpRequest) -> Any:
        if self.quiet(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[no-untyped-call]  # the instrumentation has no types

    def quiet(self, request: HttpRequest) -> bool:
        """Whether the request's span would be a root the sampler drops: a GET of a quiet root, no caller's trace."""
        return (
            request.method == "GET"
            and "HTTP_TRACEPARENT" not in request.META
            and bool(self.quiet_roots)
            and self._quiet_path(request)
        )

    def _quiet_path(self, request: HttpRequest) -> bool:
        quiet = self._quiet_paths.get(request.path)
        if quiet is None:
            quiet = self._get_span_name(request) in self.quiet_roots  # type: ignore[no-untyped-call]
            if len(self._quiet_paths) >= QUIET_PATHS_REMEMBERED:
                self._quiet_paths.clear()
            self._quiet_paths[request.path] = quiet
        return quiet

    def process_view(self, request: HttpRequest, view_func: Any, *args: Any, **kwargs: Any) -> None:
        if self._environ_activation_key in request.META:  # the request has a span of the instrumentation's
            super().process_view(request, view_func, *args, **kwargs)  # type: ignore[no-untyped-call]

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if self._environ_activation_key in request.META:
            super().process_exception(request, exception)  # type: ignore[no-untyped-call]
