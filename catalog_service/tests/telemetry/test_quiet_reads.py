"""Public catalogue reads start no trace of their own; within a sampled trace they are traced."""

from django.conf import settings
from django.urls import resolve

from common_testing.telemetry import request_span_recorded

PUBLIC_READS = ["/api/v1/products/", "/api/v1/products/7/", "/api/v1/categories/", "/api/v1/categories/shoes/"]


def test_the_quiet_roots_are_the_public_reads_by_the_names_their_spans_get():
    # the Django instrumentation names a request's span "<method> <route>"
    assert {f"GET {resolve(path).route}" for path in PUBLIC_READS} == set(settings.TELEMETRY_QUIET_ROOTS)


def test_a_public_read_alone_is_not_traced_but_a_write_and_one_within_a_trace_are():
    assert not request_span_recorded("GET api/v1/products/")
    assert request_span_recorded("POST api/v1/products/")
    assert request_span_recorded("GET api/v1/products/", within_a_trace=True)
