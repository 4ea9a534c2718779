import pytest

from common_testing.messaging import queued_messages
from orders_service.orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def cancel(api_client, signer, order, *, user_id=5, roles=()):
    return api_client.post(f"/api/v1/orders/{order.id}/cancel/", **signer.bearer(user_id=user_id, roles=roles))


def test_cancel_of_a_confirmed_order_is_202_cancelling_and_asks_catalog_to_release(api_client, signer, broker):
    # given
    order = OrderFactory(user_id=5, status="confirmed")
    OrderLineFactory(order=order)

    # when
    response = cancel(api_client, signer, order)

    # then
    assert response.status_code == 202
    assert response.json()["status"] == "cancelling"
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLING
    assert order.updated_at > order.created_at
    [message] = queued_messages(broker, "catalog")
    assert message["headers"]["task"] == "catalog.release_stock"
    assert message["kwargs"]["message"]["payload"] == {"order_id": str(order.id)}


def test_cancel_again_while_cancelling_is_202_without_a_second_message(api_client, signer, broker):
    order = OrderFactory(user_id=5, status="confirmed")
    cancel(api_client, signer, order)

    response = cancel(api_client, signer, order)

    assert response.status_code == 202
    assert len(queued_messages(broker, "catalog")) == 1


@pytest.mark.parametrize("status", ["pending", "rejected", "cancelled"])
def test_cancel_is_409_where_the_order_cannot_be_cancelled(api_client, signer, broker, status):
    order = OrderFactory(user_id=5, status=status)

    response = cancel(api_client, signer, order)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "conflict"
    assert queued_messages(broker, "catalog") == []


def test_cancel_of_someone_elses_order_is_404(api_client, signer, broker):
    order = OrderFactory(user_id=6, status="confirmed")

    response = cancel(api_client, signer, order)

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_order_operator_cancels_anyones_order(api_client, signer, broker):
    order = OrderFactory(user_id=6, status="confirmed")

    response = cancel(api_client, signer, order, user_id=1, roles=["order_operator"])

    assert response.status_code == 202
