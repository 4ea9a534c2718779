"""The catalogue against the real processes (the default web server, production settings, Redis cache, Postgres)."""

import pytest
import requests

MANAGER = {"user_id": 900, "username": "maria", "roles": ["catalog_manager"]}
CUSTOMER = {"user_id": 901, "username": "carl", "roles": []}


@pytest.fixture(scope="module")
def catalog(system) -> str:
    """The catalog service's URL, with the demo catalogue loaded (twice: the command is idempotent)."""
    for _ in range(2):
        result = system.manage("catalog_service", "load_demo_catalog")
        assert result.returncode == 0, result.stderr[-3000:]
    assert "0 categories and 0 products created" in result.stdout
    return system.urls["catalog_service"]


def products(catalog: str, **params) -> requests.Response:
    return requests.get(f"{catalog}/api/v1/products/", params=params, timeout=10)


def assert_common_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["errors"]
    assert all(set(error) == {"code", "detail", "attr"} for error in body["errors"])
    return body


def test_anonymous_callers_browse_and_filter_the_demo_catalogue(catalog):
    everything = products(catalog).json()
    categories = requests.get(f"{catalog}/api/v1/categories/", timeout=10).json()
    electronics = products(catalog, category="electronics", in_stock="true", ordering="-price", page_size=5).json()
    searched = products(catalog, search="espresso").json()
    cheap = products(catalog, max_price="20", ordering="price").json()

    assert everything["count"] >= 24
    assert all(product["is_active"] for product in everything["results"])
    assert {"electronics", "laptops"} <= {category["slug"] for category in categories["results"]}
    assert len(electronics["results"]) == 5
    assert electronics["next"] is not None
    assert all(product["stock"] > 0 for product in electronics["results"])
    prices = [float(product["price"]) for product in electronics["results"]]
    assert prices == sorted(prices, reverse=True)
    assert [product["sku"] for product in searched["results"]] == ["COF-ESP-01"]
    assert all(float(product["price"]) <= 20 for product in cheap["results"])
    detail = requests.get(f"{catalog}/api/v1/products/{everything['results'][0]['id']}/", timeout=10)
    assert detail.status_code == 200


def test_a_manager_creates_and_edits_a_product_and_the_change_is_visible_at_once(catalog, system):
    manager = system.bearer(**MANAGER)
    created = requests.post(
        f"{catalog}/api/v1/products/",
        json={"sku": "E2E-MUG", "name": "End-to-end Mug", "category": "cookware", "price": "11.00", "stock": 3},
        headers=manager,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    detail_url = f"{catalog}/api/v1/products/{product_id}/"
    # warm the public cache in both web server workers
    for _ in range(4):
        assert requests.get(detail_url, timeout=10).json()["price"] == "11.00"
        assert products(catalog, search="End-to-end").json()["results"][0]["stock"] == 3

    edited = requests.patch(detail_url, json={"price": "9.50", "stock": 0}, headers=manager, timeout=10)

    assert edited.status_code == 200, edited.text
    for _ in range(4):
        assert requests.get(detail_url, timeout=10).json()["price"] == "9.50"
        listed = products(catalog, search="End-to-end").json()["results"][0]
        assert (listed["price"], listed["stock"]) == ("9.50", 0)
        assert products(catalog, search="End-to-end", in_stock="true").json()["count"] == 0

    deactivated = requests.delete(detail_url, headers=manager, timeout=10)
    assert deactivated.status_code == 204
    assert_common_error(requests.get(detail_url, timeout=10), 404)
    assert requests.get(detail_url, headers=manager, timeout=10).json()["is_active"] is False


def test_customers_get_403_and_anonymous_writes_get_401(catalog, system):
    body = {"sku": "NOPE-1", "name": "Nope", "category": "books", "price": "1.00"}
    existing = products(catalog).json()["results"][0]

    as_customer = requests.post(f"{catalog}/api/v1/products/", json=body, headers=system.bearer(**CUSTOMER), timeout=10)
    anonymous = requests.post(f"{catalog}/api/v1/products/", json=body, timeout=10)
    anonymous_patch = requests.patch(f"{catalog}/api/v1/products/{existing['id']}/", json={"price": "0"}, timeout=10)

    assert_common_error(as_customer, 403)
    assert_common_error(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert_common_error(anonymous_patch, 401)
    assert products(catalog, search="NOPE-1").json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "1000000"},
        {"min_price": "abc"},
        {"max_price": "1e999999"},
        {"in_stock": "perhaps"},
        {"ordering": "secret"},
        {"category": "nowhere"},
        {"page": "-1"},
        {"search": "\x00"},
    ],
)
def test_bad_query_parameters_are_400s(catalog, params):
    assert_common_error(products(catalog, **params), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"sku": "BAD-1", "name": "Bad", "category": "books", "price": "-1"},
        {"sku": "BAD-2", "name": "Bad", "category": "books", "price": "1", "stock": -1},
        {"sku": "BAD-3", "name": "x" * 300, "category": "books", "price": "1"},
        {"sku": "LAP-AIR13", "name": "Duplicate SKU", "category": "books", "price": "1"},
        {"sku": "BAD-4", "name": "Bad", "category": "books", "price": "1e400"},
        {"sku": ["list"], "name": {"a": 1}, "category": 5, "price": None},
    ],
)
def test_bad_bodies_are_400s_never_500s(catalog, system, body):
    response = requests.post(f"{catalog}/api/v1/products/", json=body, headers=system.bearer(**MANAGER), timeout=10)

    assert_common_error(response, 400)


def test_odd_urls_and_bodies_are_4xx(catalog, system):
    manager = system.bearer(**MANAGER)

    huge_id = requests.get(f"{catalog}/api/v1/products/{'9' * 30}/", timeout=10)
    not_json = requests.post(
        f"{catalog}/api/v1/products/",
        data="{not json",
        headers={**manager, "Content-Type": "application/json"},
        timeout=10,
    )
    form = requests.post(f"{catalog}/api/v1/products/", data={"sku": "x"}, headers=manager, timeout=10)

    assert_common_error(huge_id, 404)
    assert_common_error(not_json, 400)
    assert_common_error(form, 415)
