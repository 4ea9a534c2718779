"""The metrics orders_service records where the facts happen: the saga's transitions, the consumer's outcomes,
the publisher; and ``/metrics``, which only the scraper may read (real Postgres, real Redis)."""

import uuid

import pytest
from celery.exceptions import Retry
from django.test import Client
from prometheus_client import REGISTRY

from common.telemetry import metrics
from common_testing.messaging import deliver
from orders_service.orders import tasks
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def reserved_payload(order, *, priced=(3,)) -> dict:
    return {
        "order_id": str(order.id),
        "currency": "EUR",
        "lines": [{"product_id": product_id, "quantity": 1, "unit_price": "2.00"} for product_id in priced],
    }


@pytest.fixture
def pending_order():
    order = OrderFactory(user_id=5)
    OrderLineFactory(order=order, product_id=3, quantity=1)
    return order


def test_a_confirmation_counts_the_order_and_its_saga_duration_once(pending_order, broker):
    # given
    confirmed = sample("shop_orders_total", status="confirmed")
    durations = sample("shop_order_saga_duration_seconds_count", outcome="confirmed")
    applied = sample(
        "shop_messages_consumed_total", service="orders_service", message="orders.stock_reserved", outcome="applied"
    )
    duplicates = sample(
        "shop_messages_consumed_total", service="orders_service", message="orders.stock_reserved", outcome="duplicate"
    )
    published = sample("shop_messages_published_total", service="orders_service", message="users.notify_order_status")

    # when: the answer arrives twice (at-least-once delivery)
    message_id = uuid.uuid4()
    assert deliver(tasks.stock_reserved, reserved_payload(pending_order), message_id=message_id) == "applied"
    assert deliver(tasks.stock_reserved, reserved_payload(pending_order), message_id=message_id) == "duplicate"

    # then: one confirmation, one saga observed, one notification published; the consumer saw both deliveries
    assert sample("shop_orders_total", status="confirmed") == confirmed + 1
    assert sample("shop_order_saga_duration_seconds_count", outcome="confirmed") == durations + 1
    labels = {"service": "orders_service", "message": "orders.stock_reserved"}
    assert sample("shop_messages_consumed_total", **labels, outcome="applied") == applied + 1
    assert sample("shop_messages_consumed_total", **labels, outcome="duplicate") == duplicates + 1
    assert (
        sample("shop_messages_published_total", service="orders_service", message="users.notify_order_status")
        == published + 1
    )


def test_a_transition_rolled_back_counts_nothing_and_the_retry_is_counted(pending_order, broker):
    # given: catalog's answer lacks a line's price, so the confirmation rolls back and the message is retried
    confirmed = sample("shop_orders_total", status="confirmed")
    labels = {"service": "orders_service", "message": "orders.stock_reserved"}
    retried = sample("shop_messages_consumed_total", **labels, outcome="retried")

    # when
    with pytest.raises(Retry):
        deliver(tasks.stock_reserved, reserved_payload(pending_order, priced=(99,)))

    # then
    assert sample("shop_orders_total", status="confirmed") == confirmed
    assert sample("shop_messages_consumed_total", **labels, outcome="retried") == retried + 1


def test_a_request_is_counted_by_its_route_pattern_never_its_path():
    # given
    labels = {"service": "orders_service", "method": "GET", "route": "api/v1/orders/<uuid:order_id>/"}
    before = sample("shop_http_requests_total", **labels, status="401")
    timed = sample("shop_http_request_duration_seconds_count", **labels)
    unmatched = {"service": "orders_service", "method": "GET", "route": "unmatched", "status": "404"}
    before_unmatched = sample("shop_http_requests_total", **unmatched)

    # when: two different orders (one route), and a path no route matches
    for _ in range(2):
        Client().get(f"/api/v1/orders/{uuid.uuid4()}/")
    Client().get(f"/no/such/{uuid.uuid4()}/")

    # then
    assert sample("shop_http_requests_total", **labels, status="401") == before + 2
    assert sample("shop_http_request_duration_seconds_count", **labels) == timed + 2
    assert sample("shop_http_requests_total", **unmatched) == before_unmatched + 1


def test_metrics_answers_the_scraper_with_the_contract_names():
    response = Client(REMOTE_ADDR="10.1.2.3").get("/metrics", HTTP_ACCEPT="text/plain;version=0.0.4")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE shop_http_requests_total counter" in text
    assert 'shop_outbox_backlog{service="orders_service"}' in text
    assert 'shop_queue_depth{queue="orders"}' in text


@pytest.mark.parametrize(
    ("remote_address", "headers"),
    [
        ("203.0.113.9", {}),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
        ("10.0.0.5", {"HTTP_FORWARDED": "for=1.2.3.4"}),
    ],
    ids=["public address", "through a proxy", "through a proxy (Forwarded)"],
)
def test_metrics_is_a_404_for_anyone_but_the_scraper(remote_address, headers):
    response = Client(REMOTE_ADDR=remote_address).get("/metrics", **headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_with_telemetry_off_nothing_is_recorded_and_metrics_is_a_404(monkeypatch):
    monkeypatch.setattr(metrics, "ENABLED", False)
    before = sample("shop_orders_total", status="pending")
    metrics.order_counted(status="pending")
    assert sample("shop_orders_total", status="pending") == before
    assert Client().get("/metrics").status_code == 404
