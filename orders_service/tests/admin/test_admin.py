"""The orders admin and the messaging admin (outbox, inbox, dead letters) as an operator uses them."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from common.messaging.models import DeadLetter
from common_testing.messaging import deliver, queued_messages
from orders_service.orders import tasks
from orders_service.orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator_client(client):
    operator = get_user_model().objects.create_superuser("operator", "operator@example.com", "x-Pass-word-42")
    client.force_login(operator)
    return client


@pytest.fixture
def parked(broker, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())})
    return DeadLetter.objects.get()


@pytest.mark.parametrize(
    "path",
    [
        "/orders/admin/orders/order/",
        "/orders/admin/orders/order/?status__exact=pending",
        "/orders/admin/orders/order/?q=not-a-uuid",
        "/orders/admin/orders/order/?q=5",
        "/orders/admin/messaging/outboxmessage/?state=pending",
        "/orders/admin/messaging/inboxmessage/",
        "/orders/admin/messaging/deadletter/?state__exact=parked",
    ],
)
def test_admin_lists_render(operator_client, path, broker):
    order = OrderFactory()
    OrderLineFactory(order=order)

    response = operator_client.get(path)

    assert response.status_code == 200


def test_order_page_shows_its_lines(operator_client):
    order = OrderFactory()
    OrderLineFactory(order=order, product_id=77)

    response = operator_client.get(f"/orders/admin/orders/order/{order.id}/change/")

    assert response.status_code == 200
    assert b"77" in response.content


def test_search_by_order_id_finds_the_order(operator_client):
    order, other = OrderFactory(), OrderFactory()

    response = operator_client.get(f"/orders/admin/orders/order/?q={order.id}")

    assert str(order.id) in response.content.decode()
    assert str(other.id) not in response.content.decode()


def test_search_by_user_id_finds_their_orders(operator_client):
    theirs, other = OrderFactory(user_id=41), OrderFactory(user_id=42)

    found = operator_client.get("/orders/admin/orders/order/", {"q": "41"}).context["cl"].result_list

    assert list(found) == [theirs]
    assert other not in found


def test_an_orders_lines_cannot_be_changed_on_its_page(operator_client):
    order = OrderFactory()
    OrderLineFactory(order=order)

    [lines] = operator_client.get(f"/orders/admin/orders/order/{order.id}/change/").context["inline_admin_formsets"]

    assert lines.has_add_permission is False
    assert lines.has_change_permission is False
    assert lines.has_delete_permission is False


def test_replay_action_sends_the_dead_letter_again(operator_client, parked, broker):
    response = operator_client.post(
        "/orders/admin/messaging/deadletter/", {"action": "replay", "_selected_action": [parked.pk]}
    )

    assert response.status_code == 302
    parked.refresh_from_db()
    assert parked.state == "replayed"
    [message] = queued_messages(broker, "orders")
    assert message["kwargs"]["message"]["message_id"] == str(parked.message_id)


def test_discard_action_marks_the_dead_letter_discarded(operator_client, parked, broker):
    operator_client.post("/orders/admin/messaging/deadletter/", {"action": "discard", "_selected_action": [parked.pk]})

    parked.refresh_from_db()
    assert parked.state == "discarded"


def test_cancel_action_starts_cancelling_confirmed_orders_only(operator_client, broker):
    confirmed, pending = OrderFactory(status="confirmed"), OrderFactory()

    operator_client.post(
        "/orders/admin/orders/order/", {"action": "cancel", "_selected_action": [str(confirmed.id), str(pending.id)]}
    )

    assert Order.objects.get(id=confirmed.id).status == "cancelling"
    assert Order.objects.get(id=pending.id).status == "pending"
    assert [m["headers"]["task"] for m in queued_messages(broker, "catalog")] == ["catalog.release_stock"]


def test_redrive_action_sends_a_pending_orders_message_again(operator_client, broker):
    order = OrderFactory()
    OrderLineFactory(order=order, product_id=3, quantity=1)

    operator_client.post("/orders/admin/orders/order/", {"action": "redrive", "_selected_action": [str(order.id)]})

    [message] = queued_messages(broker, "catalog")
    assert message["kwargs"]["message"]["payload"] == {
        "order_id": str(order.id),
        "lines": [{"product_id": 3, "quantity": 1}],
    }
