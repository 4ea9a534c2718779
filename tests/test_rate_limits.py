"""The services' own limits against the real processes: throttles (429 with Retry-After) and the failed-login
lockout at its real limits.

The session's system runs with ``SHOP_RATE_LIMITS=off`` (its tests register and order far faster than shoppers);
the throttle tests start web processes of their own beside it, on the same database and Redis, with limits on.
Requests come from client addresses of their own (127.0.0.x, bound as the source of the connection), so counters
per address are real addresses, not a header, and never lock out the other tests' 127.0.0.1.
"""

import uuid
from collections.abc import Iterator

import pytest
import requests
from requests.adapters import HTTPAdapter

from shopctl.processes import ORDERS, USERS
from tests.admin_pages import admin_login
from tests.conftest import System

PASSWORD = "lantern-Moss-harbour-62"


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(address: str) -> requests.Session:
    """A client whose connections come from ``address`` (any 127.0.0.x reaches a server on 127.0.0.1)."""
    session = requests.Session()
    session.mount("http://", _SourceAddressAdapter(address))
    return session


def assert_throttled(response: requests.Response, *, at_most_seconds: int) -> None:
    assert response.status_code == 429, (response.status_code, response.text[:500])
    body = response.json()
    assert body["type"] == "client_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("throttled", None)]
    assert 1 <= int(response.headers["Retry-After"]) <= at_most_seconds


@pytest.fixture(scope="module")
def limited(system: System) -> Iterator[dict[str, str]]:
    """users_service and orders_service web processes with rate limits on (low rates, from the environment)."""
    rates = {
        "SHOP_RATE_LIMITS": "on",
        "SHOP_THROTTLE_REGISTER": "3/hour",
        "SHOP_THROTTLE_TOKEN": "4/min",
        "SHOP_THROTTLE_REFRESH": "3/min",
        "SHOP_THROTTLE_ORDERS": "3/min",
    }
    urls: dict[str, str] = {}
    names = []
    try:
        for service in (USERS, ORDERS):
            names.append(f"{service.short}-web-limited")
            urls[service.name] = system.start_extra_web(service, name=names[-1], environment=rates)
        yield urls
    finally:
        for name in names:
            system.stop(name)


def register(session: requests.Session, base_url: str, username: str) -> requests.Response:
    return session.post(
        f"{base_url}/api/v1/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=15,
    )


def token(session: requests.Session, base_url: str, username: str, password: str = PASSWORD) -> requests.Response:
    return session.post(f"{base_url}/api/v1/auth/token/", json={"username": username, "password": password}, timeout=15)


# ---------------------------------------------------------------- throttles


def test_the_test_system_runs_without_rate_limits_and_says_so_in_its_log(system):
    for service in ("users-web", "catalog-web", "orders-web"):
        log = system.processes[service].log_path.read_text(errors="replace")
        assert "rate limits are off (SHOP_RATE_LIMITS=off)" in log, service


def test_registrations_over_the_rate_are_429_for_that_address_only(limited):
    users = limited["users_service"]
    crowd, neighbour = client_from("127.0.0.41"), client_from("127.0.0.42")
    run = uuid.uuid4().hex[:6]

    statuses = [register(crowd, users, f"crowd-{run}-{n}").status_code for n in range(3)]

    assert statuses == [201, 201, 201]
    assert_throttled(register(crowd, users, f"crowd-{run}-3"), at_most_seconds=3600)
    assert register(neighbour, users, f"neighbour-{run}").status_code == 201


def test_token_and_refresh_requests_over_their_rates_are_429(limited, system):
    users = limited["users_service"]
    client = client_from("127.0.0.43")
    username = f"limited-{uuid.uuid4().hex[:6]}"
    assert register(client_from("127.0.0.44"), users, username).status_code == 201

    pairs = [token(client, users, username) for _ in range(4)]
    assert [response.status_code for response in pairs] == [200] * 4
    assert_throttled(token(client, users, username), at_most_seconds=60)

    refresh = pairs[-1].json()["refresh"]
    for _ in range(3):
        response = client.post(f"{users}/api/v1/auth/token/refresh/", json={"refresh": refresh}, timeout=15)
        assert response.status_code == 200, response.text
        refresh = response.json()["refresh"]
    refused = client.post(f"{users}/api/v1/auth/token/refresh/", json={"refresh": refresh}, timeout=15)
    assert_throttled(refused, at_most_seconds=60)


def test_orders_over_the_rate_are_429_per_user_across_processes(limited, system):
    # The limited process and the session's orders-web share Redis, but only the limited one counts.
    orders = limited["orders_service"]
    customer, other = system.bearer(user_id=700_001), system.bearer(user_id=700_002)
    body = {"items": [{"product_id": 2_000_000_000, "quantity": 1}]}  # no such product: rejected, no stock moves

    def place(headers: dict[str, str]) -> requests.Response:
        return requests.post(
            f"{orders}/api/v1/orders/",
            json=body,
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            timeout=15,
        )

    assert [place(customer).status_code for _ in range(3)] == [201, 201, 201]
    assert_throttled(place(customer), at_most_seconds=60)
    assert requests.get(f"{orders}/api/v1/orders/", headers=customer, timeout=15).status_code == 200
    assert place(other).status_code == 201


# ---------------------------------------------------------------- the failed-login lockout, at its real limits


def test_five_failed_logins_lock_the_account_for_fifteen_minutes_api_and_admin(system):
    users = system.urls["users_service"]
    username = f"victim-{uuid.uuid4().hex[:6]}"
    assert register(client_from("127.0.0.51"), users, username).status_code == 201
    guesses = [token(client_from(f"127.0.0.{52 + n}"), users, username, password="guess") for n in range(5)]

    locked = token(client_from("127.0.0.58"), users, username)  # the right password, from another address

    assert [response.status_code for response in guesses] == [401] * 5
    assert_throttled(locked, at_most_seconds=900)
    assert int(locked.headers["Retry-After"]) > 890
    _, refused = admin_login(users, "users_service", username, PASSWORD, session=client_from("127.0.0.58"))
    assert refused.status_code == 200
    assert "Too many failed logins" in refused.text


def test_twenty_failed_logins_from_one_address_lock_that_address_only(system):
    users = system.urls["users_service"]
    username = f"bystander-{uuid.uuid4().hex[:6]}"
    assert register(client_from("127.0.0.61"), users, username).status_code == 201
    guesser = client_from("127.0.0.62")
    guesses = [token(guesser, users, f"nobody-{uuid.uuid4().hex[:6]}", password="guess") for _ in range(20)]

    assert [response.status_code for response in guesses] == [401] * 20
    assert_throttled(token(guesser, users, username), at_most_seconds=900)
    assert token(client_from("127.0.0.63"), users, username).status_code == 200
