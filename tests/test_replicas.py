"""Several replicas of every process kind, killed with SIGKILL at random moments while orders flow; and the
scheduler, which runs once by design, started twice by mistake.

The session's system (tests/conftest.py) runs one process of each kind; ``scaled_up`` adds replicas of the
workers (each runs its service's saga steps and its outbox relay, the periodic task ``<queue>.relay_outbox``)
and of the web servers (each on its service's port + 100 per replica), reloads the gateway over them as
``up --scale`` does, and after the test takes them away again and reloads the gateway back. The customers
talk to the gateway; a request that dies with its web server (or with the gateway) is retried by the customer
with the same Idempotency-Key, as behind any balancer (the gateway itself retries only what is safe to).

A killed worker's unacknowledged message comes back after the visibility timeout (20 s in the tests,
``shopctl.launcher.FAST_SAGA_ENVIRONMENT``; 300 s by default), so the reconciliation waits for it: until then
an order is already settled (the saga re-drives it), but a notification may still be on its way.
"""

import dataclasses
import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from shopctl.launcher import FAST_SAGA_ENVIRONMENT, replica_name
from shopctl.processes import DEPLOYED, PROCESSES_BY_NAME, ProcessKind
from tests.test_order_saga import TOKEN_ONLY_USERS, Shop, all_settled, deadline_poll, query, reconcile

# The random moments are drawn from this seed (printed with the kills); set it to replay a run.
SEED = int(os.environ.get("SHOP_REPLICA_TEST_SEED", "20261201"))
SCALE = {"users-web": 2, "catalog-web": 2, "orders-web": 2, "users-worker": 2, "catalog-worker": 3, "orders-worker": 2}
LOAD_SECONDS = 14
ORDERS_PER_SECOND = 10
CUSTOMERS = 12
# A request is retried (same Idempotency-Key) while its service is down, for at most this long.
RETRY_SECONDS = 60
# The visibility timeout of the tests (20 s) and kombu's sweep of dead workers' messages (every 10 s), with room.
REDELIVERY_SECONDS = 100
FIRST_CUSTOMER = TOKEN_ONLY_USERS + 7000
SAGA_TIMEOUT_SECONDS = float(FAST_SAGA_ENVIRONMENT["ORDERS_SAGA_TIMEOUT_SECONDS"])


@pytest.fixture
def shop(system) -> Shop:
    deadline_poll(lambda: all_settled(system), timeout=60, interval=0.2, what="earlier orders to settle")
    return Shop(system=system)


def ensure_running(system, kind, replica: int) -> None:
    name = replica_name(kind, replica)
    running = system.processes.get(name)
    if running is None or running.popen.poll() is not None:
        system.processes.pop(name, None)
        system.start_kind(kind, replica=replica)


@pytest.fixture
def scaled_up(system):
    """The system with ``SCALE``'s replicas behind the gateway; afterwards back to what it ran before (the gateway
    reloaded over it), each process running."""
    before = dict(system.scale)
    system.set_scale({**before, **SCALE})
    yield system
    for kind in DEPLOYED:  # whatever a failed test left killed, so the gateway and the replicas stop cleanly
        for replica in range(1, system.replicas(kind) + 1):
            ensure_running(system, kind, replica)
    for kind in DEPLOYED:
        if kind.role == "web" and kind.service:
            for replica in range(1, system.replicas(kind) + 1):
                system.wait_until_ready(kind.service, replica=replica)
    system.set_scale(before)


def with_retries(system, method: str, path: str, **kwargs) -> requests.Response:
    """The request through the gateway, tried again while it or the web server is down or answers 5xx (a request
    that died with its server), as a client of any balancer does."""
    url = f"{system.gateway_url}/api/v1/{path}"
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            response = requests.request(method, url, timeout=5, verify=str(system.ca_file), **kwargs)
            if response.status_code < 500:
                return response
            last = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as error:
            last = repr(error)
        if time.monotonic() > deadline:
            pytest.fail(f"{method} {url} kept failing for {RETRY_SECONDS}s: {last}")
        time.sleep(0.2)


@dataclass
class Customers:
    """Many customers ordering and cancelling at a steady rate; every request retried until it is answered."""

    shop: Shop
    products: list[int]
    rng: random.Random
    placed: dict[str, int] = field(default_factory=dict)  # order id -> its customer
    cancel_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def place_one(self, number: int) -> None:
        customer = FIRST_CUSTOMER + number % CUSTOMERS
        with self.lock:
            lines = self.rng.sample(self.products, self.rng.choice([1, 1, 2]))
            items = [{"product_id": product, "quantity": self.rng.randint(1, 3)} for product in lines]
            cancel = self.rng.random() < 0.3
        headers = {**self.shop.system.bearer(user_id=customer), "Idempotency-Key": uuid.uuid4().hex}
        response = with_retries(self.shop.system, "POST", "orders/", json={"items": items}, headers=headers)
        assert response.status_code == 201, response.text
        order_id = response.json()["id"]
        with self.lock:
            self.placed[order_id] = customer
        if cancel:
            self.cancel_once_settled(order_id, customer)

    def cancel_once_settled(self, order_id: str, customer: int) -> None:
        headers = self.shop.system.bearer(user_id=customer)
        deadline = time.monotonic() + RETRY_SECONDS
        while time.monotonic() < deadline:
            order = with_retries(self.shop.system, "GET", f"orders/{order_id}/", headers=headers)
            if order.json()["status"] != "pending":
                break
            time.sleep(0.3)
        response = with_retries(self.shop.system, "POST", f"orders/{order_id}/cancel/", headers=headers)
        assert response.status_code in (202, 409), response.text  # 409: rejected, nothing to cancel
        with self.lock:
            self.cancel_requests += response.status_code == 202


@dataclass
class Kill:
    at: float
    kind: ProcessKind
    replica: int
    down_seconds: float

    def __str__(self) -> str:
        return f"{replica_name(self.kind, self.replica)} at {self.at:.1f}s for {self.down_seconds:.1f}s"


def kill_schedule(system, rng: random.Random) -> list[Kill]:
    """One replica of every process kind the system runs, the gateway too, each at a random moment of the load,
    down for a random while."""
    kills = [
        Kill(
            at=rng.uniform(0.5, LOAD_SECONDS - 3),
            kind=kind,
            replica=rng.randint(1, system.replicas(kind)),
            down_seconds=rng.uniform(0.2, 2.0),
        )
        for kind in DEPLOYED
    ]
    return sorted(kills, key=lambda kill: kill.at)


def run_kills(system, kills: list[Kill], started: float, stop: threading.Event, errors: list[BaseException]) -> None:
    """Each kill at its moment: SIGKILL (the process and its children), a while down, then started again. Once
    ``stop`` is set (the load failed) no more kills, and a process down is started at once: the fixture's
    teardown then finds every process it knows of, and no restart of the killer's comes after it (a second
    gateway on the same ports, a replica the teardown no longer knows of)."""
    try:
        for kill in kills:
            if stop.wait(max(0.0, started + kill.at - time.monotonic())):
                return
            system.kill(replica_name(kill.kind, kill.replica))
            stop.wait(kill.down_seconds)
            system.start_kind(kill.kind, replica=kill.replica)
    except BaseException as error:  # the test fails on it, in its own thread
        errors.append(error)
        raise


def duplicates_dropped(system) -> int:
    """Deliveries the workers' inboxes recognised as already applied, so far (their logs say so)."""
    logs = {running.log_path for name, running in system.processes.items() if "-worker" in name}
    return sum(log.read_text(errors="replace").count("duplicate delivery, already applied") for log in logs)


def expected_notifications(statuses: dict[str, str]) -> Counter:
    """Each order's notifications: its outcome, and a cancelled order was confirmed first."""
    expected = Counter()
    for order_id, status in statuses.items():
        for told in ("confirmed", "cancelled") if status == "cancelled" else (status,):
            expected[(order_id, told)] += 1
    return expected


def notifications_of(system, order_ids: list[str]) -> Counter:
    rows = query(
        system,
        "users_service",
        "SELECT order_id::text, order_status FROM notifications_notification WHERE order_id::text = ANY(%s)",
        [order_ids],
    )
    return Counter(rows)


def test_replicas_of_every_kind_killed_at_random_moments_lose_nothing_and_do_nothing_twice(shop, scaled_up, capsys):
    # given: three catalog workers, two of every other worker and web server, stock for about a third of the orders
    system = scaled_up
    rng = random.Random(SEED)  # noqa: S311 - reproducible moments, not secrets
    products = [shop.create_product(stock=40, price="3.00") for _ in range(4)]
    customers = Customers(shop=shop, products=products, rng=random.Random(rng.random()))  # noqa: S311
    kills = kill_schedule(system, rng)
    duplicates_before = duplicates_dropped(system)

    # when: orders and cancellations flow at a steady rate while one replica of each kind is killed and restarted
    started = time.monotonic()
    killer_errors: list[BaseException] = []
    stop_killing = threading.Event()
    killer = threading.Thread(
        target=run_kills, args=(system, kills, started, stop_killing, killer_errors), name="killer"
    )
    killer.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            futures = []
            for number in range(LOAD_SECONDS * ORDERS_PER_SECOND):
                time.sleep(max(0.0, started + number / ORDERS_PER_SECOND - time.monotonic()))
                futures.append(pool.submit(customers.place_one, number))
            for future in futures:
                future.result()
    except BaseException:
        stop_killing.set()
        raise
    finally:
        killer.join(timeout=60)
    assert not killer.is_alive()
    assert killer_errors == []
    with capsys.disabled():
        print(
            f"\nreplicas (seed {SEED}): {len(customers.placed)} orders, {customers.cancel_requests} cancelled;"
            f" killed {', '.join(str(kill) for kill in kills)}"
        )

    # then: every order settled, nothing unsent or parked, stock taken == reserved == confirmed lines (no oversell)
    assert len(customers.placed) == LOAD_SECONDS * ORDERS_PER_SECOND
    reconcile(shop)
    settled_after = time.monotonic() - started
    order_ids = list(customers.placed)
    statuses = dict(
        query(
            system,
            "orders_service",
            "SELECT id::text, status FROM orders_order WHERE id::text = ANY(%s)",
            [order_ids],
        )
    )
    assert len(statuses) == len(order_ids)
    outcomes = Counter(statuses.values())
    assert set(outcomes) <= {"confirmed", "rejected", "cancelled"}
    assert outcomes["rejected"] > 0, "the stock was meant to run out: nothing shows that it was never oversold"
    for product_id in products:
        assert shop.available(product_id) >= 0

    # each order applied once in catalog: one reservation, in the state its order ended in
    reservations = dict(
        query(
            system,
            "catalog_service",
            "SELECT order_id::text, status FROM reservations_reservation WHERE order_id::text = ANY(%s)",
            [order_ids],
        )
    )
    expected_reservation = {"confirmed": "reserved", "rejected": "rejected", "cancelled": "released"}
    assert reservations == {order_id: expected_reservation[status] for order_id, status in statuses.items()}

    # each order's customer told exactly once per status, once a dead worker's message has come back
    expected = expected_notifications(statuses)
    deadline_poll(
        lambda: notifications_of(system, order_ids) == expected,
        timeout=REDELIVERY_SECONDS,
        interval=1,
        what="one notification per order and status",
    )
    assert all(system.processes[name].popen.poll() is None for name in system.processes)
    reconcile(shop)
    duplicates = duplicates_dropped(system) - duplicates_before
    with capsys.disabled():
        print(
            f"replicas: reconciled {settled_after:.0f}s after the load began;"
            f" deliveries the inboxes recognised as duplicates and dropped: {duplicates}"
        )


def scheduler_sends(log_text: str, task: str) -> int:
    return log_text.count(f"Sending due task {task}")


def test_two_schedulers_by_mistake_publish_periodic_work_twice_and_no_order_is_driven_more_often(shop):
    """What keeps the periodic work from being done twice: an order is re-driven only once its last message is
    older than the saga timeout (``driven_at``, rows claimed with SKIP LOCKED), and the outbox relay sends only
    unsent rows, claimed the same way. So a second scheduler doubles the periodic tasks, not their effects."""
    # given: a second scheduler, as on another machine (a schedule file of its own); catalog's worker stopped,
    # so the orders stay pending and are re-driven
    system = shop.system
    scheduler = PROCESSES_BY_NAME["scheduler"]
    elsewhere = dataclasses.replace(system.site, state_dir=system.workdir / "second-scheduler")
    Path(elsewhere.state_dir).mkdir(exist_ok=True)
    first_log_offset = len(system.processes["scheduler"].log_path.read_text(errors="replace"))
    second = system.start(
        "scheduler-by-mistake",
        scheduler.command(elsewhere),
        cwd=Path(scheduler.cwd(elsewhere)),
        env=system.scheduler_environment(),
    )
    catalog_worker = PROCESSES_BY_NAME["catalog-worker"]
    system.stop(catalog_worker.name)
    product_id = shop.create_product(stock=20)
    try:
        # when
        placed_at = time.monotonic()
        responses = [shop.place([(product_id, 2)], user_id=TOKEN_ONLY_USERS + 7100 + n) for n in range(5)]
        assert [response.status_code for response in responses] == [201] * 5
        order_ids = [response.json()["id"] for response in responses]
        time.sleep(SAGA_TIMEOUT_SECONDS * 2.5)
        sent = dict(
            query(
                system,
                "orders_service",
                "SELECT payload->>'order_id', count(*) FROM messaging_outboxmessage"
                " WHERE name = 'catalog.reserve_stock' AND payload->>'order_id' = ANY(%s) GROUP BY 1",
                [order_ids],
            )
        )
        held_for = time.monotonic() - placed_at

        # then: both schedulers sent the re-drive, several times each ...
        first_log = system.processes["scheduler"].log_path.read_text(errors="replace")[first_log_offset:]
        second_log = second.log_path.read_text(errors="replace")
        assert scheduler_sends(first_log, "orders.redrive_stuck_orders") >= 2
        assert scheduler_sends(second_log, "orders.redrive_stuck_orders") >= 2
        assert scheduler_sends(second_log, "orders.relay_outbox") >= 2
        # ... yet each order was re-driven no more often than one scheduler drives it: once per saga timeout
        most = 1 + int(held_for // SAGA_TIMEOUT_SECONDS)
        assert set(sent) == set(order_ids)
        assert all(2 <= count <= most for count in sent.values()), (sent, most)
    finally:
        system.stop(second.name)
        ensure_running(system, catalog_worker, 1)

    # and once catalog's worker is back, each order is reserved once, whichever of its requests comes first
    outcomes = {
        shop.settled(order_id, user_id=TOKEN_ONLY_USERS + 7100 + n)["status"] for n, order_id in enumerate(order_ids)
    }
    assert outcomes == {"confirmed"}
    assert shop.available(product_id) == 10
    reservations = query(
        system,
        "catalog_service",
        "SELECT count(*) FROM reservations_reservation WHERE order_id::text = ANY(%s)",
        [order_ids],
    )
    assert reservations == [(5,)]
    expected = expected_notifications(dict.fromkeys(order_ids, "confirmed"))
    deadline_poll(
        lambda: notifications_of(system, order_ids) == expected, timeout=20, what="one notification per order"
    )
    reconcile(shop)
