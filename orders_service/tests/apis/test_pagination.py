"""The page-size rule of every list (``common.pagination``) on orders_service's list, as customer and operator."""

import pytest

from common_testing.pagination import DEFAULT_PAGE_SIZE, assert_the_page_size_rule, paginated_operations
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ROWS = DEFAULT_PAGE_SIZE + 3
LISTS = {"GET /api/v1/orders/"}


def test_every_list_is_covered_here():
    assert paginated_operations() == LISTS


def test_a_customers_order_list_follows_the_page_size_rule(api_client, signer):
    OrderFactory.create_batch(ROWS, user_id=7)
    OrderFactory(user_id=8)  # someone else's: not counted
    customer = signer.bearer(user_id=7)

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/orders/", params, **customer), rows=ROWS)


def test_an_operators_order_list_follows_the_page_size_rule(api_client, signer):
    OrderFactory.create_batch(ROWS - 1, user_id=7)
    OrderFactory(user_id=8)
    operator = signer.bearer(user_id=1, roles=["order_operator"])

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/orders/", params, **operator), rows=ROWS)
