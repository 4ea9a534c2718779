"""A write is visible in the very next public read, although public reads are cached."""

from decimal import Decimal

import pytest
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from catalog_service.catalog import selectors, services
from tests.factories import ProductFactory

# Real commits: the cache is invalidated when a write's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/v1/products/"


def detail(product_id) -> str:
    return f"/api/v1/products/{product_id}/"


def listed(api_client, product_id) -> dict:
    return next(product for product in api_client.get(LIST).json()["results"] if product["id"] == product_id)


def test_a_price_and_stock_change_through_the_api_is_visible_in_the_next_read(api_client, manager):
    # given both pages are cached
    product = ProductFactory(price=Decimal("10.00"), stock__available=5)
    assert listed(api_client, product.id)["price"] == "10.00"
    assert api_client.get(detail(product.id)).json()["stock"] == 5

    # when
    response = api_client.patch(detail(product.id), {"price": "8.00", "stock": 2}, format="json", **manager)
    assert response.status_code == 200

    # then
    assert listed(api_client, product.id)["price"] == "8.00"
    assert listed(api_client, product.id)["stock"] == 2
    assert api_client.get(detail(product.id)).json()["price"] == "8.00"


def test_a_stock_adjustment_by_the_order_saga_is_visible_in_the_next_read(api_client):
    product = ProductFactory(stock__available=5)
    assert listed(api_client, product.id)["stock"] == 5

    services.stock_adjust(product_id=product.id, delta=-3)

    assert listed(api_client, product.id)["stock"] == 2
    assert api_client.get(detail(product.id)).json()["stock"] == 2


def test_a_deactivated_product_disappears_from_the_next_read(api_client, manager):
    product = ProductFactory()
    assert api_client.get(detail(product.id)).status_code == 200

    api_client.delete(detail(product.id), **manager)

    assert api_client.get(detail(product.id)).status_code == 404
    assert api_client.get(LIST).json()["count"] == 0


def test_a_bulk_change_is_visible_in_the_next_read(api_client):
    product = ProductFactory()
    assert api_client.get(LIST).json()["count"] == 1

    services.products_set_active(product_ids=[product.id], is_active=False)

    assert api_client.get(LIST).json()["count"] == 0


def test_a_rolled_back_write_leaves_the_cache_alone(api_client, django_assert_num_queries):
    from django.db import transaction

    product = ProductFactory(price=Decimal("10.00"))
    api_client.get(detail(product.id))

    with transaction.atomic():
        services.product_update(product=product, data={"price": Decimal("1.00")})
        transaction.set_rollback(True)

    with django_assert_num_queries(0):
        assert api_client.get(detail(product.id)).json()["price"] == "10.00"


def test_reads_fall_back_to_the_database_when_redis_is_down(api_client):
    product = ProductFactory(price=Decimal("10.00"))
    unreachable = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    with override_settings(CACHES=unreachable):
        listed_price = api_client.get(LIST).json()["results"][0]["price"]
        detail_response = api_client.get(detail(product.id))
        services.product_update(product=product, data={"price": Decimal("9.00")})

    assert listed_price == "10.00"
    assert detail_response.status_code == 200


def test_a_cached_page_is_served_while_the_database_is_down_and_says_so(monkeypatch):
    # given: the first page read once (built from the database, then cached); the client sees the 503 a
    # server error answers (the test client would raise the database's error it reports instead)
    api_client = APIClient(raise_request_exception=False)
    ProductFactory()
    first = api_client.get(LIST)
    assert (first.status_code, first["X-Cache"]) == (200, "miss")

    # when: the database stops answering
    def database_down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "product_list", database_down)
    cached = api_client.get(LIST)
    uncached = api_client.get(LIST, {"ordering": "-price"})

    # then: the cached page is served, marked as such; a page the cache lacks is a 503 to retry
    assert (cached.status_code, cached["X-Cache"], cached.json()) == (200, "hit", first.json())
    assert uncached.status_code == 503
    assert uncached["Retry-After"] == "5"
    assert uncached.json()["errors"][0]["code"] == "service_unavailable"
