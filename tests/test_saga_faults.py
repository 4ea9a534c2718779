"""The order saga under faults: the broker down, a worker killed, the database dropping its connections,
duplicates, a message that always fails.

Each test ends with the same reconciliation as tests/test_order_saga.py.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import redis

from tests.conftest import ROOT, start_worker
from tests.test_order_saga import TOKEN_ONLY_USERS, Shop, all_settled, deadline_poll, query, reconcile


@pytest.fixture
def shop(system) -> Shop:
    deadline_poll(lambda: all_settled(system), timeout=60, interval=0.2, what="earlier orders to settle")
    return Shop(system=system)


def admin_connection(system):
    """The cluster admin on this run's database (to inject a fault the way an operator's mistake would)."""
    parts = urlsplit(system.admin_database_url)
    connection = psycopg2.connect(urlunsplit((parts.scheme, parts.netloc, f"/{system.database_name}", "", "")))
    connection.autocommit = True
    return connection


def test_orders_placed_while_redis_is_down_are_accepted_and_all_settle_once_it_is_back(shop):
    # given
    product_id = shop.create_product(stock=50)
    shop.system.stop_redis()
    try:
        # when
        started = time.monotonic()
        responses = [shop.place([(product_id, 2)], user_id=TOKEN_ONLY_USERS + 21) for _ in range(5)]
        elapsed = time.monotonic() - started

        # then: accepted at once, and waiting
        assert [response.status_code for response in responses] == [201] * 5
        assert elapsed < 10
        assert {shop.order(r.json()["id"], user_id=TOKEN_ONLY_USERS + 21)["status"] for r in responses} == {"pending"}
    finally:
        shop.system.start_redis_again()

    statuses = {shop.settled(response.json()["id"], user_id=TOKEN_ONLY_USERS + 21)["status"] for response in responses}
    assert statuses == {"confirmed"}
    assert shop.available(product_id) == 40
    reconcile(shop)


def test_a_worker_killed_mid_reservation_is_restarted_and_the_order_settles_once(shop):
    # given: the next reservation pauses inside its transaction, after taking the stock
    system = shop.system
    product_id = shop.create_product(stock=10)
    pid_file = system.reserve_delay_file.with_name(f"{system.reserve_delay_file.name}.pid")
    pid_file.unlink(missing_ok=True)
    system.reserve_delay_file.write_text("30")
    try:
        response = shop.place([(product_id, 3)], user_id=TOKEN_ONLY_USERS + 22)
        assert response.status_code == 201
        paused = deadline_poll(lambda: pid_file.exists() and pid_file.read_text(), timeout=20, what="the pause")
        worker_pid = int(paused)
    finally:
        system.reserve_delay_file.unlink(missing_ok=True)
    worker = system.processes["catalog-worker"]
    assert worker_pid == worker.popen.pid  # the task runs in the worker process itself (the solo pool)

    # when: the worker dies with the transaction open and the message unacknowledged, and its supervisor
    # starts a new one
    os.kill(worker_pid, signal.SIGKILL)
    worker.popen.wait(timeout=10)
    start_worker(system, "catalog_service")

    # then: the transaction was rolled back and the saga drives the order on (its timeout re-sends the
    # request); the stock is taken once, whichever copy of the request comes first
    order = shop.settled(response.json()["id"], user_id=TOKEN_ONLY_USERS + 22)
    assert order["status"] == "confirmed"
    assert shop.available(product_id) == 7
    reservations = query(
        system, "catalog_service", "SELECT count(*) FROM reservations_reservation WHERE order_id = %s", [order["id"]]
    )
    assert reservations == [(1,)]
    assert system.processes["catalog-worker"].popen.poll() is None
    reconcile(shop)


def test_the_same_message_delivered_three_times_has_one_effect(shop):
    # given: a reservation paused mid-transaction, its message held unacknowledged by the worker
    system = shop.system
    product_id = shop.create_product(stock=10)
    pid_file = system.reserve_delay_file.with_name(f"{system.reserve_delay_file.name}.pid")
    pid_file.unlink(missing_ok=True)
    system.reserve_delay_file.write_text("2")
    broker = redis.Redis.from_url(system.redis_url)
    try:
        response = shop.place([(product_id, 3)], user_id=TOKEN_ONLY_USERS + 23)
        deadline_poll(pid_file.exists, timeout=20, what="the pause")
        system.reserve_delay_file.unlink()

        # when: the very same message (same id) is delivered twice more, one copy while the first is in flight
        def held_message():
            # This order's request; an earlier test may have left another one unacknowledged (a killed worker's
            # message waits there for the visibility timeout).
            for raw in broker.hvals("unacked"):
                message, _exchange, _routing_key = json.loads(raw)
                if message["headers"]["task"] != "catalog.reserve_stock":
                    continue
                _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                if kwargs["message"]["payload"]["order_id"] == response.json()["id"]:
                    return message
            return None

        message = deadline_poll(held_message, timeout=10, what="the unacknowledged message")
        for _ in range(2):
            # A copy as the broker would redeliver it: same message and task id, its own delivery tag.
            copy = {**message, "properties": {**message["properties"], "delivery_tag": str(uuid.uuid4())}}
            broker.lpush("catalog", json.dumps(copy))
    finally:
        system.reserve_delay_file.unlink(missing_ok=True)
        broker.close()

    # then
    order = shop.settled(response.json()["id"], user_id=TOKEN_ONLY_USERS + 23)
    assert order["status"] == "confirmed"
    message_id = message["headers"]["id"]
    deadline_poll(
        lambda: (
            system.processes["catalog-worker"]
            .log_path.read_text(errors="replace")
            .count(f"{message_id}: duplicate delivery")
            == 2
        ),
        timeout=20,
        what="both copies to be recognised as duplicates",
    )
    assert shop.available(product_id) == 7
    inbox = query(
        system, "catalog_service", "SELECT count(*) FROM messaging_inboxmessage WHERE message_id = %s", [message_id]
    )
    assert inbox == [(1,)]
    reservations = query(
        system, "catalog_service", "SELECT count(*) FROM reservations_reservation WHERE order_id = %s", [order["id"]]
    )
    assert reservations == [(1,)]
    reconcile(shop)


def test_a_message_that_always_fails_is_parked_after_bounded_attempts_and_replays(shop):
    # given: users_service cannot record notifications (a trigger refuses every insert)
    system = shop.system
    admin = admin_connection(system)
    with admin.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION users.refuse_notifications() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'injected fault: notifications refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_notifications BEFORE INSERT ON users.notifications_notification"
            " FOR EACH ROW EXECUTE FUNCTION users.refuse_notifications()"
        )
    try:
        product_id = shop.create_product(stock=10)
        order = shop.settled(
            shop.place([(product_id, 1)], user_id=TOKEN_ONLY_USERS + 24).json()["id"], user_id=TOKEN_ONLY_USERS + 24
        )
        assert order["status"] == "confirmed"

        # when: the notification fails on every attempt
        parked = deadline_poll(
            lambda: query(
                system,
                "users_service",
                "SELECT message_id, attempts, error FROM messaging_deadletter WHERE state = 'parked'"
                " AND message->'payload'->>'order_id' = %s",
                [order["id"]],
            ),
            timeout=60,
            interval=0.2,
            what="the dead letter",
        )
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS refuse_notifications ON users.notifications_notification")
            cursor.execute("DROP FUNCTION IF EXISTS users.refuse_notifications()")
        admin.close()

    # then: parked once, after the bounded attempts, with its error
    [(message_id, attempts, error)] = parked
    assert attempts == 5
    assert "injected fault: notifications refused" in error
    assert query(
        system, "users_service", "SELECT count(*) FROM notifications_notification WHERE order_id = %s", [order["id"]]
    ) == [(0,)]

    # when: an operator replays it (the same function as the admin's replay action)
    replay = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "dead_letters", "replay", str(message_id)],
        cwd=ROOT / "users_service",
        env=system.service_environment("users_service"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert replay.returncode == 0, replay.stderr

    # then
    deadline_poll(
        lambda: (
            query(
                system,
                "users_service",
                "SELECT count(*) FROM notifications_notification WHERE order_id = %s",
                [order["id"]],
            )
            == [(1,)]
        ),
        timeout=20,
        what="the replayed notification",
    )
    states = query(
        system, "users_service", "SELECT state FROM messaging_deadletter WHERE message_id = %s", [message_id]
    )
    assert states == [("replayed",)]
    reconcile(shop)


def test_orders_keep_settling_while_many_arrive_during_a_broker_restart(shop):
    product_id = shop.create_product(stock=1000)

    def place_some():
        return [shop.place([(product_id, 1)], user_id=TOKEN_ONLY_USERS + 25) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=1) as pool:
        placing = pool.submit(place_some)
        time.sleep(0.2)
        shop.system.stop_redis()
        time.sleep(1)
        shop.system.start_redis_again()
        responses = placing.result()

    assert [response.status_code for response in responses] == [201] * 10
    assert {shop.settled(r.json()["id"], user_id=TOKEN_ONLY_USERS + 25)["status"] for r in responses} == {"confirmed"}
    assert shop.available(product_id) == 990
    reconcile(shop)


def test_orders_settle_after_the_database_drops_every_connection(shop):
    # given: every process of the three services holds a database connection, as after some traffic
    product_id = shop.create_product(stock=100)
    warm = shop.place([(product_id, 1)], user_id=TOKEN_ONLY_USERS + 26)
    assert shop.settled(warm.json()["id"], user_id=TOKEN_ONLY_USERS + 26)["status"] == "confirmed"

    # when: the database drops them all, as a restart does
    connection = admin_connection(shop.system)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        [(terminated,)] = cursor.fetchall()
    connection.close()
    responses = [shop.place([(product_id, 1)], user_id=TOKEN_ONLY_USERS + 26) for _ in range(5)]

    # then: web requests reconnect at once (their health check), workers on the retry of their first task
    assert terminated >= 4  # at least a web server and the three workers were connected
    assert [response.status_code for response in responses] == [201] * 5
    assert {shop.settled(r.json()["id"], user_id=TOKEN_ONLY_USERS + 26)["status"] for r in responses} == {"confirmed"}
    assert shop.available(product_id) == 94
    reconcile(shop)
