"""The catalogue REST API (``/api/v1/categories/``, ``/api/v1/products/``).

Anyone reads; catalog managers (and superusers) write. Anonymous writes are 401, other callers' 403.
Inactive products are visible to catalog managers only (a 404 for everyone else).

Decisions a client may rely on:
- unknown fields and read-only fields (id, created_at, updated_at) in a request body are ignored, never applied;
- ``DELETE products/{id}/`` deactivates the product (204); orders that refer to it keep working, and a
  manager can reactivate it with ``PATCH {"is_active": true}``;
- ``DELETE categories/{slug}/`` of a category that still has products or subcategories is a 409
  (``category_in_use``) naming the reason;
- writing ``stock`` sets the quantity available to order;
- ``ordering`` by anything but price, name or created_at (each optionally with ``-``) is a 400;
- a ``category`` filter that names no category is a 400; a category includes its subcategories' products;
- ``page_size`` above 100 is a 400 (``common.pagination``: the rule of every list).
Public reads are served from a cache that every write invalidates when it commits (see ``public_cache``).
"""

from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, serializers, status
from rest_framework.fields import empty
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog_service.catalog import selectors, services
from catalog_service.catalog.filters import PRODUCT_LIST_QUERY_PARAMETERS, ProductFilter
from catalog_service.catalog.models import Category, Product
from catalog_service.catalog.public_cache import PublicPageFastPath, serve_public_page
from common.auth.permissions import CATALOG_MANAGER, IsCatalogManagerOrReadOnly, has_role
from common.json_fields import JsonBooleanField
from common.openapi import revalidated

MAX_STOCK = 2_147_483_647  # the stock column is a Postgres integer


def _is_catalog_manager(request: Request) -> bool:
    return has_role(request.user, CATALOG_MANAGER)


class _Error409Serializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.ChoiceField(choices=[("category_in_use", "category_in_use")])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse409Serializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    # The stubs see Serializer.errors here; the metaclass takes the declared field out of the class.
    errors = _Error409Serializer(many=True)  # type: ignore[assignment]


# Categories


class CategoryOutputSerializer(serializers.Serializer[Category]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    # The stubs see Field.parent here; the metaclass takes the declared field out of the class.
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.slug", allow_null=True, help_text="The parent category's slug."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CategorySlugField(serializers.SlugRelatedField[Category]):
    """A category named by its slug. An empty string is refused, as the schema says (DRF would read it as null)."""

    default_error_messages = {**serializers.SlugRelatedField.default_error_messages, "blank": "May not be blank."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Category.objects.all(), **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            self.fail("blank")
        if data is not empty and data is not None and not isinstance(data, str):
            self.fail("invalid")  # a number is no slug, though the database would match 0 with "0"
        return super().run_validation(data)


class CategoryInputSerializer(serializers.Serializer[Category]):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False)
    parent = CategorySlugField(allow_null=True, required=False)  # type: ignore[assignment]  # as in the output


@extend_validation_errors(["unique"], field_name="slug", methods=["post"])
@extend_validation_errors(["blank"], field_name="parent", methods=["post"])
class CategoryListCreateApi(PublicPageFastPath, GenericAPIView[Category]):
    permission_classes = [IsCatalogManagerOrReadOnly]
    public_query_parameters = ("page", "page_size")
    queryset = Category.objects.none()  # for the OpenAPI schema; selectors.category_list reads
    serializer_class = CategoryInputSerializer  # describes POST in OPTIONS responses

    @extend_schema(**revalidated(CategoryOutputSerializer(many=True)), tags=["categories"])
    def get(self, request: Request) -> HttpResponse:
        """Every category, by name (paginated)."""
        if _is_catalog_manager(request):
            return self._page(request)
        return serve_public_page(
            request, query_parameters=self.public_query_parameters, build=lambda: self._page(request)
        )

    def _page(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.category_list())
        output = CategoryOutputSerializer(page, many=True)  # type: ignore[arg-type]  # the stubs have no many=True
        return self.get_paginated_response(output.data)

    @extend_schema(request=CategoryInputSerializer, responses={201: CategoryOutputSerializer}, tags=["categories"])
    def post(self, request: Request) -> Response:
        """Create a category (catalog managers); the slug is derived from the name when not given."""
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(**serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


@extend_validation_errors(["unique"], field_name="slug", methods=["patch"])
@extend_validation_errors(["blank"], field_name="parent", methods=["patch"])
class CategoryDetailApi(PublicPageFastPath, GenericAPIView[Category]):
    permission_classes = [IsCatalogManagerOrReadOnly]
    serializer_class = CategoryInputSerializer  # for OPTIONS responses

    def _category(self, slug: str) -> Category:
        category = selectors.category_get(slug=slug)
        if category is None:
            raise exceptions.NotFound("No category with this slug.")
        return category

    @extend_schema(**revalidated(CategoryOutputSerializer), tags=["categories"])
    def get(self, request: Request, slug: str) -> HttpResponse:
        """One category."""
        if _is_catalog_manager(request):
            return Response(CategoryOutputSerializer(self._category(slug)).data)
        return serve_public_page(request, build=lambda: Response(CategoryOutputSerializer(self._category(slug)).data))

    @extend_schema(request=CategoryInputSerializer, responses=CategoryOutputSerializer, tags=["categories"])
    def patch(self, request: Request, slug: str) -> Response:
        """Rename, re-slug or move a category (catalog managers)."""
        category = self._category(slug)
        serializer = CategoryInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        category = services.category_update(category=category, data=serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Deleted."), 409: ErrorResponse409Serializer},
        tags=["categories"],
    )
    def delete(self, request: Request, slug: str) -> Response:
        """Delete a category that has no products and no subcategories (catalog managers); else 409."""
        services.category_delete(category=self._category(slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Products


class ProductOutputSerializer(serializers.Serializer[Product]):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    description = serializers.CharField()
    category = serializers.CharField(source="category.slug", help_text="The category's slug.")
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    stock = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_stock(self, product: Product) -> int:
        """The quantity available to order."""
        stock = getattr(product, "stock", None)
        return stock.available if stock is not None else 0


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,10}(\.\d{1,2})?$"})
class PriceField(serializers.DecimalField):
    """A price as a decimal string ("12.50"), never a JSON number: a float cannot hold every price exactly."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal(0), **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductInputSerializer(serializers.Serializer[Product]):
    sku = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z", max_length=64, help_text="Letters, digits, '.', '_' and '-'."
    )
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=200, required=False, help_text="Derived from the name when not given.")
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    category = CategorySlugField()
    price = PriceField()
    currency = serializers.ChoiceField(
        choices=[], required=False, help_text="ISO 4217; the catalogue sells in one currency, its default."
    )
    stock = serializers.IntegerField(
        min_value=0, max_value=MAX_STOCK, required=False, help_text="The quantity available to order."
    )
    is_active = JsonBooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(serializers.ChoiceField, self.fields["currency"]).choices = [settings.CATALOG_CURRENCY]


def _product_response(product: Product | None, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(ProductOutputSerializer(product).data, status=status_code)


@extend_validation_errors(["null_characters_not_allowed"], field_name="category", methods=["get"])
@extend_validation_errors(["unique"], field_name="sku", methods=["post"])
@extend_validation_errors(["unique"], field_name="slug", methods=["post"])
@extend_validation_errors(["blank"], field_name="category", methods=["post"])
class ProductListCreateApi(PublicPageFastPath, GenericAPIView[Product]):
    permission_classes = [IsCatalogManagerOrReadOnly]
    public_query_parameters = PRODUCT_LIST_QUERY_PARAMETERS
    # Declared for the OpenAPI schema (parameters and their 400s); selectors.product_list applies the filter.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    queryset = Product.objects.none()
    serializer_class = ProductInputSerializer  # describes POST in OPTIONS responses

    @extend_schema(**revalidated(ProductOutputSerializer(many=True)), tags=["products"])
    def get(self, request: Request) -> HttpResponse:
        """Active products (every product for catalog managers), filtered, ordered and paginated."""
        if _is_catalog_manager(request):
            return self._page(request, include_inactive=True)
        return serve_public_page(
            request,
            query_parameters=self.public_query_parameters,
            build=lambda: self._page(request, include_inactive=False),
        )

    def _page(self, request: Request, *, include_inactive: bool) -> Response:
        products: QuerySet[Product] = selectors.product_list(
            filters=request.query_params, include_inactive=include_inactive
        )
        page = self.paginate_queryset(products)
        output = ProductOutputSerializer(page, many=True)  # type: ignore[arg-type]  # the stubs have no many=True
        return self.get_paginated_response(output.data)

    @extend_schema(request=ProductInputSerializer, responses={201: ProductOutputSerializer}, tags=["products"])
    def post(self, request: Request) -> Response:
        """Create a product with its stock (catalog managers)."""
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.product_create(**serializer.validated_data)
        product = selectors.product_get(product_id=created.pk, include_inactive=True)
        return _product_response(product, status_code=status.HTTP_201_CREATED)


@extend_validation_errors(["unique"], field_name="sku", methods=["patch"])
@extend_validation_errors(["unique"], field_name="slug", methods=["patch"])
@extend_validation_errors(["blank"], field_name="category", methods=["patch"])
class ProductDetailApi(PublicPageFastPath, GenericAPIView[Product]):
    permission_classes = [IsCatalogManagerOrReadOnly]
    serializer_class = ProductInputSerializer  # for OPTIONS responses

    def _product(self, request: Request, product_id: int) -> Product:
        product = selectors.product_get(product_id=product_id, include_inactive=_is_catalog_manager(request))
        if product is None:
            raise exceptions.NotFound("No product with this id.")
        return product

    @extend_schema(**revalidated(ProductOutputSerializer), tags=["products"])
    def get(self, request: Request, product_id: int) -> HttpResponse:
        """One product; inactive products only for catalog managers."""
        if _is_catalog_manager(request):
            return _product_response(self._product(request, product_id))
        return serve_public_page(request, build=lambda: _product_response(self._product(request, product_id)))

    @extend_schema(request=ProductInputSerializer, responses=ProductOutputSerializer, tags=["products"])
    def patch(self, request: Request, product_id: int) -> Response:
        """Change a product; ``stock`` sets the quantity available to order (catalog managers)."""
        product = self._product(request, product_id)
        serializer = ProductInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product=product, data=serializer.validated_data)
        return _product_response(selectors.product_get(product_id=product.pk, include_inactive=True))

    @extend_schema(responses={204: OpenApiResponse(description="Deactivated.")}, tags=["products"])
    def delete(self, request: Request, product_id: int) -> Response:
        """Deactivate a product (catalog managers): hidden from customers, kept for orders."""
        services.product_deactivate(product=self._product(request, product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
