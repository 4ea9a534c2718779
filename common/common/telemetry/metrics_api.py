"""``GET /metrics``: the service's Prometheus metrics, on its own port, for the scraper only.

Who may read it: the metrics name routes and counts, nothing about any user, but they are for operators. The
endpoint answers 404, as if it did not exist, to a request that

- came through a proxy (it carries ``X-Forwarded-For`` or ``Forwarded``): the gateway does not pass
  ``/metrics`` on, and a request it forwarded anyway is refused here too;
- comes from outside ``SHOP_METRICS_ALLOWED_NETWORKS`` (default: loopback and the private ranges that container
  and cluster networks use), so a port published to a public interface does not publish the metrics.

Prometheus reaches each process directly: locally on 127.0.0.1, in compose and Kubernetes over their own
networks. With ``SHOP_TELEMETRY=off`` the endpoint answers 404 too.
"""

import ipaddress
import os
from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from common.telemetry import metrics

_DEFAULT_NETWORKS = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
ALLOWED_NETWORKS = tuple(
    ipaddress.ip_network(network.strip())
    for network in os.environ.get("SHOP_METRICS_ALLOWED_NETWORKS", _DEFAULT_NETWORKS).split(",")
    if network.strip()
)


def scraper_allowed(request: Request) -> bool:
    """Whether ``request`` comes straight from an allowed network (see the module's docstring)."""
    meta = request.META
    if "HTTP_X_FORWARDED_FOR" in meta or "HTTP_FORWARDED" in meta:
        return False
    try:
        address = ipaddress.ip_address(meta.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in ALLOWED_NETWORKS)


class MetricsApi(APIView):
    """The Prometheus text of the service (every web worker process's counts, added up)."""

    authentication_classes = []
    permission_classes = [AllowAny]  # who may read it is decided by where the request comes from, above

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        # Prometheus asks for its text format, which the metrics are; an error (404) is JSON, as everywhere.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        if not (metrics.ENABLED and scraper_allowed(request)):
            raise Http404
        return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
