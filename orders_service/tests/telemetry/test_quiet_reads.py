"""A customer's order list read starts no trace of its own; placing an order, and a read within a trace, do."""

from django.conf import settings
from django.urls import resolve

from common_testing.telemetry import request_span_recorded


def test_the_quiet_root_is_the_order_list_by_the_name_its_span_gets():
    # the Django instrumentation names a request's span "<method> <route>"
    assert [f"GET {resolve('/api/v1/orders/').route}"] == settings.TELEMETRY_QUIET_ROOTS


def test_an_order_list_read_alone_is_not_traced_but_placing_an_order_and_a_read_within_a_trace_are():
    assert not request_span_recorded("GET api/v1/orders/")
    assert request_span_recorded("POST api/v1/orders/")
    assert request_span_recorded("GET api/v1/orders/<uuid:order_id>/")
    assert request_span_recorded("GET api/v1/orders/", within_a_trace=True)
