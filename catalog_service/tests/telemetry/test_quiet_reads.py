"""Public catalogue reads start no trace of their own; within a sampled trace they are traced."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import resolve

from common.telemetry.quiet_requests import QuietRequestsMiddleware
from common_testing.telemetry import request_span_recorded

PUBLIC_READS = ["/api/v1/products/", "/api/v1/products/7/", "/api/v1/categories/", "/api/v1/categories/shoes/"]


def test_the_quiet_roots_are_the_public_reads_by_the_names_their_spans_get():
    # the Django instrumentation names a request's span "<method> <route>"
    assert {f"GET {resolve(path).route}" for path in PUBLIC_READS} == set(settings.TELEMETRY_QUIET_ROOTS)


def test_a_public_read_alone_is_not_traced_but_a_write_and_one_within_a_trace_are():
    assert not request_span_recorded("GET api/v1/products/")
    assert request_span_recorded("POST api/v1/products/")
    assert request_span_recorded("GET api/v1/products/", within_a_trace=True)


def test_a_quiet_read_goes_straight_on_and_its_path_is_resolved_once(rf, monkeypatch):
    resolved: list[str] = []
    name_of = QuietRequestsMiddleware._get_span_name

    def counted(request):
        resolved.append(request.path)
        return name_of(request)

    monkeypatch.setattr(QuietRequestsMiddleware, "_get_span_name", staticmethod(counted))
    monkeypatch.setattr(QuietRequestsMiddleware, "quiet_roots", frozenset(settings.TELEMETRY_QUIET_ROOTS))
    answered: list[HttpRequest] = []
    middleware = QuietRequestsMiddleware(lambda request: answered.append(request) or HttpResponse())

    for _ in range(3):
        middleware(rf.get("/api/v1/products/"))

    assert len(answered) == 3
    assert resolved == ["/api/v1/products/"]
    assert not middleware.quiet(rf.get("/api/v1/products/", HTTP_TRACEPARENT=f"00-{'1' * 32}-{'2' * 16}-01"))
    assert not middleware.quiet(rf.post("/api/v1/products/"))
    assert middleware.quiet(rf.get("/api/v1/products/", data={"page": 2}))  # the same path: still quiet
    assert not middleware.quiet(rf.get("/health/ready/"))
    assert not middleware.quiet(rf.get("/health/ready/"))
    assert resolved == ["/api/v1/products/", "/health/ready/"]


def test_without_a_span_the_instrumentation_s_view_and_exception_hooks_do_not_look_at_the_request(rf, monkeypatch):
    request = rf.get("/api/v1/products/")

    def no_uri(*args, **kwargs):
        raise AssertionError("the request's absolute URI was built")

    monkeypatch.setattr(type(request), "build_absolute_uri", no_uri)
    middleware = QuietRequestsMiddleware(lambda request: HttpResponse())

    assert middleware.process_view(request, lambda request: None, (), {}) is None
    assert middleware.process_exception(request, ValueError("the view failed")) is None
