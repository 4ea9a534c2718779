"""OpenAPI pieces shared by every service's schema (drf-spectacular with drf-standardized-errors)."""

import re
from typing import TYPE_CHECKING, Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers
from rest_framework.request import Request

from common.auth.permissions import anonymous_may_call
from common.throttling.throttles import throttled_method

if TYPE_CHECKING:  # at run time, drf_spectacular.generators loads DRF's settings
    from drf_spectacular.generators import SchemaGenerator


class AutoSchema(StandardizedErrorsAutoSchema):
    """Every service's schema class: drf-standardized-errors' errors, and the truth about optional credentials.

    An operation that an anonymous caller may call (``anonymous_may_call``: a public read of the
    catalogue, say) lists ``{}`` (no credentials) beside the bearer token in its ``security``; drf-spectacular
    knows only ``AllowAny`` and ``IsAuthenticatedOrReadOnly``. A paginated list documents the 400 that a bad
    ``page`` or ``page_size`` gets. A 429 is documented only where a throttle can answer one: ``ScopedThrottle``
    is every view's throttle class, so drf-standardized-errors would list one on every operation; only the
    operations of a view with a ``throttle_scope``, in its ``throttle_methods``, can be throttled.
    """

    def _should_add_http429_error_response(self) -> bool:
        return throttled_method(self.view, self.method)

    def get_auth(self) -> list[dict[str, list[str]]]:
        auths = super().get_auth()
        if {} not in auths and anonymous_may_call(type(self.view), self.method):
            auths.append({})
        return auths

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        # Every paginated list refuses a bad page or page size in the common shape (common.pagination).
        extra: dict[str, set[str]] = super()._get_extra_validation_errors()
        paginated = self._get_paginator() is not None  # type: ignore[no-untyped-call]
        if self.method == "GET" and self._is_list_view() and paginated:
            extra.setdefault("page", set()).add("invalid")
            extra.setdefault("page_size", set()).add("invalid")
        return extra


_IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the page the client holds: 304 without a body if it is still current.",
)
_NOT_MODIFIED = OpenApiResponse(description="Not modified: the page named in If-None-Match is current.")


def revalidated(ok: Any) -> dict[str, Any]:
    """``extend_schema`` arguments of a GET that sends a strong ``ETag`` and answers a matching
    ``If-None-Match`` with a 304 (``common.cache.serve_versioned_page``); ``ok`` is the 200's body."""
    return {"parameters": [_IF_NONE_MATCH], "responses": {200: ok, 304: _NOT_MODIFIED}}


class ClientErrorSerializer(serializers.Serializer[dict[str, object]]):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ClientErrorResponseSerializer(serializers.Serializer[dict[str, object]]):
    """A 4xx that drf-standardized-errors does not document itself (409, 422): the common error shape."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    # The error shape's field, which shadows Serializer.errors: this serializer only documents; it never validates.
    errors = ClientErrorSerializer(many=True)  # type: ignore[assignment]


def list_index_attr_patterns(
    result: dict[str, Any], generator: "SchemaGenerator", request: Request | None, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: make ``attr`` enums of list items match the real index.

    drf-standardized-errors documents the error of an item in a list as
    ``items.INDEX.product_id``, while a response names the item:
    ``items.0.product_id``. Such enums become patterns (``^items\\.\\d+\\.product_id$``),
    so a schema-checking client accepts the real responses.
    """
    placeholder = package_settings.LIST_INDEX_IN_API_SCHEMA
    for schema in result.get("components", {}).get("schemas", {}).values():
        values = schema.get("enum")
        if not values or not any(isinstance(value, str) and placeholder in value.split(".") for value in values):
            continue
        alternatives = [
            r"\.".join(r"\d+" if part == placeholder else re.escape(part) for part in value.split("."))
            for value in values
            if isinstance(value, str)
        ]
        del schema["enum"]
        schema["pattern"] = "^(" + "|".join(alternatives) + ")$"
    return result
