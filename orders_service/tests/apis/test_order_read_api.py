import uuid
from decimal import Decimal

import pytest

from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_list_shows_only_own_orders_newest_first_with_constant_queries(api_client, signer, django_assert_num_queries):
    # given
    for _ in range(3):
        order = OrderFactory(user_id=5)
        OrderLineFactory.create_batch(2, order=order)
    OrderLineFactory(order=OrderFactory(user_id=6))

    # when: count, page, lines; no query per order
    with django_assert_num_queries(3):
        response = api_client.get("/api/v1/orders/", **signer.bearer(user_id=5))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {len(order["items"]) for order in body["results"]} == {2}
    created = [order["created_at"] for order in body["results"]]
    assert created == sorted(created, reverse=True)


def test_order_operator_lists_every_order(api_client, signer):
    OrderFactory(user_id=5)
    OrderFactory(user_id=6)

    response = api_client.get("/api/v1/orders/", **signer.bearer(user_id=1, roles=["order_operator"]))

    assert response.json()["count"] == 2


def test_list_filters_by_status(api_client, signer):
    OrderFactory(user_id=5, status="confirmed")
    OrderFactory(user_id=5)

    response = api_client.get("/api/v1/orders/?status=confirmed", **signer.bearer(user_id=5))

    assert [order["status"] for order in response.json()["results"]] == ["confirmed"]


def test_list_rejects_an_unknown_status_filter(api_client, signer):
    response = api_client.get("/api/v1/orders/?status=lost", **signer.bearer(user_id=5))

    assert response.status_code == 400


def test_detail_shows_prices_and_total(api_client, signer, django_assert_num_queries):
    # given
    order = OrderFactory(user_id=5, status="confirmed", total=Decimal("21.00"), currency="EUR")
    OrderLineFactory(order=order, product_id=3, quantity=2, unit_price=Decimal("10.50"))

    # when
    with django_assert_num_queries(2):
        response = api_client.get(f"/api/v1/orders/{order.id}/", **signer.bearer(user_id=5))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [{"product_id": 3, "quantity": 2, "unit_price": "10.50"}]
    assert (body["status"], body["total"], body["currency"]) == ("confirmed", "21.00", "EUR")
    assert set(body) == {"id", "status", "items", "total", "currency", "reject_reason", "created_at", "updated_at"}


def test_someone_elses_order_is_404(api_client, signer):
    order = OrderFactory(user_id=6)

    response = api_client.get(f"/api/v1/orders/{order.id}/", **signer.bearer(user_id=5))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_order_operator_sees_anyones_order(api_client, signer):
    order = OrderFactory(user_id=6)

    response = api_client.get(f"/api/v1/orders/{order.id}/", **signer.bearer(user_id=1, roles=["order_operator"]))

    assert response.status_code == 200


@pytest.mark.parametrize("order_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_order_is_404(api_client, signer, order_id):
    response = api_client.get(f"/api/v1/orders/{order_id}/", **signer.bearer(user_id=5))

    assert response.status_code == 404
