"""``./manage_all.sh chaos [--minutes N] [--seed S]``: a steady mixed load while random processes die.

It starts the whole system as the cross-service tests do (``shopctl.launcher``: its own throwaway
Postgres cluster, Redis server, free ports, production settings), then for N minutes:

- shoppers browse, register, log in, order (each order with an ``Idempotency-Key``, retried with the same
  key after a 503 or a dropped connection, as a client should) and cancel confirmed orders;
- every few seconds one process is stopped (SIGTERM) or killed (SIGKILL) at random, a web server, a
  worker, the scheduler (which sets off the outbox relays and the saga's re-drive), Redis or Postgres,
  and started again after a few seconds, as its supervisor would.

Then it waits for the system to settle, answers every order still unanswered (same key), and prints the
reconciliation (``shopctl.reconciliation``) with what the clients saw. It exits non-zero on any loss
(an order a client was told was accepted that does not exist, or that did not settle), any duplicate
(one key, two orders; an order no client placed), any 5xx other than a 503, or any disagreement of the
reconciliation. Every loop is bounded in time; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from shopctl import reconciliation
from shopctl.launcher import System, running_system, throwaway_cluster, wait_for
from shopctl.processes import PROCESSES, SERVICES

SHOPPERS = 4
SETTLE_TIMEOUT_SECONDS = 180
REQUEST_TIMEOUT_SECONDS = 10
PASSWORD = "chaos-Marmot-lantern-83"  # noqa: S105 - the shoppers' own, in a throwaway system
MANAGER = {"user_id": 900_001, "username": "chaos-manager", "roles": ["catalog_manager"]}
PRODUCTS = 6
INITIAL_STOCK = 500
# The gateway and Prometheus are not on the shoppers' path (they call each service directly).
TARGETS = (*(kind.name for kind in PROCESSES if kind.role in ("web", "worker", "scheduler")), "redis", "postgres")


@dataclass
class Customer:
    username: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PlacedOrder:
    """One order a shopper means to place: its key and body, and what the service answered for it."""

    key: str
    customer: Customer
    body: dict[str, Any]
    order_ids: set[str] = field(default_factory=set)  # every id a 201 for this key named (one, or a duplicate)


@dataclass
class Clients:
    """What the shoppers did and saw, shared by their threads."""

    system: System
    products: list[int]
    rng: random.Random
    customers: list[Customer] = field(default_factory=list)
    orders: list[PlacedOrder] = field(default_factory=list)
    unanswered: list[PlacedOrder] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, service: str, path: str) -> str:
        return f"{self.system.urls[service]}/api/v1/{path}"

    def call(self, action: str, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        """One request; its outcome counted. None when the service could not be reached."""
        try:
            response = requests.request(method, url, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs)
        except requests.RequestException as error:
            with self.lock:
                self.outcomes[(action, "unreachable")] += 1
            if isinstance(error, requests.Timeout):
                with self.lock:
                    self.outcomes[(action, "timeout")] += 1
            return None
        with self.lock:
            self.outcomes[(action, str(response.status_code))] += 1
            if response.status_code >= 500 and response.status_code != 503:
                self.server_errors.append(f"{action}: {method} {url} -> {response.status_code} {response.text[:200]}")
            elif response.status_code == 503 and not response.headers.get("Retry-After"):
                self.server_errors.append(f"{action}: 503 without Retry-After from {url}")
        return response

    # ------------------------------------------------------------ the shoppers' actions

    def browse(self) -> None:
        ordering = self.rng.choice(["price", "-price", "name", "-created_at"])
        self.call("browse", "GET", self.url("catalog_service", "products/"), params={"ordering": ordering})
        self.call("browse", "GET", self.url("catalog_service", f"products/{self.rng.choice(self.products)}/"))

    def register(self) -> None:
        customer = Customer(username=f"chaos-{uuid.uuid4().hex[:12]}")
        registered = self.call(
            "register",
            "POST",
            self.url("users_service", "auth/register/"),
            json={"username": customer.username, "email": f"{customer.username}@example.com", "password": PASSWORD},
        )
        if registered is not None and registered.status_code == 201 and self.log_in(customer):
            with self.lock:
                self.customers.append(customer)

    def log_in(self, customer: Customer) -> bool:
        answer = self.call(
            "log in",
            "POST",
            self.url("users_service", "auth/token/"),
            json={"username": customer.username, "password": PASSWORD},
        )
        if answer is None or answer.status_code != 200:
            return False
        customer.headers = {"Authorization": f"Bearer {answer.json()['access']}"}
        return True

    def order(self) -> None:
        with self.lock:
            retry = self.unanswered.pop(0) if self.unanswered else None
            customer = self.rng.choice(self.customers) if self.customers else None
        if retry is None and customer is None:
            return
        if retry is None:
            assert customer is not None  # noqa: S101 - checked above
            lines = self.rng.sample(self.products, k=self.rng.randint(1, 2))
            body = {"items": [{"product_id": product, "quantity": self.rng.randint(1, 3)} for product in lines]}
            retry = PlacedOrder(key=uuid.uuid4().hex, customer=customer, body=body)
            with self.lock:
                self.orders.append(retry)
        self.send(retry)

    def send(self, placed: PlacedOrder) -> bool:
        """POST the order with its key; True once answered 201. Unanswered orders are retried later."""
        response = self.call(
            "order",
            "POST",
            self.url("orders_service", "orders/"),
            json=placed.body,
            headers={**placed.customer.headers, "Idempotency-Key": placed.key},
        )
        if response is not None and response.status_code == 201:
            with self.lock:
                placed.order_ids.add(response.json()["id"])
            return True
        if response is not None and response.status_code == 401:
            self.log_in(placed.customer)  # an access token lives minutes
        with self.lock:
            self.unanswered.append(placed)
        return False

    def cancel(self) -> None:
        with self.lock:
            placed = [order for order in self.orders if order.order_ids]
            chosen = self.rng.choice(placed) if placed else None
        if chosen is None:
            return
        order_id = next(iter(chosen.order_ids))
        seen = self.call(
            "cancel", "GET", self.url("orders_service", f"orders/{order_id}/"), headers=chosen.customer.headers
        )
        if seen is not None and seen.status_code == 200 and seen.json()["status"] == "confirmed":
            url = self.url("orders_service", f"orders/{order_id}/cancel/")
            self.call("cancel", "POST", url, headers=chosen.customer.headers)

    def shop(self, until: float) -> None:
        actions: list[Callable[[], None]] = [self.browse, self.order, self.cancel, self.register]
        weights = [40, 40, 8, 12]
        while time.monotonic() < until:
            self.rng.choices(actions, weights)[0]()
            time.sleep(self.rng.uniform(0.05, 0.2))


# ---------------------------------------------------------------- the faults


def inject_faults(system: System, rng: random.Random, until: float, log: Callable[[str], None]) -> list[str]:
    """Stop or kill one random process at a time and start it again, until ``until``; returns what was done."""
    done: list[str] = []
    started = time.monotonic()
    while time.monotonic() + 10 < until:
        time.sleep(rng.uniform(2, 6))
        target, violent, down = rng.choice(TARGETS), rng.random() < 0.5, rng.uniform(1, 6)
        how = "killed (SIGKILL)" if violent else "stopped (SIGTERM)"
        sig = signal.SIGKILL if violent else signal.SIGTERM
        if target == "postgres":
            assert system.postgres is not None  # noqa: S101 - the chaos run's system has its own cluster
            how = "killed (SIGKILL)" if violent else "stopped (fast shutdown)"
            system.postgres.stop(sig=signal.SIGKILL if violent else signal.SIGINT)
        elif target == "redis":
            system.kill("redis", sig)
        else:
            system.kill(target, sig)
        time.sleep(down)
        if target == "postgres":
            system.start_postgres()
        elif target == "redis":
            system.start_redis_again()
        else:
            system.restart(target)
        line = f"{time.monotonic() - started:6.1f}s  {target} {how}, down {down:.1f}s"
        done.append(line)
        log(line)
    return done


# ---------------------------------------------------------------- the run


def set_up_catalogue(system: System) -> dict[int, int]:
    """The products the shoppers order, each with ``INITIAL_STOCK``: product id -> stock."""
    manager = system.bearer(**MANAGER)
    catalog = f"{system.urls['catalog_service']}/api/v1"
    requests.post(f"{catalog}/categories/", json={"name": "Chaos", "slug": "chaos"}, headers=manager, timeout=10)
    products = {}
    run = uuid.uuid4().hex[:8]
    for number in range(PRODUCTS):
        response = requests.post(
            f"{catalog}/products/",
            json={
                "sku": f"CHAOS-{run}-{number}",
                "name": f"Chaos product {run} {number}",
                "category": "chaos",
                "price": f"{number + 1}.50",
                "stock": INITIAL_STOCK,
            },
            headers=manager,
            timeout=10,
        )
        response.raise_for_status()
        products[int(response.json()["id"])] = INITIAL_STOCK
    return products


def settled(system: System) -> bool:
    """No order in flight, every outbox drained, every notification recorded, nothing held by the broker."""
    broker = redis.Redis.from_url(system.redis_url, socket_timeout=2)
    try:
        held = int(broker.hlen("unacked")) + sum(int(broker.llen(service.queue)) for service in SERVICES)
    finally:
        broker.close()
    return held == 0 and reconciliation.all_settled(system) and reconciliation.notifications_agree(system)


def answer_every_order(clients: Clients) -> None:
    """Retry every order still unanswered, with its own key, now that everything runs again (bounded)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while clients.unanswered and time.monotonic() < deadline:
        placed = clients.unanswered.pop(0)
        if not clients.send(placed):
            time.sleep(0.5)


def client_problems(clients: Clients, system: System) -> list[str]:
    """Orders lost or placed twice, as the clients and the orders service's records tell."""
    problems = [f"5xx other than 503: {error}" for error in clients.server_errors[:20]]
    if len(clients.server_errors) > 20:
        problems.append(f"... {len(clients.server_errors) - 20} more server errors")
    problems += [f"order never answered 201: key {placed.key}" for placed in clients.unanswered]
    problems += [
        f"duplicate: key {placed.key} answered with orders {sorted(placed.order_ids)}"
        for placed in clients.orders
        if len(placed.order_ids) > 1
    ]
    accepted = {order_id for placed in clients.orders for order_id in placed.order_ids}
    # The orders of the run's own products (the system may hold others': the tests' system does).
    stored = {
        row[0]
        for row in reconciliation.query(
            system,
            "orders_service",
            "SELECT DISTINCT order_id::text FROM orders_orderline WHERE product_id = ANY(%s)",
            [clients.products],
        )
    }
    problems += [f"lost: order {order_id} was accepted, and does not exist" for order_id in sorted(accepted - stored)]
    problems += [f"duplicate: order {order_id} was placed by no client" for order_id in sorted(stored - accepted)]
    return problems


def run(*, minutes: float, seed: int, workdir: Path, log: Callable[[str], None] = print) -> int:
    """The chaos run on a system of its own; 0 when nothing was lost or duplicated and everything reconciles."""
    with throwaway_cluster() as cluster:
        system = System(
            database_name="shop_chaos",
            admin_database_url=cluster.admin_url,
            workdir=workdir,
            postgres=cluster,
        )
        log(f"starting the system (logs in {workdir})")
        with running_system(system):
            problems = run_on(system, minutes=minutes, seed=seed, log=log)
    return 1 if problems else 0


def run_on(system: System, *, minutes: float, seed: int, log: Callable[[str], None] = print) -> list[str]:
    """Load and faults for ``minutes`` on a running system with its own Postgres cluster, then the
    reconciliation; returns the problems found (none: nothing lost, nothing duplicated)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible chaos, not cryptography
    initial_stock = set_up_catalogue(system)
    clients = Clients(system=system, products=list(initial_stock), rng=random.Random(rng.random()))  # noqa: S311
    for _ in range(3):
        clients.register()
    log(f"chaos for {minutes:g} minutes (seed {seed}): {SHOPPERS} shoppers, one fault at a time")
    until = time.monotonic() + minutes * 60
    shoppers = [threading.Thread(target=clients.shop, args=(until,)) for _ in range(SHOPPERS)]
    for shopper in shoppers:
        shopper.start()
    try:
        faults = inject_faults(system, rng, until, log)
    finally:
        for shopper in shoppers:
            shopper.join(timeout=REQUEST_TIMEOUT_SECONDS * 3 + minutes * 60)
    for service in SERVICES:
        system.wait_until_ready(service)
    log(f"load stopped; {len(clients.unanswered)} orders unanswered: answering them, then settling")
    answer_every_order(clients)
    began = time.monotonic()
    try:
        wait_for(lambda: settled(system), timeout=SETTLE_TIMEOUT_SECONDS, interval=1, what="the system to settle")
    except TimeoutError as error:
        log(str(error))
    log(f"settled in {time.monotonic() - began:.0f}s")
    result = reconciliation.reconcile(system, initial_stock=initial_stock)
    problems = client_problems(clients, system) + result.problems()
    report(clients, faults, result, problems, log)
    return problems


def report(
    clients: Clients,
    faults: Sequence[str],
    result: reconciliation.Reconciliation,
    problems: Sequence[str],
    log: Callable[[str], None],
) -> None:
    by_action: dict[str, Counter[str]] = {}
    for (action, outcome), count in clients.outcomes.items():
        by_action.setdefault(action, Counter())[outcome] += count
    print(f"\nfaults injected: {len(faults)}")
    print("what the clients saw (answers by status; unreachable: connection refused or reset):")
    for action, outcomes in sorted(by_action.items()):
        print(f"  {action:<9} " + ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())))
    accepted = sum(1 for placed in clients.orders if placed.order_ids)
    print(f"orders: {len(clients.orders)} placed, {accepted} accepted, {len(clients.unanswered)} never answered")
    print("reconciliation:")
    print("  " + result.summary().replace("\n", "\n  "))
    if problems:
        log(f"FAILED: {len(problems)} problems")
        for problem in problems:
            print(f"  {problem}")
    else:
        log("no loss, no duplicate: everything reconciles")
