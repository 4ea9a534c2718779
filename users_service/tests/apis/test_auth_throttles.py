"""The services' own rate limits on register, token and refresh: per client address, in Redis (common.throttling)."""

import pytest
from django.test import override_settings

from tests.factories import UserFactory
from tests.helpers import login, token_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register": "2/hour", "token": "3/min", "refresh": "2/min"}


def register(api_client, n: int, *, address: str = "10.1.0.1", **headers):
    body = {"username": f"shopper{n}", "email": f"shopper{n}@example.com", "password": "correct-horse-battery"}
    return api_client.post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=address, **headers)


def assert_throttled(response, *, at_most_seconds: int) -> None:
    assert response.status_code == 429, response.content[:500]
    body = response.json()
    assert body["type"] == "client_error"
    [error] = body["errors"]
    assert (error["code"], error["attr"]) == ("throttled", None)
    assert 1 <= int(response["Retry-After"]) <= at_most_seconds


def test_the_default_rates_are_a_shops(settings):
    assert settings.RATE_LIMITS_ON
    assert settings.THROTTLE_RATES == {
        "register": "10/hour",
        "token": "20/min",
        "refresh": "60/min",
        "orders": "30/min",
    }


def test_registrations_over_the_rate_are_429_for_that_address_only(api_client, low_rates):
    assert [register(api_client, n).status_code for n in range(2)] == [201, 201]

    assert_throttled(register(api_client, 2), at_most_seconds=3600)
    assert register(api_client, 3, address="10.1.0.2").status_code == 201


def test_a_forwarded_for_header_of_the_client_does_not_change_its_address(api_client, low_rates):
    for n in range(2):
        register(api_client, n)

    response = register(api_client, 2, HTTP_X_FORWARDED_FOR="192.0.2.7")

    assert_throttled(response, at_most_seconds=3600)


def test_token_requests_over_the_rate_are_429_good_credentials_or_not(api_client, low_rates):
    user = UserFactory()
    responses = [login(api_client, username=user.username, address="10.2.0.1") for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert_throttled(login(api_client, username=user.username, address="10.2.0.1"), at_most_seconds=60)
    assert login(api_client, username=user.username, address="10.2.0.2").status_code == 200


def test_refreshes_over_the_rate_are_429(api_client, low_rates):
    refresh = token_pair(api_client, UserFactory())["refresh"]
    for _ in range(2):
        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
        refresh = response.json()["refresh"]

    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert_throttled(response, at_most_seconds=60)


def test_rate_limits_off_lets_every_request_through(api_client, low_rates, settings):
    settings.RATE_LIMITS_ON = False

    assert {register(api_client, n).status_code for n in range(4)} == {201}


def test_an_unreachable_cache_lets_registrations_through(api_client, low_rates, settings, caplog):
    unreachable = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"},
    }
    with override_settings(CACHES=unreachable):
        statuses = [register(api_client, n).status_code for n in range(3)]

    assert statuses == [201, 201, 201]
    assert "throttle register not applied, the cache is unreachable" in caplog.text
