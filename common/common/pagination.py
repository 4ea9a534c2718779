"""Page-number pagination shared by every list: ``{count, next, previous, results}``, and one page-size rule.

The rule, on every list of every service: ``page_size`` is a whole number from 1 to 100 (20 when not
given), and ``page`` a whole number from 1 (or ``last``). Anything else is a 400 naming the parameter,
rather than DRF's silent clamping: a client asking for a million rows learns at once that it gets at
most 100. A page past the last one is a 404, as in DRF. The OpenAPI schema states the same bounds.
"""

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView


def _positive_integer(raw: str, *, name: str, maximum: int | None = None) -> int:
    value = int(raw) if raw.isascii() and raw.isdigit() else 0  # ASCII digits only: no sign, space or other script
    if value < 1 or (maximum is not None and value > maximum):
        limit = f"between 1 and {maximum}" if maximum is not None else "at least 1"
        raise ValidationError({name: [f"Must be a whole number {limit}."]}, code="invalid")
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _positive_integer(raw, name=self.page_size_query_param, maximum=self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> list[Any] | None:
        raw_page = request.query_params.get(self.page_query_param)
        if raw_page is not None and raw_page not in self.last_page_strings:
            _positive_integer(raw_page, name=self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
