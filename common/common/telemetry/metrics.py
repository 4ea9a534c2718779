"""Prometheus metrics: the contract's names (ARCHITECTURE.md, Telemetry), defined once, recorded by the code
that knows the fact, exposed on ``/metrics``.

Where each number comes from:

- ``shop_http_requests_total`` and ``shop_http_request_duration_seconds``: ``HttpMetricsMiddleware``, the
  outermost middleware of every service; ``route`` is the URL pattern that matched (``api/v1/products/<int:pk>/``,
  ``unmatched`` when none did), never the raw path, so the series stay few;
- ``shop_orders_total{status}`` and ``shop_order_saga_duration_seconds{outcome}``: orders_service's services,
  after the transaction that changed the order committed (``order_counted``, ``order_settled``);
- ``shop_messages_published_total`` and ``shop_messages_consumed_total``: ``common.messaging``'s publisher and
  consumer (``message_published``, ``message_consumed``); outcomes ``applied``, ``duplicate``, ``retried``,
  ``parked``;
- ``shop_throttled_total{service,scope}``: ``throttled(scope=...)``, called by whatever refuses a request for its
  rate;
- the gauges ``shop_outbox_backlog``, ``shop_outbox_oldest_age_seconds``, ``shop_dead_letters`` and
  ``shop_queue_depth``: read by ``MessagingGauges`` when a service's ``/metrics`` is scraped, at most once per
  ``GAUGE_READ_SECONDS`` for all its worker processes (the reading is kept in the service's cache), so a scrape
  of any number of web workers costs at most one small query and one Redis round trip every few seconds.

Processes: a web server's workers each count into files of ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode; whoever starts the server gives it an empty directory of its own) and ``/metrics`` on the
service's port adds them up. A Celery worker or the scheduler is one process: it serves its own registry on
``SHOP_METRICS_ADDRESS`` (``host:port``), which shopctl gives each replica. ``SHOP_TELEMETRY=off`` turns all of
it off: nothing is recorded, ``/metrics`` answers 404 and no port is opened.

Recording is cheap: a label set's children are looked up once and kept (``_children``), a request costs two
dictionary lookups, one counter increment and one histogram observation.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if _directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(_directory, exist_ok=True)  # prometheus-client writes there from the first sample on

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from common import telemetry

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# No ``*_created`` series: they are not in the contract, and the multiprocess mode of the web servers has none.
disable_created_metrics()  # type: ignore[no-untyped-call]

ENABLED = telemetry.enabled()
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
GAUGE_READ_SECONDS = 5.0
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
CONSUMED_OUTCOMES = ("applied", "duplicate", "retried", "parked")

HTTP_REQUESTS = Counter(
    "shop_http_requests",
    "HTTP requests answered, by route pattern and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the request entering the service to its response, by route pattern.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ORDERS = Counter("shop_orders", "Orders that reached a status (pending on acceptance, then the saga's).", ["status"])
ORDER_SAGA_DURATION = Histogram(
    "shop_order_saga_duration_seconds",
    "From an order's acceptance to confirmed or rejected.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
MESSAGES_PUBLISHED = Counter(
    "shop_messages_published", "Messages the broker accepted from this service.", ["service", "message"]
)
MESSAGES_CONSUMED = Counter(
    "shop_messages_consumed",
    "Deliveries of messages handled, by outcome: applied, duplicate, retried, parked (a dead letter).",
    ["service", "message", "outcome"],
)
THROTTLED = Counter("shop_throttled", "Requests refused for their rate, by throttle scope.", ["service", "scope"])

GAUGES = {
    "shop_outbox_backlog": ("Outbox messages not yet accepted by the broker.", "service"),
    "shop_outbox_oldest_age_seconds": ("Age of the oldest outbox message not yet sent (0: none).", "service"),
    "shop_dead_letters": ("Parked dead letters waiting for an operator.", "service"),
    "shop_queue_depth": ("Messages waiting in the service's queue.", "queue"),
}
# Every name the services export, as Prometheus shows it: dashboards and alert rules may use only these.
EXPORTED_NAMES = frozenset(
    {
        "shop_http_requests_total",
        *(f"shop_http_request_duration_seconds{suffix}" for suffix in ("_bucket", "_count", "_sum")),
        "shop_orders_total",
        *(f"shop_order_saga_duration_seconds{suffix}" for suffix in ("_bucket", "_count", "_sum")),
        "shop_messages_published_total",
        "shop_messages_consumed_total",
        "shop_throttled_total",
        *GAUGES,
    }
)

_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Counter | Histogram, *labels: str) -> Any:
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _service() -> str:
    from django.conf import settings

    return str(settings.SERVICE_NAME)


# ---------------------------------------------------------------- recording


class HttpMetricsMiddleware:
    """Counts and times every request of the service (the outermost middleware: errors and 404s included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        from django.core.exceptions import MiddlewareNotUsed

        if not ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.service = _service()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - began
        match = request.resolver_match
        route = match.route if match is not None else UNMATCHED_ROUTE
        method = request.method if request.method in METHODS else "other"
        _child(HTTP_REQUEST_DURATION, self.service, method, route).observe(elapsed)
        _child(HTTP_REQUESTS, self.service, method, route, str(response.status_code)).inc()
        return response


def order_counted(*, status: str) -> None:
    """An order reached ``status`` (call it once the change committed)."""
    if ENABLED:
        _child(ORDERS, status).inc()


def order_settled(*, outcome: str, seconds: float) -> None:
    """The saga of an order ended in ``outcome`` (confirmed, rejected) ``seconds`` after its acceptance."""
    if ENABLED:
        _child(ORDER_SAGA_DURATION, outcome).observe(max(seconds, 0.0))


def message_published(*, message: str) -> None:
    if ENABLED:
        _child(MESSAGES_PUBLISHED, _service(), message).inc()


def message_consumed(*, message: str, outcome: str) -> None:
    """One delivery of ``message`` handled with ``outcome``: one of ``CONSUMED_OUTCOMES``."""
    if ENABLED:
        _child(MESSAGES_CONSUMED, _service(), message, outcome).inc()


def throttled(*, scope: str, service: str | None = None) -> None:
    """A request was refused for its rate by the throttle of ``scope`` (for the throttles to call)."""
    if ENABLED:
        _child(THROTTLED, service or _service(), scope).inc()


# ---------------------------------------------------------------- the gauges


def messaging_reading() -> dict[str, float]:
    """Outbox backlog, oldest unsent age, parked dead letters and queue depth of this service, read now."""
    from celery import current_app
    from django.conf import settings
    from django.db.models import Count, Min
    from django.utils import timezone

    from common.messaging.models import DeadLetter, OutboxMessage

    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = unsent["oldest"]
    reading = {
        "shop_outbox_backlog": float(unsent["count"]),
        "shop_outbox_oldest_age_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
        "shop_dead_letters": float(DeadLetter.objects.filter(state=DeadLetter.State.PARKED).count()),
    }
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with current_app.connection_for_read(
        transport_options={"socket_timeout": 1, "socket_connect_timeout": 1}
    ) as connection:
        channel: Any = connection.default_channel  # the Redis transport's Channel (its stub is the generic one)
        # kombu's Redis transport keeps a queue as one list per priority step; a message waits in one of them.
        keys = {channel._q_for_pri(queue, priority) for priority in channel.priority_steps}
        with channel.client.pipeline() as pipeline:
            for key in keys:
                pipeline.llen(key)
            reading["shop_queue_depth"] = float(sum(pipeline.execute()))
    return reading


class MessagingGauges(Collector):
    """The messaging gauges of the service, from a reading shared through the cache for ``GAUGE_READ_SECONDS``.

    A reading that fails (database or Redis down) leaves the gauges out of this scrape rather than failing it:
    the alerts on a stuck outbox then wait, and the health of the service is the readiness probe's to tell.
    """

    CACHE_KEY = "telemetry:messaging-gauges"

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings
        from django.core.cache import cache

        try:
            reading = cache.get(self.CACHE_KEY)
            if reading is None:
                reading = messaging_reading()
                cache.set(self.CACHE_KEY, reading, GAUGE_READ_SECONDS)
        except Exception:  # noqa: BLE001 - a scrape never fails on a dependency; logged, and the gauges skipped
            logger.warning("metrics: the messaging gauges could not be read", exc_info=True)
            return
        labels = {"service": settings.SERVICE_NAME, "queue": settings.CELERY_TASK_DEFAULT_QUEUE}
        for name, (documentation, label) in GAUGES.items():
            family = GaugeMetricFamily(name, documentation, labels=[label])
            family.add_metric([labels[label]], reading[name])
            yield family


# ---------------------------------------------------------------- exposition


_gauges = CollectorRegistry()
_gauges.register(MessagingGauges())


def exposition() -> bytes:
    """The service's metrics in Prometheus' text format: every worker process's, added up, and the gauges."""
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry) + generate_latest(_gauges)


CONTENT_TYPE = CONTENT_TYPE_LATEST

_serving = threading.Lock()
_served: list[str] = []


def serve_from_environment(**signal_arguments: object) -> None:
    """A worker's or the scheduler's own metrics, served on ``SHOP_METRICS_ADDRESS`` (``host:port``), if set.

    Connected to Celery's ``worker_init`` and ``beat_init``: the process's registry, in a thread of its own.
    """
    address = os.environ.get("SHOP_METRICS_ADDRESS", "")
    if not (ENABLED and address):
        return
    host, _, port = address.rpartition(":")
    from prometheus_client import start_http_server

    with _serving:
        if address in _served:
            return
        start_http_server(int(port), addr=host or "127.0.0.1")
        _served.append(address)
    logger.info("metrics served on http://%s/metrics", address)
