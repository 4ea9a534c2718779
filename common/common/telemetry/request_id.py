"""The request id, and what else a log line knows about the work in hand (order, message, task).

A request id comes from the caller's (or the gateway's) ``X-Request-ID`` when it is a safe one (1 to 64 of
``A-Z a-z 0-9 . _ : -``), else it is made anew; it is returned in the response, stored with every outbox row
the request writes, travels as a message header, and is restored by the consumer, so every message a handler
sends carries it on. ``grep <request id> .var/log/*`` finds an order's story in all three services.

The values live in context variables: a web worker thread and a Celery task each set and reset their own.
"""

import contextvars
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# The message header the relay sends it in (a Celery message header, beside ``traceparent``).
MESSAGE_HEADER = "x_request_id"
MAX_LENGTH = 64
_SAFE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
order_id: contextvars.ContextVar[str] = contextvars.ContextVar("order_id", default="")
message_id: contextvars.ContextVar[str] = contextvars.ContextVar("message_id", default="")
task: contextvars.ContextVar[str] = contextvars.ContextVar("task", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: object) -> str | None:
    """``value`` if it is a safe request id, else None (too long, empty, or any other character)."""
    if isinstance(value, str) and _SAFE.fullmatch(value):
        return value
    return None


def request_id_or_new(value: object) -> str:
    """The given request id if it is safe, else a new one: a bad one is replaced, never reflected."""
    return valid_request_id(value) or new_request_id()


@contextmanager
def bound(
    *, request: str | None = None, order: str | None = None, message: str | None = None, task_name: str | None = None
) -> Iterator[None]:
    """Set the given values for the duration of the block (what is None is left as it is)."""
    tokens = [
        (variable, variable.set(value))
        for variable, value in ((request_id, request), (order_id, order), (message_id, message), (task, task_name))
        if value is not None
    ]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class RequestIdMiddleware:
    """Take the request's id from ``X-Request-ID`` (or make one), bind it while the request runs, return it.

    It also writes the request's log line (logger ``common.request``: method, path, status, duration), which
    carries the request and trace ids that the web server's own access log cannot know.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from common.telemetry.logs import log_request

        value = request_id_or_new(request.META.get("HTTP_X_REQUEST_ID"))
        tokens = (request_id.set(value), order_id.set(""))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = value
            log_request(request, response, seconds=time.perf_counter() - started)
            return response
        finally:
            order_id.reset(tokens[1])
            request_id.reset(tokens[0])
