"""The one error format of every service: ``{type, errors: [{code, detail, attr}]}``, and the one error services raise.

Services refuse what they are asked with an ``ApplicationError`` (a code, a
message and optional per-field messages), never a DRF exception, and never
see the request. ``ApplicationErrorHandler``, the exception handler of every
service, turns it into the common shape, as drf-standardized-errors does for
DRF's own exceptions (validation, authentication, permissions, not found).
Errors raised outside DRF (an unknown URL, a server error, Django's debug
pages) are turned into the same shape by ``JsonErrorMiddleware``, so no client
ever sees an HTML error page. The admin keeps its HTML pages: operators use it
in a browser.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError, ProgrammingError
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.types import ExceptionHandlerContext
from rest_framework import exceptions
from rest_framework.fields import get_error_detail


class ApplicationError(Exception):
    """A service refusing what it was asked: ``code``, ``message`` and, for bad input, ``fields``.

    ``fields`` maps a field name to its messages; the answer is then a
    validation error naming each field (``attr``), one error per message.
    Subclasses say what kind of refusal it is (``status``, the HTTP status
    the handler answers with) and give a default code and message.
    """

    status: int = HTTPStatus.BAD_REQUEST
    default_code: str = "invalid"
    default_message: str = "Invalid input."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}
        super().__init__(self.message)


class AuthenticationError(ApplicationError):
    """Credentials or a token refused (401)."""

    status = HTTPStatus.UNAUTHORIZED
    default_code = "authentication_failed"
    default_message = "Incorrect authentication credentials."


class PermissionDeniedError(ApplicationError):
    """The caller may not do this (403), e.g. staff changing a superuser's account."""

    status = HTTPStatus.FORBIDDEN
    default_code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class ConflictError(ApplicationError):
    """Refused in the current state of the thing (409), e.g. a category still in use, an order past cancelling."""

    status = HTTPStatus.CONFLICT
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class RateLimitError(ApplicationError):
    """Too many attempts: try again in ``retry_after`` seconds (429 with ``Retry-After``)."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    default_code = "throttled"
    default_message = "Request was throttled."

    def __init__(self, message: str | None = None, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


def _as_drf_exception(error: ApplicationError, context: ExceptionHandlerContext) -> exceptions.APIException:
    """The DRF exception a view would have raised for ``error``: same status, codes, details and headers."""
    if error.fields:
        return exceptions.ValidationError(
            {
                name: [exceptions.ErrorDetail(message, error.code) for message in messages]
                for name, messages in error.fields.items()
            }
        )
    if isinstance(error, RateLimitError):
        # DRF adds "Expected available in N seconds." to the detail and Retry-After (N, rounded up).
        return exceptions.Throttled(wait=error.retry_after, detail=error.message, code=error.code)
    if error.status == HTTPStatus.UNAUTHORIZED:
        refused = exceptions.AuthenticationFailed(error.message, error.code)
        # As APIView.handle_exception does for the DRF exception: name the scheme, or answer 403 without one.
        view, request = context.get("view"), context.get("request")
        auth_header = view.get_authenticate_header(request) if view is not None and request is not None else None
        if auth_header:
            refused.auth_header = auth_header  # type: ignore[attr-defined]  # read by the handler, as in DRF
        else:
            refused.status_code = HTTPStatus.FORBIDDEN
        return refused
    other = exceptions.APIException(error.message, error.code)
    other.status_code = error.status
    return other


_disallowed_host_logger = logging.getLogger("django.security.DisallowedHost")

DEPENDENCY_RETRY_AFTER_SECONDS = 5


class DependencyUnavailable(exceptions.APIException):
    """The database (or another server this one needs) did not answer: 503 with ``Retry-After``, never a 500."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "A server this service depends on is unavailable; try again shortly."
    wait = DEPENDENCY_RETRY_AFTER_SECONDS  # drf-standardized-errors answers it as Retry-After


class _RequestTooLarge(exceptions.APIException):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class ApplicationErrorHandler(ExceptionHandler):
    """drf-standardized-errors' handler, knowing ``ApplicationError`` too.

    Every service's ``DRF_STANDARDIZED_ERRORS["EXCEPTION_HANDLER_CLASS"]``; DRF's
    ``EXCEPTION_HANDLER`` stays drf-standardized-errors' function, which runs this
    class (and which its OpenAPI schema looks for to document the error responses).
    """

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError):
            return _as_drf_exception(exc, self.context)
        if isinstance(exc, DatabaseError) and not isinstance(exc, (IntegrityError, DataError, ProgrammingError)):
            # Connection refused, dropped or timed out: the database is down or unreachable, not the request
            # wrong. Why goes to the log (drf-standardized-errors reports every 5xx with its traceback); the
            # client learns only when to try again.
            return DependencyUnavailable()
        if isinstance(exc, RequestDataTooBig):
            # A body without Content-Length (chunked) found too large while it was read.
            return _RequestTooLarge()
        if isinstance(exc, DjangoValidationError):
            # A model's own validation (full_clean, a unique field), keyed by field: a validation error.
            return exceptions.ValidationError(detail=get_error_detail(exc))
        return super().convert_known_exceptions(exc)


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "error",
    503: "service_unavailable",
}


def error_response(*, status: int, detail: str, code: str | None = None, attr: str | None = None) -> JsonResponse:
    """A response in the common error shape."""
    error_type = "server_error" if status >= 500 else "client_error"
    body = {
        "type": error_type,
        "errors": [{"code": code or _CODES.get(status, "error"), "detail": detail, "attr": attr}],
    }
    return JsonResponse(body, status=status)


class JsonErrorMiddleware:
    """Turn any HTML error response outside the admin into the common JSON error shape.

    A ``Host`` header outside ``ALLOWED_HOSTS`` is answered here, before anything else reads it: a 400
    in the common shape, on every path, the admin's included (whoever sends it is not an operator on
    this service's admin), whatever ``DEBUG`` says (Django's own answer is its HTML debug page then).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.html_prefixes = (f"/{settings.ADMIN_URL_PREFIX}",)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost as refused:
            _disallowed_host_logger.warning("%s", refused)  # Django's logger for it, so its filters apply
            return error_response(
                status=400, code="disallowed_host", detail="The Host header names a host this service does not serve."
            )
        response = self.get_response(request)
        if response.status_code < 400 or request.path.startswith(self.html_prefixes):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        return error_response(status=status, detail=HTTPStatus(status).phrase + ".")


class RequestBodyLimitMiddleware:
    """A request whose declared body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 in the common shape, at once.

    Django would only notice when a view reads the body, and answer with an error of its own (a 500 from
    DRF's parsers); here nothing of the body is read. A body without Content-Length is checked as it is
    read (``ApplicationErrorHandler``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > self.limit:
            return error_response(status=413, detail=f"The request body is larger than {self.limit} bytes.")
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(status=400, detail="Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(status=403, detail="You do not have permission to perform this action.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(status=404, detail="Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(status=500, detail="A server error occurred.")
