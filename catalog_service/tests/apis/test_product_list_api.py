from decimal import Decimal

import pytest

from catalog_service.catalog.public_cache import catalog_version_bump
from common_testing.infrastructure import assert_common_error_shape
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


def test_anonymous_callers_browse_active_products(api_client):
    category = CategoryFactory(slug="mugs")
    product = ProductFactory(
        sku="MUG-1", name="Mug", slug="mug", category=category, price=Decimal("9.90"), stock__available=4
    )
    ProductFactory(is_active=False)

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "id": product.id,
            "sku": "MUG-1",
            "name": "Mug",
            "slug": "mug",
            "description": "A fine thing.",
            "category": "mugs",
            "price": "9.90",
            "currency": "EUR",
            "stock": 4,
            "is_active": True,
            "created_at": product.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": product.updated_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_catalog_managers_also_see_inactive_products(api_client, manager):
    ProductFactory(name="Hidden", is_active=False)

    response = api_client.get(URL, **manager)

    assert [product["name"] for product in response.json()["results"]] == ["Hidden"]


def test_customers_see_what_anonymous_callers_see(api_client, customer):
    ProductFactory(name="Shown")
    ProductFactory(name="Hidden", is_active=False)

    response = api_client.get(URL, **customer)

    assert [product["name"] for product in response.json()["results"]] == ["Shown"]


def test_filters_and_ordering_combine(api_client):
    coffee = CategoryFactory(slug="coffee")
    ProductFactory(name="Grinder", category=coffee, price=Decimal("45.00"), stock__available=2)
    ProductFactory(name="Kettle", category=coffee, price=Decimal("30.00"), stock__available=5)
    ProductFactory(name="Espresso Machine", category=coffee, price=Decimal("300.00"), stock__available=1)
    ProductFactory(name="Empty", category=coffee, price=Decimal("40.00"), stock__available=0)
    ProductFactory(name="Book", price=Decimal("35.00"))

    response = api_client.get(
        URL, {"category": "coffee", "min_price": "30", "max_price": "100", "in_stock": "true", "ordering": "-price"}
    )

    assert response.status_code == 200
    assert [product["name"] for product in response.json()["results"]] == ["Grinder", "Kettle"]


def test_pages_link_to_each_other(api_client):
    ProductFactory.create_batch(5)

    first = api_client.get(URL, {"page_size": 2}).json()
    last = api_client.get(URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert "page=2" in first["next"]
    assert len(last["results"]) == 1
    assert last["next"] is None


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ({"page_size": "1000000"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": "abc"}, "page"),
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "1e"}, "max_price"),
        ({"min_price": "Infinity"}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"in_stock": ""}, "in_stock"),  # the schema's enum is true or false (found by schemathesis)
        ({"ordering": "password"}, "ordering"),
        ({"category": "no-such-category"}, "category"),
        ({"search": "\x00"}, "search"),
    ],
)
def test_bad_query_parameters_are_a_400_in_the_common_error_shape(api_client, query, attr):
    ProductFactory()

    response = api_client.get(URL, query)

    body = assert_common_error_shape(response, status=400)
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]


def test_a_page_past_the_last_is_a_404_in_the_common_error_shape(api_client):
    ProductFactory()

    response = api_client.get(URL, {"page": 99})

    assert_common_error_shape(response, status=404)


@pytest.mark.parametrize("page_size", [2, 50])
def test_the_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
    api_client, django_assert_num_queries, page_size
):
    category = CategoryFactory(slug="things")
    ProductFactory.create_batch(60, category=category)

    # count + page
    with django_assert_num_queries(2):
        response = api_client.get(URL, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size

    catalog_version_bump()
    # category lookup + category tree + count + page
    with django_assert_num_queries(4):
        response = api_client.get(URL, {"page_size": page_size, "category": "things", "ordering": "-price"})
    assert len(response.json()["results"]) == page_size


def test_a_cached_page_is_served_without_touching_the_database(api_client, django_assert_num_queries):
    ProductFactory.create_batch(3)
    first = api_client.get(URL, {"page_size": 20})

    with django_assert_num_queries(0):
        again = api_client.get(URL, {"page_size": 20, "unrelated": "x"})

    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content


def test_catalog_managers_are_never_served_the_public_cache(api_client, manager):
    ProductFactory(name="Shown")
    api_client.get(URL)
    ProductFactory(name="Hidden", is_active=False)

    response = api_client.get(URL, **manager)

    assert [product["name"] for product in response.json()["results"]] == ["Hidden", "Shown"]


@pytest.mark.parametrize("url", [URL, "/api/v1/categories/", "/api/v1/categories/anything/", "/api/v1/products/1/"])
def test_options_describes_the_endpoint(api_client, manager, url):
    response = api_client.options(url, **manager)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
