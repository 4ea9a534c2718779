"""What telemetry costs: the product list and the saga with ``SHOP_TELEMETRY`` on (the default) and off, alternated
in one run, and what each metric costs on its own.

Every process of the system is restarted with the other setting between phases, in the order on, off, off, on
(ABBA, twice in a full run), so the drift of a shared 2-core machine falls on both settings alike. Each phase
warms up first (connections, caches), then measures the product list with wrk and the saga at a fixed rate:
throughput, and the CPU of every process (the database's backends included) per confirmed order. The ratios
are on / off.

``python -m bench.telemetry_cost`` alone prints the cost of recording a request's metrics and of one scrape, in
a process of its own in prometheus-client's multiprocess mode, as a web worker records them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import timeit
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bench.http_load import wrk

if TYPE_CHECKING:
    from bench.run import Run

ROOT = Path(__file__).resolve().parents[1]


def measure(run: Run, *, rounds: int, http_seconds: int, saga_seconds: int, rate: int = 20) -> dict:
    """Alternate telemetry on and off ``rounds`` times each (ABBA); both settings' figures and their ratios."""
    catalog = run.system.urls["catalog_service"]
    product_list = f"{catalog}/api/v1/products/?page_size=20"
    order = [True, False] if rounds == 1 else [True, False, False, True] * (rounds // 2)
    totals = {setting: {"requests": 0, "seconds": 0.0, "confirmed": 0} for setting in (True, False)}
    cpu_ms: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}  # by program
    for telemetry in order:
        run.use_telemetry(telemetry)
        label = "on" if telemetry else "off"
        wrk("warm-up", product_list, seconds=1, connections=16)
        run.saga_phase(rate=rate, seconds=1)
        http = wrk("product list", product_list, seconds=http_seconds, connections=16)
        saga = run.saga_phase(rate=rate, seconds=saga_seconds)
        total = totals[telemetry]
        total["requests"] += http.requests
        total["seconds"] += http.seconds
        total["confirmed"] += saga.confirmed
        cpu_ms[telemetry].update({name: ms * saga.confirmed for name, ms in saga.cpu_ms_per_order.items()})
        print(
            f"  telemetry {label}: product list {http.requests_per_second:.0f}/s,"
            f" CPU per confirmed order {sum(saga.cpu_ms_per_order.values()):.1f} ms",
            flush=True,
        )
    run.use_telemetry(True)
    figures = {
        ("on" if setting else "off"): {
            "product_list_per_second": total["requests"] / total["seconds"] if total["seconds"] else 0.0,
            "cpu_ms_per_confirmed_order": cpu_ms[setting].total() / max(total["confirmed"], 1),
            "cpu_ms_by_program": {name: ms / max(total["confirmed"], 1) for name, ms in cpu_ms[setting].items()},
            "confirmed": total["confirmed"],
        }
        for setting, total in totals.items()
    }
    on, off = figures["on"], figures["off"]
    return {
        **figures,
        "order": ["on" if setting else "off" for setting in order],
        "saga_rate": rate,
        "throughput_ratio": on["product_list_per_second"] / off["product_list_per_second"]
        if off["product_list_per_second"]
        else 0.0,
        "cpu_per_order_ratio": on["cpu_ms_per_confirmed_order"] / off["cpu_ms_per_confirmed_order"]
        if off["cpu_ms_per_confirmed_order"]
        else 0.0,
        "metrics_recording": micro_costs(),
    }


def micro_costs() -> dict:
    """The cost of the metrics alone, measured in a fresh process in multiprocess mode (see ``_micro``)."""
    with tempfile.TemporaryDirectory(prefix="shop-bench-metrics-") as directory:
        environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory, "SHOP_TELEMETRY": "on"}
        result = subprocess.run(
            [sys.executable, "-m", "bench.telemetry_cost"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    return json.loads(result.stdout)


def _micro() -> dict:
    """Microseconds to record one request (a histogram observation and a counter increment, as the middleware
    does), one saga transition and one consumed message; milliseconds for one scrape of what that recorded."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from common.telemetry import metrics

    service, route = "catalog_service", "api/v1/products/"

    def request() -> None:
        metrics._child(metrics.HTTP_REQUEST_DURATION, service, "GET", route).observe(0.004)
        metrics._child(metrics.HTTP_REQUESTS, service, "GET", route, "200").inc()

    def transition() -> None:
        metrics.order_counted(status="confirmed")
        metrics.order_settled(outcome="confirmed", seconds=0.02)

    def consumed() -> None:
        metrics._child(metrics.MESSAGES_CONSUMED, "orders_service", "orders.stock_reserved", "applied").inc()

    def per_call_us(function, number: int = 20_000) -> float:
        function()
        return min(timeit.repeat(function, number=number, repeat=3)) / number * 1e6

    for index in range(30):  # a realistic number of series to scrape: 30 routes, as a service has
        metrics._child(metrics.HTTP_REQUEST_DURATION, service, "GET", f"route-{index}/").observe(0.01)
        metrics._child(metrics.HTTP_REQUESTS, service, "GET", f"route-{index}/", "200").inc()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    scrape_ms = min(timeit.repeat(lambda: generate_latest(registry), number=20, repeat=3)) / 20 * 1000
    return {
        "request_us": per_call_us(request),
        "saga_transition_us": per_call_us(transition),
        "message_consumed_us": per_call_us(consumed),
        "scrape_ms": scrape_ms,
    }


if __name__ == "__main__":
    print(json.dumps(_micro()))
