"""Metrics on the real system: a web server's worker processes add up, every process is scraped, the saga counts.

Prometheus (Debian's) is started on a free port for this run, from the same description of the processes
``./manage_all.sh up`` renders its configuration from (``shopctl.monitor``).
"""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from common.telemetry.metrics import EXPORTED_NAMES
from shopctl.processes import DEPLOYED
from tests.test_order_saga import Shop, deadline_poll

PRODUCT_LIST = {"service": "catalog_service", "method": "GET", "route": "api/v1/products/", "status": "200"}


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def scraped(url: str) -> list[tuple[str, dict[str, str], float]]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return samples(response.text)


def value(found: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, sample_labels, v in found if n == name and labels.items() <= sample_labels.items())


def per_process(directory: Path, name: str, **labels: str) -> dict[str, float]:
    """The value each web worker process counted, from its own file of the multiprocess directory."""
    counted = {}
    for path in directory.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)], accumulate=True)
        found = [(s.name, s.labels, s.value) for family in families for s in family.samples]
        counted[re.sub(r"\D", "", path.stem)] = value(found, name, **labels)
    return counted


def test_the_counts_of_two_web_worker_processes_add_up_on_metrics(system):
    # given: catalog's web server runs two worker processes, counting into one directory
    catalog = system.urls["catalog_service"]
    directory = system.workdir / "metrics" / "catalog-web"
    before = value(scraped(catalog), "shop_http_requests_total", **PRODUCT_LIST)
    before_by_process = per_process(directory, "shop_http_requests_total", **PRODUCT_LIST)

    # when: 60 requests, 6 at a time, each on a connection of its own
    def get(_: int) -> int:
        return requests.get(f"{catalog}/api/v1/products/", headers={"Connection": "close"}, timeout=10).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(get, range(60)))

    # then: /metrics counts all 60, which both processes served between them
    assert statuses == [200] * 60
    after = value(scraped(catalog), "shop_http_requests_total", **PRODUCT_LIST)
    assert after - before == 60
    by_process = per_process(directory, "shop_http_requests_total", **PRODUCT_LIST)
    served = {pid: count - before_by_process.get(pid, 0) for pid, count in by_process.items()}
    assert len([pid for pid, count in served.items() if count > 0]) == 2, served
    assert sum(served.values()) == 60


def test_every_metric_the_processes_export_under_the_shops_prefix_is_a_contract_name(system):
    for address in system.running_metrics_addresses().values():
        names = {name for name, _, _ in scraped(f"http://{address}") if name.startswith("shop_")}
        assert names <= EXPORTED_NAMES, f"{address} exports names outside the contract: {names - EXPORTED_NAMES}"


def test_metrics_refuses_a_request_that_came_through_a_proxy(system):
    response = requests.get(
        f"{system.urls['orders_service']}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.fixture
def prometheus(system):
    url = system.start_prometheus(scrape_interval_seconds=1)
    try:
        yield url
    finally:
        system.stop("prometheus")


def prometheus_value(url: str, query: str) -> float:
    response = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=10)
    response.raise_for_status()
    result = response.json()["data"]["result"]
    return sum(float(series["value"][1]) for series in result)


def test_prometheus_scrapes_every_process_and_sees_each_confirmed_order(system, prometheus):
    # given: Prometheus scraping every process of the system, each one up
    expected = {kind.name for kind in DEPLOYED if kind.metrics != "none"} | {"prometheus"}

    def targets_up() -> dict[str, str]:
        active = requests.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        health = {target["labels"]["job"]: target["health"] for target in active}
        return health if set(health) == expected and set(health.values()) == {"up"} else {}

    deadline_poll(targets_up, timeout=30, interval=0.5, what="every target up")
    confirmed = 'sum(shop_orders_total{status="confirmed"})'
    orders_worker = f"http://{system.metrics_addresses['orders-worker']}"
    before = value(scraped(orders_worker), "shop_orders_total", status="confirmed")
    saga_before = value(scraped(orders_worker), "shop_order_saga_duration_seconds_count", outcome="confirmed")
    deadline_poll(
        lambda: prometheus_value(prometheus, confirmed) == before,
        timeout=10,
        interval=0.5,
        what="Prometheus to have scraped the orders worker",
    )

    # when: five orders, each confirmed
    shop = Shop(system=system)
    product_id = shop.create_product(price="3.00", stock=50)
    placed = [shop.place([(product_id, 1)], user_id=4_000_001) for _ in range(5)]
    assert [response.status_code for response in placed] == [201] * 5
    settled = [shop.settled(response.json()["id"], user_id=4_000_001) for response in placed]
    assert [order["status"] for order in settled] == ["confirmed"] * 5

    # then: Prometheus sees the counter rise by exactly five, and the saga's latency observed five times more
    deadline_poll(
        lambda: prometheus_value(prometheus, confirmed) == before + 5,
        timeout=15,
        interval=0.5,
        what="shop_orders_total{status=confirmed} to rise by 5",
    )
    now = scraped(orders_worker)
    assert value(now, "shop_orders_total", status="confirmed") == before + 5
    assert value(now, "shop_order_saga_duration_seconds_count", outcome="confirmed") == saga_before + 5
    rules = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {rule["name"] for group in rules for rule in group["rules"]} >= {"TargetDown", "OutboxStuck"}
