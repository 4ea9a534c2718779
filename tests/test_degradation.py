"""The degradation table of the README, row by row: a real process of the system stopped, each class of endpoint
asked while it is down, and no 500 anywhere.

Redis, users_service, each worker and the scheduler (which publishes the relay's and the re-drive's periodic
work) are stopped here; each test starts what it stopped before it ends, so the system is as it was for the next.
The database: web processes of their own beside the system's, whose Postgres does not answer (connections
refused), on the system's Redis; the saga's fault tests stop and break the system's own connections.
"""

import time
import uuid

import pytest
import requests

from common_testing.auth import TestSigner
from shopctl.launcher import free_port
from shopctl.processes import CATALOG, ORDERS, PROCESSES_BY_NAME, USERS, process
from tests.admin_pages import admin_login
from tests.test_order_saga import Shop, all_settled, deadline_poll, reconcile
from tests.web_workers import connection_to_every_worker

PASSWORD = "meadow-Copper-lantern-31"
UNREACHABLE = "users_service is unreachable"


@pytest.fixture
def shop(system) -> Shop:
    deadline_poll(lambda: all_settled(system), timeout=60, interval=0.2, what="earlier orders to settle")
    return Shop(system=system)


def api(system, service, path: str) -> str:
    return f"{system.url(service)}/api/v1/{path}"


def customer_with_a_real_token(system) -> tuple[int, dict[str, str]]:
    """A registered customer and an access token users_service signed (verified through its JWKS elsewhere)."""
    username = f"degraded-{uuid.uuid4().hex[:8]}"
    registered = requests.post(
        api(system, USERS, "auth/register/"),
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=15,
    )
    assert registered.status_code == 201, registered.text
    pair = requests.post(
        api(system, USERS, "auth/token/"), json={"username": username, "password": PASSWORD}, timeout=15
    )
    assert pair.status_code == 200, pair.text
    return registered.json()["id"], {"Authorization": f"Bearer {pair.json()['access']}"}


def place(system, headers: dict[str, str], product_id: int) -> requests.Response:
    return place_at(system.url(ORDERS), headers, product_id)


def restart(system, kind_name: str) -> None:
    kind = PROCESSES_BY_NAME[kind_name]
    system.start_kind(kind)
    if kind.role == "web":
        system.wait_until_ready(kind.service)


# ---------------------------------------------------------------- Postgres not answering


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert response.headers["Retry-After"] == "5"
    body = response.json()
    assert body["type"] == "server_error"
    assert [error["code"] for error in body["errors"]] == ["service_unavailable"]


def test_while_postgres_does_not_answer_the_api_is_503_with_retry_after_and_cached_pages_are_served(shop):
    system = shop.system
    product_id = shop.create_product(stock=5)
    cached = requests.get(api(system, CATALOG, f"products/{product_id}/"), timeout=15)  # now in the cache
    assert cached.status_code == 200
    # given: a web process of each service whose database is a port nothing listens on
    dead_database = f"postgres://nobody:nothing@127.0.0.1:{free_port()}/gone"
    names = {service.name: f"{service.short}-web-no-database" for service in (USERS, CATALOG, ORDERS)}
    urls = {}
    try:
        for service in (USERS, CATALOG, ORDERS):
            urls[service.name] = system.start_extra_web(
                service, name=names[service.name], environment={"DATABASE_URL": dead_database}
            )
        users, catalog, orders = (urls[service.name] for service in (USERS, CATALOG, ORDERS))

        # then: the token endpoint and registration are 503s to retry, not 500s
        login = requests.post(f"{users}/api/v1/auth/token/", json={"username": "a", "password": "b"}, timeout=15)
        assert_unavailable(login)
        registration = requests.post(
            f"{users}/api/v1/auth/register/",
            json={"username": "someone", "email": "someone@example.com", "password": PASSWORD},
            timeout=15,
        )
        assert_unavailable(registration)
        # a catalogue page the cache has is served, and says so; one it lacks is a 503
        # (asked under the host name the page was cached for, as every replica is behind one name)
        same_host = {"Host": system.url(CATALOG).removeprefix("http://")}
        served = requests.get(f"{catalog}/api/v1/products/{product_id}/", headers=same_host, timeout=15)
        assert served.status_code == 200
        assert served.headers["X-Cache"] == "hit"
        assert served.json() == cached.json()
        assert_unavailable(requests.get(f"{catalog}/api/v1/products/?search={uuid.uuid4().hex}", timeout=15))
        # placing an order is a 503 (nothing was accepted), and readiness names the database, nothing more
        assert_unavailable(place_at(orders, system.bearer(user_id=710_001), product_id))
        for url in urls.values():
            ready = requests.get(f"{url}/health/ready/", timeout=15)
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "checks": {"database": "unavailable", "broker": "ok"}}
    finally:
        for name in names.values():
            if name in system.processes:
                system.stop(name)


def place_at(orders_url: str, headers: dict[str, str], product_id: int) -> requests.Response:
    return requests.post(
        f"{orders_url}/api/v1/orders/",
        json={"items": [{"product_id": product_id, "quantity": 1}]},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        timeout=15,
    )


# ---------------------------------------------------------------- users_service down


def test_while_users_service_is_down_tokens_verify_orders_are_accepted_and_the_admins_say_why(shop):
    system = shop.system
    product_id = shop.create_product(stock=20)
    user_id, headers = customer_with_a_real_token(system)
    # given: catalog and orders have verified a token of users_service's real key (they fetched its JWKS)
    for service in (CATALOG, ORDERS):
        assert requests.get(api(system, service, "auth/whoami/"), headers=headers, timeout=10).status_code == 200

    web = process(USERS, "web").name
    system.stop(web)
    try:
        # then: every web worker of catalog and orders still verifies it (a connection to each, tests/web_workers.py)
        for service in (CATALOG, ORDERS):
            for worker in connection_to_every_worker(system, service.name):
                status, body = worker.get("/api/v1/auth/whoami/", headers=headers)
                worker.connection.close()
                assert status == 200, (service.name, worker.pid, body)
        # orders are accepted, and a token of a key nobody published is still a 401, not a 500
        accepted = place(system, headers, product_id)
        assert accepted.status_code == 201, accepted.text
        stranger = TestSigner(kid="never-published", issuer=system.signer.issuer).token(user_id=user_id)
        unknown = requests.get(
            api(system, CATALOG, "auth/whoami/"), headers={"Authorization": f"Bearer {stranger}"}, timeout=10
        )
        assert unknown.status_code == 401
        # the admins of catalog and orders say users_service is unreachable
        for service in (CATALOG, ORDERS):
            _, response = admin_login(system.url(service), service.name, "an-operator", "any-password")
            assert response.status_code == 200
            assert UNREACHABLE in response.text
        # and the saga does not need users_service's web server
        assert shop.settled(accepted.json()["id"], user_id=user_id)["status"] == "confirmed"
    finally:
        restart(system, web)
    reconcile(shop)


# ---------------------------------------------------------------- Redis down


def test_while_redis_is_down_every_endpoint_class_answers_without_a_500(shop):
    system = shop.system
    product_id = shop.create_product(stock=20)
    user_id, headers = customer_with_a_real_token(system)
    username = requests.get(api(system, USERS, "users/me/"), headers=headers, timeout=10).json()["username"]

    system.stop_redis()
    try:
        # public catalogue reads come from the database
        products = requests.get(api(system, CATALOG, "products/"), timeout=15)
        assert products.status_code == 200
        assert products.headers["X-Cache"] == "miss"
        assert requests.get(api(system, CATALOG, f"products/{product_id}/"), timeout=15).status_code == 200
        # logging in works (the failed-login counters fail open), and tokens verify
        login = requests.post(
            api(system, USERS, "auth/token/"), json={"username": username, "password": PASSWORD}, timeout=15
        )
        assert login.status_code == 200, login.text
        assert requests.get(api(system, ORDERS, "orders/"), headers=headers, timeout=15).status_code == 200
        # orders are accepted into the outbox
        accepted = place(system, headers, product_id)
        assert accepted.status_code == 201, accepted.text
        # readiness names the broker, and only that
        for service in (USERS, CATALOG, ORDERS):
            ready = requests.get(f"{system.url(service)}/health/ready/", timeout=15)
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}
    finally:
        system.start_redis_again()

    assert shop.settled(accepted.json()["id"], user_id=user_id)["status"] == "confirmed"
    reconcile(shop)


# ---------------------------------------------------------------- a worker or the scheduler down


@pytest.mark.parametrize("stopped", ["catalog-worker", "orders-worker", "users-worker", "scheduler"])
def test_while_a_worker_or_the_scheduler_is_down_orders_are_accepted_and_settle(shop, stopped):
    system = shop.system
    product_id = shop.create_product(stock=20)
    user_id, headers = customer_with_a_real_token(system)

    system.stop(stopped)
    try:
        accepted = place(system, headers, product_id)
        assert accepted.status_code == 201, accepted.text
        order_id = accepted.json()["id"]
        read = requests.get(api(system, ORDERS, f"orders/{order_id}/"), headers=headers, timeout=15)
        assert read.status_code == 200
        if stopped in ("catalog-worker", "orders-worker"):
            # the saga waits for the worker: nothing is lost, the order is still pending
            time.sleep(1)
            assert shop.order(order_id, user_id=user_id)["status"] == "pending"
        else:
            # the scheduler (relay, re-drive) and the notifications' worker are not on the saga's path
            assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"
    finally:
        restart(system, stopped)

    assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"
    notifications = deadline_poll(
        lambda: [
            item
            for item in requests.get(api(system, USERS, "users/me/notifications/"), headers=headers, timeout=10)
            .json()
            .get("results", [])
            if item["order_id"] == order_id
        ],
        timeout=60,
        interval=0.3,
        what="the order's notification",
    )
    assert len(notifications) == 1
    reconcile(shop)
