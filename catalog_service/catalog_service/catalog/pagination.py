"""Pagination of catalogue lists: ``{count, next, previous, results}``.

Unlike the shared default, which silently clamps, a ``page_size`` above 100 (or a page or page size that is
not a positive integer) is a 400 naming the parameter: a client asking for a million rows learns at once
that it gets at most 100. A page past the last one is a 404, as in DRF.
"""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from common.pagination import PageNumberPagination

_Model = TypeVar("_Model", bound=Model)
_Row = TypeVar("_Row")


def _positive_integer(raw: str, *, name: str, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f"between 1 and {maximum}" if maximum is not None else "at least 1"
        raise ValidationError({name: [f"Must be a whole number {limit}."]}, code="invalid")
    return value


class CatalogPagination(PageNumberPagination):
    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _positive_integer(raw, name=self.page_size_query_param, maximum=self.max_page_size)

    def paginate_queryset(
        self, queryset: QuerySet[_Model, _Row], request: Request, view: APIView | None = None
    ) -> list[_Row] | None:
        raw_page = request.query_params.get(self.page_query_param)
        if raw_page is not None and raw_page not in self.last_page_strings:
            _positive_integer(raw_page, name=self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
