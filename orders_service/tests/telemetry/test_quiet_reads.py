"""A customer's order list read starts no trace of its own; placing an order, and a read within a trace, do."""

from django.conf import settings
from django.urls import resolve
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from common.telemetry import tracing


def test_the_quiet_root_is_the_order_list_by_the_name_its_span_gets():
    # the Django instrumentation names a request's span "<method> <route>"
    assert [f"GET {resolve('/api/v1/orders/').route}"] == settings.TELEMETRY_QUIET_ROOTS


def test_an_order_list_read_alone_is_not_traced_but_placing_an_order_and_a_read_within_a_trace_are():
    sampler = tracing.QuietSampler(ratio=1.0, quiet_roots=frozenset(settings.TELEMETRY_QUIET_ROOTS))
    tracer = TracerProvider(sampler=sampler).get_tracer("test")

    alone = tracer.start_span("GET api/v1/orders/", kind=SpanKind.SERVER)
    place = tracer.start_span("POST api/v1/orders/", kind=SpanKind.SERVER)
    detail = tracer.start_span("GET api/v1/orders/<uuid:order_id>/", kind=SpanKind.SERVER)
    parent = TracerProvider().get_tracer("caller").start_span("my orders", kind=SpanKind.SERVER)
    within = tracer.start_span("GET api/v1/orders/", kind=SpanKind.SERVER, context=trace.set_span_in_context(parent))

    assert not alone.is_recording()
    assert place.is_recording()
    assert detail.is_recording()
    assert within.is_recording()
