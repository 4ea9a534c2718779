"""OpenTelemetry's Django middleware, without its work for a request that could only make a span no one keeps.

``tracing.install`` puts ``QuietRequestsMiddleware`` in the place the Django instrumentation takes in
``MIDDLEWARE``. A GET of a quiet root (``QuietSampler``: the catalogue's cached public reads) that carries no
``traceparent`` would start a trace the sampler drops; the instrumentation still describes such a request
(its URL, headers, attributes, a non-recording span and its context), which cost about as much as the cached
read itself. Here such a request goes straight on; any other request (a write, a read within a caller's
trace, a path that is not a quiet root) is the instrumentation's, as before. Relies on the instrumentation's
``_DjangoMiddleware`` (its ``__call__`` and ``_get_span_name``, the name its span and the sampler see).
"""

from typing import Any

from django.http import HttpRequest
from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware

INSTRUMENTATION_MIDDLEWARE = f"{_DjangoMiddleware.__module__}.{_DjangoMiddleware.__qualname__}"


class QuietRequestsMiddleware(_DjangoMiddleware):
    quiet_roots: frozenset[str] = frozenset()  # set by tracing.install

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
            and self._get_span_name(request) in self.quiet_roots  # type: ignore[no-untyped-call]
        )
