"""OpenTelemetry traces: one order is one trace across the three services, through the outbox.

``install(service=...)`` runs once per process (``common.telemetry.apps``): a tracer provider with a
parent-based sampler (ratio ``OTEL_TRACES_SAMPLER_ARG``, default 1), a batch span processor, and the
instrumentations of Django, Celery, psycopg2, Redis and requests. ``SHOP_TELEMETRY=off`` leaves all of it out
(logs stay JSON). Spans go by OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when it is set, else as JSON lines
to ``SHOP_TELEMETRY_TRACES_FILE`` (default ``.var/telemetry/traces.jsonl``; several processes append to it),
which ``./manage_all.sh trace`` reads.

How a trace crosses the outbox: ``outbox.enqueue`` stores the current span's context (a W3C ``traceparent``,
``current_trace_context``) with the row when it is written; whoever publishes the row (the request after
commit, the relay after a broker outage, an operator) publishes it under that context (``restored``), and
Celery's instrumentation carries it as a message header to the consumer, whose task span is its child. A dead
letter keeps the failing delivery's context; its replay starts a new trace linked to it (``linked_span``).

What is not traced: the broker's Redis commands (only the cache's client is instrumented, so kombu's BRPOP
polling makes no span), spans with no parent that are client calls (a migration's queries) and the periodic
tasks' own runs (the relay's and re-drive's ticks) are not sampled, so
the idle system writes no spans; what they publish is traced under the context stored with the row.

Exporting never fails or slows a request: spans leave in a background thread; an export that fails (the
collector down, the disk full) drops its spans, counted in ``dropped_spans()`` and logged at most once a
minute.
"""

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, format_span_id, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from common import telemetry

logger = logging.getLogger(__name__)

TRACES_FILE_VARIABLE = "SHOP_TELEMETRY_TRACES_FILE"
DEFAULT_TRACES_FILE = Path(__file__).resolve().parents[3] / ".var" / "telemetry" / "traces.jsonl"
# /health/ is polled by supervisors and load balancers, /metrics by Prometheus: neither is worth a trace.
EXCLUDED_URLS = "health/,metrics"

_propagator = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("common.telemetry")
_installed = False


# ---------------------------------------------------------------- the context stored with a row


def current_trace_context() -> str:
    """The current span's context as a W3C ``traceparent`` (55 characters), or "" outside any span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return ""
    trace_id, span_id = format_trace_id(span_context.trace_id), format_span_id(span_context.span_id)
    return f"00-{trace_id}-{span_id}-{span_context.trace_flags:02x}"


def _span_context(traceparent: str) -> trace.SpanContext | None:
    if not traceparent:
        return None
    span_context = trace.get_current_span(_propagator.extract({"traceparent": traceparent})).get_span_context()
    return span_context if span_context.is_valid else None


@contextmanager
def untraced() -> Iterator[None]:
    """Run the block without spans of the instrumentations (OpenTelemetry's ``suppress_instrumentation``): for
    bookkeeping that runs once per message and tells an operator nothing a trace shows already."""
    with suppress_instrumentation():
        yield


@contextmanager
def restored(traceparent: str) -> Iterator[None]:
    """Run the block as a child of the stored ``traceparent`` (a malformed or empty one changes nothing)."""
    if not traceparent:
        yield
        return
    token = otel_context.attach(_propagator.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def continued_span(name: str, *, traceparent: str, attributes: Attributes = None) -> Iterator[None]:
    """A span in the trace of ``traceparent`` (an order's), linked to the current one (the request doing it).

    Without a stored context it is simply a child of the current span.
    """
    parent = _span_context(traceparent)
    current = trace.get_current_span().get_span_context()
    if parent is None or parent.trace_id == current.trace_id:
        with _tracer.start_as_current_span(name, attributes=attributes):
            yield
        return
    links = [Link(current)] if current.is_valid else []
    with _tracer.start_as_current_span(
        name, context=trace.set_span_in_context(trace.NonRecordingSpan(parent)), links=links, attributes=attributes
    ):
        yield


@contextmanager
def linked_span(name: str, *, traceparent: str, attributes: Attributes = None) -> Iterator[None]:
    """A span starting a new trace, linked to the stored ``traceparent`` (a dead letter's replay)."""
    original = _span_context(traceparent)
    with _tracer.start_as_current_span(
        name,
        context=otel_context.Context(),
        kind=SpanKind.PRODUCER,
        links=[Link(original)] if original else [],
        attributes=attributes,
    ):
        yield


def set_attributes(**attributes: str) -> None:
    """Set attributes (``order_id``, ``message_id``) on the current span, if it records."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)


# ---------------------------------------------------------------- sampling


class QuietSampler(Sampler):
    """Parent-based with a ratio, but never a root span for a client call or a periodic task's tick.

    A root CLIENT span is a Redis or SQL command outside any request or task: kombu's BRPOP polling, its
    acknowledgements, a migration. A periodic task's run (``run/<queue>.relay_outbox``) fires every second
    or two whether or not there is work. Neither is worth a trace of its own; whatever they publish is traced
    in the order's trace, under the context stored with the outbox row.
    """

    def __init__(self, *, ratio: float, quiet_roots: frozenset[str] = frozenset()):
        self._delegate = ParentBased(TraceIdRatioBased(ratio))
        self._quiet_roots = quiet_roots

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        is_root = not trace.get_current_span(parent_context).get_span_context().is_valid
        if is_root and (kind == SpanKind.CLIENT or name in self._quiet_roots):
            return SamplingResult(Decision.DROP)
        return self._delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"QuietSampler(ParentBased(TraceIdRatioBased)), quiet roots: {sorted(self._quiet_roots)}"


def sampler_ratio() -> float:
    try:
        ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1"))
    except ValueError:
        return 1.0
    return min(max(ratio, 0.0), 1.0)


# ---------------------------------------------------------------- export


def span_as_json(span: ReadableSpan) -> dict[str, Any]:
    """One line of ``traces.jsonl``: what ``./manage_all.sh trace`` shows, and the ids to join spans by."""
    context = span.context
    start, end = span.start_time or 0, span.end_time or 0
    return {
        "trace_id": format_trace_id(context.trace_id) if context else "",
        "span_id": format_span_id(context.span_id) if context else "",
        "parent_id": format_span_id(span.parent.span_id) if span.parent else "",
        "name": span.name,
        "service": span.resource.attributes.get("service.name", ""),
        "kind": span.kind.name,
        "start_ns": start,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {"trace_id": format_trace_id(link.context.trace_id), "span_id": format_span_id(link.context.span_id)}
            for link in span.links
        ],
    }


class JsonLinesSpanExporter(SpanExporter):
    """Spans as JSON lines appended to one file: each batch in one ``write`` of an ``O_APPEND`` file, so the
    lines of several processes never interleave."""

    def __init__(self, path: Path):
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        text = "".join(json.dumps(span_as_json(span), default=str) + "\n" for span in spans)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, text.encode())
        finally:
            os.close(descriptor)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class CountingExporter(SpanExporter):
    """Drops (and counts) what the exporter it wraps could not export; never raises."""

    LOG_INTERVAL_SECONDS = 60.0

    def __init__(self, exporter: SpanExporter):
        self._exporter = exporter
        self._lock = threading.Lock()
        self.dropped = 0
        self._logged_at = float("-inf")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._exporter.export(spans)
            error = "" if result is SpanExportResult.SUCCESS else "the exporter reported a failure"
        except Exception as failure:  # noqa: BLE001 - an export error must never reach the application
            result, error = SpanExportResult.FAILURE, f"{type(failure).__name__}: {failure}"
        if error:
            with self._lock:
                self.dropped += len(spans)
                dropped, log_now = self.dropped, time.monotonic() - self._logged_at >= self.LOG_INTERVAL_SECONDS
                if log_now:
                    self._logged_at = time.monotonic()
            if log_now:
                logger.warning("traces: %d spans dropped so far, export failed: %s", dropped, error)
        return result

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


_exporter: CountingExporter | None = None


def dropped_spans() -> int:
    """Spans this process could not export (0 when traces are off)."""
    return _exporter.dropped if _exporter else 0


def traces_file() -> Path:
    return Path(os.environ.get(TRACES_FILE_VARIABLE) or DEFAULT_TRACES_FILE)


def _span_exporter() -> SpanExporter:
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(timeout=5)
    return JsonLinesSpanExporter(traces_file())


# ---------------------------------------------------------------- installation


def install(*, service: str, quiet_roots: frozenset[str] = frozenset()) -> bool:
    """Trace this process (once); False when telemetry is off. ``quiet_roots``: span names never a trace root."""
    global _installed, _exporter
    if _installed or not telemetry.enabled():
        return False
    _installed = True
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=QuietSampler(ratio=sampler_ratio(), quiet_roots=quiet_roots),
    )
    _exporter = CountingExporter(_span_exporter())
    # A full queue drops spans rather than block; a batch leaves every second.
    provider.add_span_processor(
        BatchSpanProcessor(_exporter, max_queue_size=8192, schedule_delay_millis=1000, max_export_batch_size=512)
    )
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    quiet_django_requests(quiet_roots)
    describe_any_path()
    Psycopg2Instrumentor().instrument(skip_dep_check=True)
    RequestsInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]
    return True


def quiet_django_requests(quiet_roots: frozenset[str]) -> None:
    """The Django instrumentation's middleware, in ``MIDDLEWARE``, replaced by one that lets a request whose span
    the sampler would drop go by untouched (``common.telemetry.quiet_requests``)."""
    from django.conf import settings

    from common.telemetry.quiet_requests import INSTRUMENTATION_MIDDLEWARE, QuietRequestsMiddleware

    middleware = list(settings.MIDDLEWARE)
    if INSTRUMENTATION_MIDDLEWARE in middleware:
        QuietRequestsMiddleware.quiet_roots = quiet_roots
        middleware[middleware.index(INSTRUMENTATION_MIDDLEWARE)] = (
            f"{QuietRequestsMiddleware.__module__}.{QuietRequestsMiddleware.__qualname__}"
        )
        settings.MIDDLEWARE = middleware


def describe_any_path() -> None:
    """Let the Django instrumentation describe a request whose path is not Latin-1.

    It builds ``http.url`` from ``request.META`` with ``wsgiref.util.request_uri``, which quotes ``PATH_INFO`` as
    WSGI's Latin-1 byte string; Django's ``META`` holds the decoded path, so a path such as ``/api/v1/orders/𝈕/``
    raised ``UnicodeEncodeError`` before the view ran: a 500 where the answer is a 404. The path is given back in
    WSGI's form (its UTF-8 bytes as Latin-1) for that description only.
    """
    from opentelemetry.instrumentation.django.middleware import otel_middleware

    describe = otel_middleware.wsgi_collect_request_attributes
    if getattr(describe, "describes_any_path", False):
        return

    def describe_any_path(environ: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.isascii():
            environ = {**environ, "PATH_INFO": path.encode("utf-8", "replace").decode("latin-1")}
        return describe(environ, *args, **kwargs)

    describe_any_path.describes_any_path = True  # type: ignore[attr-defined]
    otel_middleware.wsgi_collect_request_attributes = describe_any_path


def instrument_redis_client(client: Any) -> None:
    """Trace the commands of this Redis client (the cache's), when traces are on.

    Only the cache's clients are instrumented, never the broker's: kombu polls Redis with BRPOP every second
    and wraps each publish in a few commands of its own; Celery's instrumentation traces the publish and the
    task, which is what a reader of a trace needs.
    """
    if _installed:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor.instrument_client(client)
