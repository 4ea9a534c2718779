"""common.telemetry's tests, run in every service (``common_testing.infrastructure``): the request id, the JSON
log lines, the trace context stored with an outbox row, sampling and export that never fails a request."""

import io
import json
import logging
import re

import pytest
from django.db import transaction
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from common.messaging import outbox
from common.messaging.models import OutboxMessage
from common.telemetry import logs, request_id, tracing

__all__ = [
    "test_a_failing_span_export_is_dropped_and_counted_never_raised",
    "test_a_log_line_is_one_json_object_with_the_contract_fields",
    "test_a_safe_request_id_is_kept_and_returned",
    "test_an_outbox_row_stores_the_trace_context_and_request_id_of_when_it_was_written",
    "test_an_unsafe_request_id_is_replaced_and_never_reflected",
    "test_spans_go_to_the_traces_file_as_json_lines",
    "test_the_sampler_makes_no_trace_of_broker_polling_or_periodic_ticks",
]

SAFE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


@pytest.mark.parametrize("value", ["7f3c2a9e-4b1d-4e8a-9c6f-2d5b8a1e3f70", "gw-1.2_3:x", "a" * 64])
def test_a_safe_request_id_is_kept_and_returned(client, value):
    response = client.get("/health/live/", HTTP_X_REQUEST_ID=value)

    assert response.status_code == 200
    assert response["X-Request-ID"] == value


@pytest.mark.parametrize(
    "value", ["a" * 65, "", "two words", 'quote"and}brace', "new\nline", "<script>", "é", "%0d%0aSet-Cookie:x=1"]
)
def test_an_unsafe_request_id_is_replaced_and_never_reflected(client, value):
    response = client.get("/health/live/", HTTP_X_REQUEST_ID=value)

    assert response.status_code == 200
    assert response["X-Request-ID"] != value
    assert SAFE.fullmatch(response["X-Request-ID"])
    assert request_id.valid_request_id(value) is None


@pytest.mark.parametrize("path", ["/api/v1/orders/%F0%9D%88%95/cancel/", "/api/v1/%C3%A9t%C3%A9/", "/%F3%B5%A0%8C/"])
def test_a_path_beyond_latin_1_is_answered_not_a_500(rf, path):
    # The Django instrumentation describes each request before its view runs; a path beyond Latin-1 made it
    # raise, a 500 (found by schemathesis against the running services).
    from opentelemetry.instrumentation.django.middleware import otel_middleware

    tracing.describe_any_path()
    request = rf.delete(path)

    attributes = otel_middleware.wsgi_collect_request_attributes(request.META)

    assert path in attributes.get("http.url", attributes.get("url.full", ""))


def test_a_log_line_is_one_json_object_with_the_contract_fields(tracer):
    # given
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter(service="test_service"))
    logger = logging.getLogger("common_testing.telemetry")
    logger.addHandler(handler)
    logger.propagate = False
    test_tracer, _ = tracer
    try:
        # when: a message with a newline and quotes, inside a span and a bound request, order and task
        with (
            test_tracer.start_as_current_span("work") as span,
            request_id.bound(request="req-42", order="order-7", message="message-9", task_name="catalog.x"),
        ):
            logger.warning('line one\nline "two"', extra={"status": 201})
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed")
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    # then: one JSON object a line, newlines and quotes escaped, the ids of the work in hand
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    first, failed, outside = (json.loads(line) for line in lines)
    context = span.get_span_context()
    assert first["msg"] == 'line one\nline "two"'
    assert first["ts"].endswith("+00:00")
    assert (first["level"], first["service"], first["logger"]) == ("WARNING", "test_service", logger.name)
    assert first["process"]
    assert (first["request_id"], first["order_id"], first["message_id"], first["task"]) == (
        "req-42",
        "order-7",
        "message-9",
        "catalog.x",
    )
    assert (first["trace_id"], first["span_id"]) == (format(context.trace_id, "032x"), format(context.span_id, "016x"))
    assert first["status"] == 201
    assert "ValueError: boom" in failed["exc_info"]
    assert outside["request_id"] == outside["trace_id"] == ""
    assert "order_id" not in outside


@pytest.mark.django_db  # the test's transaction never commits: the message is written, never published
def test_an_outbox_row_stores_the_trace_context_and_request_id_of_when_it_was_written(tracer):
    test_tracer, _ = tracer
    with test_tracer.start_as_current_span("request") as span, request_id.bound(request="req-outbox"):
        with transaction.atomic():
            message = outbox.enqueue("catalog.release_stock", {"order_id": "9402bf16-406a-41d5-86ac-f476ce31b3b9"})
        stored_context = tracing.current_trace_context()

    row = OutboxMessage.objects.get(id=message.id)
    assert TRACEPARENT.fullmatch(row.trace_context)
    assert row.trace_context == stored_context
    assert row.trace_context.split("-")[1] == format(span.get_span_context().trace_id, "032x")
    assert row.request_id == "req-outbox"
    assert span.attributes["order_id"] == "9402bf16-406a-41d5-86ac-f476ce31b3b9"


def test_the_sampler_makes_no_trace_of_broker_polling_or_periodic_ticks():
    sampler = tracing.QuietSampler(ratio=1.0, quiet_roots=frozenset({"run/catalog.relay_outbox"}))
    provider = TracerProvider(sampler=sampler)
    test_tracer = provider.get_tracer("test")

    polling = test_tracer.start_span("BRPOP", kind=SpanKind.CLIENT)
    tick = test_tracer.start_span("run/catalog.relay_outbox", kind=SpanKind.CONSUMER)
    request = test_tracer.start_span("GET api/v1/products/", kind=SpanKind.SERVER)
    with trace.use_span(request, end_on_exit=True):
        query = test_tracer.start_span("SELECT", kind=SpanKind.CLIENT)

    assert not polling.is_recording()
    assert not tick.is_recording()
    assert request.get_span_context().trace_flags.sampled
    assert query.is_recording()
    nothing = tracing.QuietSampler(ratio=0.0)
    assert not TracerProvider(sampler=nothing).get_tracer("test").start_span("GET", kind=SpanKind.SERVER).is_recording()


class _BrokenExporter(SpanExporter):
    def export(self, spans):
        raise OSError(28, "No space left on device")


def test_a_failing_span_export_is_dropped_and_counted_never_raised(caplog):
    exporter = tracing.CountingExporter(_BrokenExporter())
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    test_tracer = provider.get_tracer("test")

    with caplog.at_level(logging.WARNING, logger="common.telemetry.tracing"):
        for _ in range(3):
            with test_tracer.start_as_current_span("request"):
                pass

    assert exporter.dropped == 3
    assert len([r for r in caplog.records if "spans dropped" in r.getMessage()]) == 1  # at most once a minute
    assert exporter.export([]) is SpanExportResult.FAILURE


def test_spans_go_to_the_traces_file_as_json_lines(tmp_path):
    path = tmp_path / "telemetry" / "traces.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(tracing.JsonLinesSpanExporter(path)))
    test_tracer = provider.get_tracer("test")

    with test_tracer.start_as_current_span("parent", attributes={"order_id": "o-1"}) as parent:
        link = trace.Link(parent.get_span_context())
        with test_tracer.start_as_current_span("child", links=[link]):
            pass

    child, parent_line = (json.loads(line) for line in path.read_text().splitlines())
    assert (child["name"], parent_line["name"]) == ("child", "parent")
    assert child["trace_id"] == parent_line["trace_id"]
    assert child["parent_id"] == parent_line["span_id"]
    assert parent_line["attributes"] == {"order_id": "o-1"}
    assert child["links"] == [{"trace_id": parent_line["trace_id"], "span_id": parent_line["span_id"]}]
    assert child["status"] == "UNSET"
    assert child["duration_ms"] >= 0


def request_span_recorded(name: str, *, within_a_trace: bool = False) -> bool:
    """Whether this service's sampler (its ``TELEMETRY_QUIET_ROOTS``) records a request's span named ``name``,
    started alone or, ``within_a_trace``, as the child of a caller's sampled span."""
    from django.conf import settings

    sampler = tracing.QuietSampler(ratio=1.0, quiet_roots=frozenset(settings.TELEMETRY_QUIET_ROOTS))
    tracer = TracerProvider(sampler=sampler).get_tracer("test")
    context = None
    if within_a_trace:
        caller = TracerProvider().get_tracer("caller").start_span("caller", kind=SpanKind.SERVER)
        context = trace.set_span_in_context(caller)
    return tracer.start_span(name, kind=SpanKind.SERVER, context=context).is_recording()
