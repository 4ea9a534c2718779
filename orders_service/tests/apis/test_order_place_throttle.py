"""Placing orders is limited per user (common.throttling, scope ``orders``); reading them is not."""

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/orders/"
BODY = {"items": [{"product_id": 3, "quantity": 1}]}


@pytest.fixture
def two_orders_a_minute(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "orders": "2/min"}


def place(api_client, signer, *, key: str, user_id: int = 5):
    return api_client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key, **signer.bearer(user_id=user_id))


def throttled_count() -> float:
    return REGISTRY.get_sample_value("shop_throttled_total", {"service": "orders_service", "scope": "orders"}) or 0.0


def test_orders_over_the_rate_are_429_for_that_user_only(api_client, signer, broker, two_orders_a_minute):
    counted = throttled_count()
    assert [place(api_client, signer, key=f"k{n}").status_code for n in range(2)] == [201, 201]

    refused = place(api_client, signer, key="k2")

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert throttled_count() == counted + 1  # shop_throttled_total{scope="orders"}
    assert place(api_client, signer, key="k3", user_id=6).status_code == 201


def test_reading_orders_is_not_counted(api_client, signer, broker, two_orders_a_minute):
    for _ in range(5):
        assert api_client.get(URL, **signer.bearer(user_id=5)).status_code == 200

    assert place(api_client, signer, key="k0").status_code == 201
