"""The system when a server it depends on is down, and under races, against the real processes.

The Postgres server stopped for 20 s while orders arrive, a catalog manager's stock PATCH racing
reservations, concurrent POSTs with one Idempotency-Key (users_service, Redis, the workers and the
scheduler stopped: tests/test_degradation.py). Each test that places
orders ends with the reconciliation of tests/test_order_saga.py (stock, confirmed lines, one
notification per order and status, outboxes drained, no dead letter).
"""

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from tests.test_order_saga import TOKEN_ONLY_USERS, Shop, all_settled, deadline_poll, query, reconcile
from tests.test_saga_faults import admin_connection

POSTGRES_OUTAGE_SECONDS = 20
RECOVERY_TIMEOUT_SECONDS = 60


@pytest.fixture
def shop(system) -> Shop:
    deadline_poll(lambda: all_settled(system), timeout=60, interval=0.2, what="earlier orders to settle")
    return Shop(system=system)


@dataclass
class Answer:
    sent: float
    received: float
    status: int
    retry_after: str | None


def every_service_ready(system) -> bool:
    return all(requests.get(f"{url}/health/ready/", timeout=2).status_code == 200 for url in system.urls.values())


def test_orders_arriving_while_postgres_is_stopped_get_503_with_retry_after_and_every_accepted_order_settles(shop):
    # given: two customers placing an order every tenth of a second (after a 503, the same order again with
    # its key, as a client should)
    system = shop.system
    product_id = shop.create_product(stock=10_000)
    users = [TOKEN_ONLY_USERS + 31 + number for number in range(2)]
    attempts: list = []
    placed: list[str | None] = []
    done = threading.Event()

    def customer(user_id: int) -> None:
        while not done.is_set():
            until = time.monotonic() + POSTGRES_OUTAGE_SECONDS + RECOVERY_TIMEOUT_SECONDS
            placed.append(
                shop.place_as_a_client_should([(product_id, 1)], user_id=user_id, until=until, answers=attempts)
            )
            time.sleep(0.1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        customers = [pool.submit(customer, user_id) for user_id in users]
        time.sleep(1)

        # when: the database server stops for 20 s, then starts again
        system.stop_postgres()
        stopped = time.monotonic()
        time.sleep(POSTGRES_OUTAGE_SECONDS)
        restarting = time.monotonic()
        system.start_postgres()
        deadline_poll(
            lambda: every_service_ready(system), timeout=RECOVERY_TIMEOUT_SECONDS, what="every service to be ready"
        )
        time.sleep(2)
        done.set()
        for placing in customers:
            placing.result()
    answers = [
        Answer(sent, received, response.status_code, response.headers.get("Retry-After"))
        for sent, received, response in attempts
        if response is not None
    ]

    # then: never a 500 nor a dropped connection; while it was down, 503 with Retry-After; accepted before and after
    assert len(answers) == len(attempts)
    assert Counter(answer.status for answer in answers).keys() <= {201, 503}, Counter(a.status for a in answers)
    during = [answer for answer in answers if answer.sent > stopped and answer.received < restarting]
    assert len(during) >= 5
    assert {answer.status for answer in during} == {503}
    assert all(answer.retry_after for answer in answers if answer.status == 503)
    assert any(answer.status == 201 for answer in answers if answer.sent < stopped)
    assert any(answer.status == 201 for answer in answers if answer.sent > restarting)

    # and every order was accepted in the end, once, and is confirmed
    assert None not in placed
    deadline_poll(lambda: all_settled(system), timeout=RECOVERY_TIMEOUT_SECONDS, what="accepted orders to settle")
    statuses = Counter(
        dict(
            query(
                system,
                "orders_service",
                "SELECT status, count(*) FROM orders_order WHERE user_id = ANY(%s) GROUP BY status",
                [users],
            )
        )
    )
    ids = set(placed)
    assert statuses == {"confirmed": len(placed)}
    assert len(ids) == len(placed)
    assert shop.available(product_id) == 10_000 - len(placed)
    reconcile(shop)


def test_concurrent_posts_with_one_idempotency_key_place_one_order(shop):
    # given
    product_id = shop.create_product(stock=100)
    user_id = TOKEN_ONLY_USERS + 33
    key = uuid.uuid4().hex
    start = threading.Barrier(16)

    def post(_) -> requests.Response:
        start.wait(timeout=10)
        return shop.place([(product_id, 2)], user_id=user_id, key=key)

    # when: sixteen requests with the same key and body at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(16)))

    # then: one order; every response is that order, or a 409 (the same key still being answered)
    assert {response.status_code for response in responses} <= {201, 409}, [r.status_code for r in responses]
    created = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    for conflict in (response for response in responses if response.status_code == 409):
        assert conflict.json()["errors"][0]["code"]
    [order_id] = created
    listed = requests.get(
        shop.url("orders_service", "orders/"), headers=shop.system.bearer(user_id=user_id), timeout=10
    ).json()
    assert [order["id"] for order in listed["results"]] == [order_id]
    assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"
    assert shop.available(product_id) == 98
    reconcile(shop)


def test_a_stock_patch_racing_reservations_sets_the_stock_and_never_oversells(shop):
    # given: every change of the product's stock row is logged, in the order the row's lock was taken
    system = shop.system
    product_id = shop.create_product(stock=10)
    admin = admin_connection(system)
    with admin.cursor() as cursor:
        cursor.execute("CREATE TABLE catalog.stock_changes (id bigserial PRIMARY KEY, old integer, new integer)")
        cursor.execute(
            "CREATE FUNCTION catalog.log_stock_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS"
            " $$ BEGIN INSERT INTO catalog.stock_changes (old, new) VALUES (OLD.available, NEW.available);"
            " RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER log_stock_change AFTER UPDATE ON catalog.catalog_stock FOR EACH ROW"
            f" WHEN (NEW.product_id = {int(product_id)}) EXECUTE FUNCTION catalog.log_stock_change()"
        )

    def changes() -> list[tuple[int, int]]:
        with admin.cursor() as cursor:
            cursor.execute("SELECT old, new FROM catalog.stock_changes ORDER BY id")
            return cursor.fetchall()

    try:
        # when: 40 orders of one arrive over a few seconds, and a catalog manager's stocktake says 20
        users = [TOKEN_ONLY_USERS + 100 + number for number in range(40)]

        def order(user_id: int) -> requests.Response:
            time.sleep((user_id % 4) * 0.02)
            return shop.place([(product_id, 1)], user_id=user_id)

        with ThreadPoolExecutor(max_workers=4) as pool:
            placing = pool.map(order, users)
            deadline_poll(lambda: len(changes()) >= 3, timeout=20, what="the first reservations")
            patch = requests.patch(
                shop.url("catalog_service", f"products/{product_id}/"),
                json={"stock": 20},
                headers=system.bearer(user_id=900_001, username="maria", roles=["catalog_manager"]),
                timeout=10,
            )
            responses = list(placing)
        assert patch.status_code == 200, patch.text
        assert [response.status_code for response in responses] == [201] * 40
        orders = [shop.settled(r.json()["id"], user_id=user) for r, user in zip(responses, users, strict=True)]
        history = changes()
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS log_stock_change ON catalog.catalog_stock")
            cursor.execute("DROP FUNCTION IF EXISTS catalog.log_stock_change()")
            cursor.execute("DROP TABLE IF EXISTS catalog.stock_changes")
        admin.close()

    # then: the stock never went below zero; the PATCH set it to exactly 20, whatever was reserved before
    # it, and every other change took one for one confirmed order (none lost, none twice)
    assert all(new >= 0 for _, new in history)
    raised = [index for index, (old, new) in enumerate(history) if new > old]
    assert len(raised) == 1, history
    [patched] = raised
    assert history[patched][1] == 20
    taken = [old - new for index, (old, new) in enumerate(history) if index != patched]
    assert set(taken) <= {1}, history
    before, after = patched, len(history) - patched - 1
    assert before <= 10
    assert after >= 1, "no reservation came after the PATCH: no race was tried"
    assert shop.available(product_id) == 20 - after
    statuses = Counter(order["status"] for order in orders)
    assert statuses["confirmed"] == before + after
    assert statuses["confirmed"] + statuses["rejected"] == 40
    shop.initial_stock[product_id] = 20 + before  # a stocktake replaces the count: reconcile from what it set
    reconcile(shop)
