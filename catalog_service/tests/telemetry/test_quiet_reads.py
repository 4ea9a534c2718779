"""Public catalogue reads start no trace of their own; within a sampled trace they are traced."""

from django.conf import settings
from django.urls import resolve
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from common.telemetry import tracing

PUBLIC_READS = ["/api/v1/products/", "/api/v1/products/7/", "/api/v1/categories/", "/api/v1/categories/shoes/"]


def test_the_quiet_roots_are_the_public_reads_by_the_names_their_spans_get():
    # the Django instrumentation names a request's span "<method> <route>"
    assert {f"GET {resolve(path).route}" for path in PUBLIC_READS} == set(settings.TELEMETRY_QUIET_ROOTS)


def test_a_public_read_alone_is_not_traced_but_one_within_a_trace_is():
    sampler = tracing.QuietSampler(ratio=1.0, quiet_roots=frozenset(settings.TELEMETRY_QUIET_ROOTS))
    tracer = TracerProvider(sampler=sampler).get_tracer("test")

    alone = tracer.start_span("GET api/v1/products/", kind=SpanKind.SERVER)
    write = tracer.start_span("POST api/v1/products/", kind=SpanKind.SERVER)
    parent = TracerProvider().get_tracer("caller").start_span("checkout", kind=SpanKind.SERVER)
    within = tracer.start_span("GET api/v1/products/", kind=SpanKind.SERVER, context=trace.set_span_in_context(parent))

    assert not alone.is_recording()
    assert write.is_recording()
    assert within.is_recording()
