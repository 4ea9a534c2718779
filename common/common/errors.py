"""The one error format of every service: ``{type, errors: [{code, detail, attr}]}``.

DRF errors get it from drf-standardized-errors. Errors raised outside DRF (an
unknown URL, a server error, Django's debug pages) are turned into the same
shape by ``JsonErrorMiddleware``, so no client ever sees an HTML error page.
The admin keeps its HTML pages: operators use it in a browser.
"""

from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
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
    """Turn any HTML error response outside the admin into the common JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.html_prefixes = (f"/{settings.ADMIN_URL_PREFIX}",)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or request.path.startswith(self.html_prefixes):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        return error_response(status=status, detail=HTTPStatus(status).phrase + ".")


def bad_request(request, exception=None):
    return error_response(status=400, detail="Bad request.")


def permission_denied(request, exception=None):
    return error_response(status=403, detail="You do not have permission to perform this action.")


def page_not_found(request, exception=None):
    return error_response(status=404, detail="Not found.")


def server_error(request):
    return error_response(status=500, detail="A server error occurred.")
