from decimal import Decimal

import pytest

from catalog_service.catalog.models import Product
from common_testing.infrastructure import assert_common_error_shape
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


def detail(product_id) -> str:
    return f"/api/v1/products/{product_id}/"


@pytest.fixture
def new_product() -> dict:
    CategoryFactory(slug="mugs")
    return {"sku": "MUG-9", "name": "Green Mug", "category": "mugs", "price": "12.00", "stock": 6}


def test_a_catalog_manager_creates_a_product(api_client, manager, new_product):
    response = api_client.post(URL, new_product, format="json", **manager)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"] == "MUG-9"
    assert body["slug"] == "green-mug"
    assert body["category"] == "mugs"
    assert body["price"] == "12.00"
    assert body["currency"] == "EUR"
    assert body["stock"] == 6
    assert body["is_active"] is True
    assert Product.objects.get(id=body["id"]).stock.available == 6


def test_an_anonymous_write_is_a_401_with_a_bearer_challenge(api_client, new_product):
    response = api_client.post(URL, new_product, format="json")

    assert_common_error_shape(response, status=401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Product.objects.exists()


def test_a_customer_write_is_a_403(api_client, customer, new_product):
    response = api_client.post(URL, new_product, format="json", **customer)

    assert_common_error_shape(response, status=403)
    assert not Product.objects.exists()


def test_a_superuser_may_write_without_the_role(api_client, signer, new_product):
    headers = signer.bearer(user_id=3, roles=[], is_superuser=True)

    response = api_client.post(URL, new_product, format="json", **headers)

    assert response.status_code == 201


def test_unknown_and_read_only_fields_are_ignored(api_client, manager, new_product):
    response = api_client.post(
        URL,
        {**new_product, "id": 424242, "created_at": "2000-01-01T00:00:00Z", "owner": "mallory"},
        format="json",
        **manager,
    )

    assert response.status_code == 201
    product = Product.objects.get(sku="MUG-9")
    assert product.id != 424242
    assert product.created_at.year > 2000


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"price": "-1.00"}, "price"),
        ({"stock": -1}, "stock"),
        ({"name": "x" * 300}, "name"),
        ({"price": "abc"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"stock": 2**40}, "stock"),
        ({"currency": "XYZ"}, "currency"),
        ({"category": "no-such-category"}, "category"),
        ({"sku": "has space"}, "sku"),
        ({"slug": "Not a slug!"}, "slug"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, manager, new_product, change, attr):
    response = api_client.post(URL, {**new_product, **change}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert attr in [error["attr"] for error in body["errors"]]
    assert not Product.objects.exists()


def test_missing_fields_are_named(api_client, manager):
    response = api_client.post(URL, {}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert {error["attr"] for error in body["errors"]} == {"sku", "name", "category", "price"}


def test_malformed_json_is_a_400(api_client, manager):
    response = api_client.generic("POST", URL, "{not json", content_type="application/json", **manager)

    assert_common_error_shape(response, status=400)


@pytest.mark.parametrize("field", ["sku", "slug"])
def test_a_duplicate_sku_or_slug_is_a_400_naming_the_field(api_client, manager, new_product, field):
    ProductFactory(sku="TAKEN", slug="taken")

    duplicate = {"sku": "TAKEN", "slug": "taken"}[field]

    response = api_client.post(URL, {**new_product, field: duplicate}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [(field, "unique")]


def test_a_catalog_manager_changes_price_stock_and_category(api_client, manager):
    product = ProductFactory(price=Decimal("5.00"), stock__available=1)
    CategoryFactory(slug="sale")

    response = api_client.patch(
        detail(product.id), {"price": "4.50", "stock": 30, "category": "sale"}, format="json", **manager
    )

    assert response.status_code == 200, response.json()
    assert response.json()["price"] == "4.50"
    assert response.json()["stock"] == 30
    assert response.json()["category"] == "sale"
    product.refresh_from_db()
    assert product.price == Decimal("4.50")
    assert product.stock.available == 30


def test_a_patch_of_read_only_fields_changes_nothing(api_client, manager):
    product = ProductFactory()

    response = api_client.patch(
        detail(product.id), {"id": 1, "created_at": "2000-01-01T00:00:00Z"}, format="json", **manager
    )

    assert response.status_code == 200
    assert response.json()["id"] == product.id
    assert response.json()["created_at"] != "2000-01-01T00:00:00Z"


def test_a_patch_to_another_products_sku_is_a_400(api_client, manager):
    ProductFactory(sku="FIRST")
    second = ProductFactory(sku="SECOND")

    response = api_client.patch(detail(second.id), {"sku": "FIRST"}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert body["errors"][0]["attr"] == "sku"


def test_a_patch_with_negative_stock_is_a_400(api_client, manager):
    product = ProductFactory(stock__available=3)

    response = api_client.patch(detail(product.id), {"stock": -5}, format="json", **manager)

    assert_common_error_shape(response, status=400)
    product.stock.refresh_from_db()
    assert product.stock.available == 3


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_catalog_managers_patch_or_delete(api_client, customer, who):
    product = ProductFactory(price=Decimal("5.00"))
    headers, status = (customer, 403) if who == "customer" else ({}, 401)

    patched = api_client.patch(detail(product.id), {"price": "0.01"}, format="json", **headers)
    deleted = api_client.delete(detail(product.id), **headers)

    assert_common_error_shape(patched, status=status)
    assert_common_error_shape(deleted, status=status)
    product.refresh_from_db()
    assert product.price == Decimal("5.00")
    assert product.is_active is True


def test_delete_deactivates_the_product(api_client, manager):
    product = ProductFactory()

    response = api_client.delete(detail(product.id), **manager)

    assert response.status_code == 204
    product.refresh_from_db()
    assert product.is_active is False
    assert api_client.get(detail(product.id)).status_code == 404
    assert api_client.get(detail(product.id), **manager).json()["is_active"] is False


def test_a_manager_reactivates_a_product(api_client, manager):
    product = ProductFactory(is_active=False)

    response = api_client.patch(detail(product.id), {"is_active": True}, format="json", **manager)

    assert response.json()["is_active"] is True


@pytest.mark.parametrize(("field", "value"), [("is_active", 0), ("is_active", "false"), ("category", 0), ("price", 5)])
def test_a_value_of_another_json_type_than_the_schema_says_is_400(api_client, signer, field, value):
    category = CategoryFactory(slug="0")
    product = ProductFactory(category=category, is_active=True)

    response = api_client.patch(
        f"/api/v1/products/{product.id}/", {field: value}, format="json", **signer.bearer(roles=["catalog_manager"])
    )

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == field
    product.refresh_from_db()
    assert product.is_active is True
