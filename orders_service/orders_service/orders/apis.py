"""The orders API: place (with an Idempotency-Key), list, detail, cancel."""

import re
import uuid
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import bearer_user
from common.auth.permissions import ORDER_OPERATOR, has_role
from common.auth.tokens import TokenUser
from common.cache import answerable_before_dispatch
from common.messaging.contracts import MAX_LINES
from common.openapi import ClientErrorResponseSerializer, revalidated
from orders_service.orders import list_cache, selectors, services
from orders_service.orders.json_bodies import order_row_as_json, request_fingerprint
from orders_service.orders.models import Order, OrderLine

# An Idempotency-Key is 1 to 255 visible ASCII characters (letters, digits, punctuation; no spaces or controls),
# enough for a uuid or a key of the client's own making. Anything else is a 400 before any order is stored.
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"


class AuthenticatedRequest(Request):
    """The request of a view behind ``IsAuthenticated``: ``request.user`` is the token's ``TokenUser``."""

    # The stubs assume the user model; catalog's and orders' callers are common.auth's TokenUser (no user table).
    user: TokenUser  # type: ignore[assignment]


class OrderLineOutputSerializer(serializers.Serializer[OrderLine]):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class OrderOutputSerializer(serializers.Serializer[Order]):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    items = OrderLineOutputSerializer(source="line_items", many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_null=True)
    reject_reason = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderLineInputSerializer(serializers.Serializer[None]):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class OrderPlaceInputSerializer(serializers.Serializer[None]):
    # A ListField, so the schema states minItems and maxItems (a list serializer's bounds are not in it).
    items = serializers.ListField(child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES)

    def validate_items(self, items: list[dict[str, int]]) -> list[dict[str, int]]:
        product_ids = [item["product_id"] for item in items]
        if len(set(product_ids)) != len(product_ids):
            raise ValidationError("Each product may appear at most once in an order.")
        return items


@extend_validation_errors(["invalid_choice"], field_name="status", methods=["get"])
@extend_validation_errors(["required", "max_length", "invalid"], field_name="Idempotency-Key", methods=["post"])
@extend_validation_errors(["invalid"], field_name="items", methods=["post"])  # a product twice
@extend_validation_errors(["null"], field_name="items.INDEX", methods=["post"])  # a null line
class OrderPlaceApi(GenericAPIView[Order]):
    """``GET orders/``: the caller's orders (every order for an order operator). ``POST orders/``: place one."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "orders"  # per user, on placing orders only (common.throttling)
    throttle_methods = ("POST",)
    serializer_class = OrderOutputSerializer
    filter_backends: list[type[BaseFilterBackend]] = []  # the filter is the explicit ``status`` parameter

    class FilterSerializer(serializers.Serializer[None]):
        status = serializers.ChoiceField(choices=Order.Status.choices, required=False)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A customer's GET of their current cached list is answered before DRF's: the verified token names the
        list, orders are read unthrottled, and DRF would render the same JSON. Anything else goes through DRF."""
        if answerable_before_dispatch(request):
            user = bearer_user(request, self.authentication_classes)
            if user is not None and not has_role(user, ORDER_OPERATOR):
                cached = list_cache.cached_order_list_page(
                    request, user_id=user.id, allow=", ".join(self.allowed_methods)
                )
                if cached is not None:
                    return cached
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        operation_id="orders_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Order.Status.values),
            *revalidated(None)["parameters"],
        ],
        responses=revalidated(OrderOutputSerializer(many=True))["responses"],
    )
    def get(self, request: AuthenticatedRequest) -> HttpResponse:
        if has_role(request.user, ORDER_OPERATOR):
            return self._page(request)
        # A customer's own list: served from the per-user page cache, rebuilt after any change to their orders.
        return list_cache.serve_order_list_page(request, user_id=request.user.id, build=lambda: self._page(request))

    def _page(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.order_rows(user=request.user, status=filters.validated_data.get("status"))
        # Never None: DEFAULT_PAGINATION_CLASS is set for every view.
        page = cast(list[dict[str, Any]], self.paginate_queryset(rows))
        lines = selectors.order_lines_by_order(order_ids=[row["id"] for row in page])
        return self.get_paginated_response([order_row_as_json(row, lines[row["id"]]) for row in page])

    @extend_schema(
        operation_id="orders_place",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    "pattern": IDEMPOTENCY_KEY_PATTERN,
                },
                OpenApiParameter.HEADER,
                required=True,
                description="A key of your choice, unique per order: a repeat of the same request returns the "
                "first response; the same key with another body is a 422. 1 to 255 visible ASCII characters "
                "(letters, digits, punctuation; no spaces).",
            )
        ],
        request=OrderPlaceInputSerializer,
        responses={201: OrderOutputSerializer, 422: ClientErrorResponseSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise ValidationError({"Idempotency-Key": ["This header is required."]}, code="required")
        if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise ValidationError(
                {"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]}, code="max_length"
            )
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise ValidationError(
                {"Idempotency-Key": ["Only visible ASCII characters: letters, digits and punctuation, no spaces."]},
                code="invalid",
            )
        fingerprint = request_fingerprint(request.data)
        serializer = OrderPlaceInputSerializer(data=request.data)
        stored: services.StoredResponse | None
        if serializer.is_valid():
            stored = services.order_place_idempotent(
                user_id=request.user.id,
                key=key,
                request_fingerprint=fingerprint,
                lines=[services.OrderLineInput(**item) for item in serializer.validated_data["items"]],
            )
        else:
            # A key used before answers as the first time (a 422 for another body), even with this body.
            stored = services.idempotent_response_get(user_id=request.user.id, key=key, request_fingerprint=fingerprint)
            if stored is None:
                raise ValidationError(serializer.errors)
        headers: dict[str, str] = {}
        if stored.order_id:
            headers["Location"] = request.build_absolute_uri(
                reverse("orders:order-detail", kwargs={"order_id": stored.order_id})
            )
        if stored.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(stored.body, status=stored.status, headers=headers)


class OrderDetailApi(APIView):
    """``GET orders/{id}/``: one order; someone else's order is a 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="orders_retrieve", responses=OrderOutputSerializer)
    def get(self, request: AuthenticatedRequest, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(user=request.user, order_id=order_id)
        if order is None:
            raise NotFound
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    """``POST orders/{id}/cancel/``: 202 and ``cancelling`` for a confirmed (or cancelling) order; else 409."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_cancel",
        request=None,
        responses={202: OrderOutputSerializer, 409: ClientErrorResponseSerializer},
    )
    def post(self, request: AuthenticatedRequest, order_id: uuid.UUID) -> Response:
        if selectors.order_get(user=request.user, order_id=order_id) is None:
            raise NotFound
        services.order_cancel(order_id=order_id)
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)
