import pytest
from django.urls import reverse

from common_testing.messaging import queued_messages
from orders_service.orders.models import IdempotencyKey, Order

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/orders/"


def place(api_client, signer, body, *, key="k1", user_id=5):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api_client.post(URL, body, format="json", **headers, **signer.bearer(user_id=user_id))


def test_place_creates_a_pending_order_and_sends_reserve_stock(api_client, signer, broker):
    # when
    response = place(
        api_client, signer, {"items": [{"product_id": 3, "quantity": 2}, {"product_id": 9, "quantity": 1}]}
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["items"] == [
        {"product_id": 3, "quantity": 2, "unit_price": None},
        {"product_id": 9, "quantity": 1, "unit_price": None},
    ]
    assert (body["total"], body["currency"], body["reject_reason"]) == (None, None, None)
    assert response["Location"].endswith(reverse("orders:order-detail", kwargs={"order_id": body["id"]}))
    order = Order.objects.get(id=body["id"])
    assert order.user_id == 5
    [message] = queued_messages(broker, "catalog")
    assert message["headers"]["task"] == "catalog.reserve_stock"
    envelope = message["kwargs"]["message"]
    assert envelope["payload"] == {
        "order_id": body["id"],
        "lines": [{"product_id": 3, "quantity": 2}, {"product_id": 9, "quantity": 1}],
    }
    assert message["headers"]["id"] == envelope["message_id"]


def test_same_key_and_body_returns_the_first_response_and_no_second_order(api_client, signer, broker):
    # given
    body = {"items": [{"product_id": 3, "quantity": 2}]}
    first = place(api_client, signer, body)

    # when
    again = place(api_client, signer, body)

    # then
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert len(queued_messages(broker, "catalog")) == 1


def test_same_key_with_another_body_is_422(api_client, signer, broker):
    place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]})

    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 3}]})

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_same_key_with_an_invalid_body_is_422_not_400(api_client, signer, broker):
    place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]})

    response = place(api_client, signer, {"items": []})

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"


def test_the_first_response_is_what_a_read_of_the_order_shows(api_client, signer, broker):
    response = place(
        api_client, signer, {"items": [{"product_id": 3, "quantity": 2}, {"product_id": 9, "quantity": 1}]}
    )

    read = api_client.get(f"{URL}{response.json()['id']}/", **signer.bearer(user_id=5))

    assert response.json() == read.json()


def test_the_same_key_of_another_user_is_another_order(api_client, signer, broker):
    body = {"items": [{"product_id": 3, "quantity": 2}]}
    place(api_client, signer, body, user_id=5)

    response = place(api_client, signer, body, user_id=6)

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_missing_idempotency_key_is_400(api_client, signer, broker):
    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]}, key=None)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"items": []}, "items"),
        ({}, "items"),
        ({"items": [{"product_id": 3, "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"product_id": 3, "quantity": 1001}]}, "items.0.quantity"),
        ({"items": [{"product_id": 0, "quantity": 1}]}, "items.0.product_id"),
        ({"items": [{"product_id": "x", "quantity": 1}]}, "items.0.product_id"),
        ({"items": [{"product_id": 3, "quantity": 1}, {"product_id": 3, "quantity": 2}]}, "items"),
        ({"items": [{"product_id": n, "quantity": 1} for n in range(1, 52)]}, "items"),
        ({"items": "nope"}, "items"),
    ],
)
def test_invalid_order_is_400_in_the_common_error_shape(api_client, signer, broker, body, attr):
    response = place(api_client, signer, body)

    assert response.status_code == 400, response.json()
    assert any(error["attr"].startswith(attr) for error in response.json()["errors"])
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_fifty_lines_are_accepted(api_client, signer, broker):
    response = place(api_client, signer, {"items": [{"product_id": n, "quantity": 1} for n in range(1, 51)]})

    assert response.status_code == 201


def test_anonymous_is_401(api_client, broker):
    response = api_client.post(
        URL, {"items": [{"product_id": 3, "quantity": 2}]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 401


def test_broker_down_still_accepts_the_order_quickly_and_leaves_it_to_the_relay(api_client, signer):
    import time

    from common.messaging import publisher
    from common.messaging.models import OutboxMessage
    from orders_service.celery import app

    # given a broker nobody listens on
    original_url = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    publisher._publisher.close()
    try:
        # when
        started = time.monotonic()
        response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]})
        elapsed = time.monotonic() - started
    finally:
        app.conf.broker_url = original_url
        publisher._publisher.close()

    # then
    assert response.status_code == 201
    assert elapsed < 2
    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.last_error


@pytest.mark.parametrize(
    "extra",
    [
        {"user_id": 99},
        {"status": "confirmed"},
        {"total": "0.01"},
        {"currency": "XXX"},
        {"reject_reason": "none"},
        {"id": "00000000-0000-0000-0000-000000000001"},
    ],
)
def test_fields_the_saga_owns_are_ignored_in_the_body(api_client, signer, broker, extra):
    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}], **extra}, user_id=5)

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert (str(order.id), order.user_id, order.status) == (response.json()["id"], 5, Order.Status.PENDING)
    assert (order.total, order.currency, order.reject_reason) == (None, None, None)


def test_a_unit_price_in_a_line_is_ignored(api_client, signer, broker):
    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2, "unit_price": "0.01"}]})

    assert response.status_code == 201, response.json()
    assert list(Order.objects.get().lines.values_list("unit_price", flat=True)) == [None]
    [message] = queued_messages(broker, "catalog")
    assert message["kwargs"]["message"]["payload"]["lines"] == [{"product_id": 3, "quantity": 2}]


@pytest.mark.parametrize(
    "key",
    [
        "k" * 255,
        "3f2b8c1e-6a4d-4e8b-9c1f-2d7e5a9b0c3d",
        "order:2026-12-01/basket#7",
        "!~",
    ],
)
def test_an_idempotency_key_of_visible_ascii_up_to_255_characters_is_accepted(api_client, signer, broker, key):
    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]}, key=key)

    assert response.status_code == 201, response.json()
    assert IdempotencyKey.objects.get().key == key


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("k" * 256, "max_length"),
        ("two words", "invalid"),
        ("tab\there", "invalid"),
        ("caf\u00e9", "invalid"),
        ("   ", "required"),
    ],
)
def test_an_idempotency_key_too_long_or_with_other_characters_is_400(api_client, signer, broker, key, code):
    response = place(api_client, signer, {"items": [{"product_id": 3, "quantity": 2}]}, key=key)

    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert (error["attr"], error["code"]) == ("Idempotency-Key", code)
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()
