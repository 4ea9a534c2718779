"""The page-size rule of every list (``common.pagination``) on each of catalog_service's lists."""

import pytest

from common_testing.pagination import DEFAULT_PAGE_SIZE, assert_the_page_size_rule, paginated_operations
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

ROWS = DEFAULT_PAGE_SIZE + 3
LISTS = {"GET /api/v1/categories/", "GET /api/v1/products/"}


def test_every_list_is_covered_here():
    assert paginated_operations() == LISTS


def test_the_category_list_follows_the_page_size_rule(api_client):
    CategoryFactory.create_batch(ROWS)

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/categories/", params), rows=ROWS)


def test_the_product_list_follows_the_page_size_rule(api_client):
    ProductFactory.create_batch(ROWS)

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/products/", params), rows=ROWS)


def test_the_product_list_of_a_catalog_manager_follows_the_page_size_rule(api_client, signer):
    ProductFactory.create_batch(ROWS - 1)
    ProductFactory(is_active=False)  # listed for managers only
    manager = signer.bearer(roles=["catalog_manager"])

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/products/", params, **manager), rows=ROWS)
