"""What telemetry costs: the product list and the saga with ``SHOP_TELEMETRY`` on (the default) and off, alternated
in one run, and what each metric costs on its own.

Every process of the system is restarted with the other setting between phases, in the order on, off, off, on
(ABBA, twice in a full run), so the drift of a shared 2-core machine falls on both settings alike. Each phase
warms up first (connections, caches), then measures the product list with wrk and the saga at a fixed rate:
throughput, and the CPU of every process (the database's backends included) per confirmed order. The ratios
are on / off.

``python -m bench.telemetry_cost`` alone prints the cost of recording a request's metrics and of one scrape, in
a process of its own in prometheus-client's multiprocess mode, as a web worker records them.

What each part costs (``post_costs``): the saga's figures are the sum over every process, and one phase drifts
by as much as telemetry costs, so the parts are measured where nothing else moves: the CPU of one
orders_service process placing orders through its own WSGI application (``POST /api/v1/orders/``, the real
middleware, database and broker, no HTTP server), with telemetry off, on, on but sampled out (ratio 0: the
instrumentations run, no span is recorded) and on without the psycopg2 or the Celery instrumentation
(``uninstrument()``), the variants alternated.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bench.http_load import wrk
from bench.saga_load import SagaPhase, settle

if TYPE_CHECKING:
    from bench.run import Run

ROOT = Path(__file__).resolve().parents[1]


def measure(
    run: Run, *, rounds: int, http_seconds: int, saga_seconds: int, post_requests: int, post_rounds: int, rate: int = 20
) -> dict:
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
        "order_post": post_costs(run, requests=post_requests, rounds=post_rounds),
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


# ---------------------------------------------------------------- a POST's telemetry, by part

# What each variant sets: SHOP_TELEMETRY, the sampling ratio, the instrumentation left out.
POST_VARIANTS: dict[str, tuple[str, str, str]] = {
    "off": ("off", "1", ""),
    "on": ("on", "1", ""),
    "sampled out": ("on", "0", ""),
    "without SQL spans": ("on", "1", "psycopg2"),
    "without Celery spans": ("on", "1", "celery"),
}
_POST_WARM_UP = 50
_POST_CUSTOMER_ID = 4343


def post_costs(run: Run, *, requests: int, rounds: int) -> dict:
    """CPU microseconds per ``POST /api/v1/orders/`` in each of ``POST_VARIANTS`` (see the module docstring),
    each variant measured ``rounds`` times over ``requests`` orders, in alternating order; the orders placed are
    settled before it returns, so the saga's next phase starts with an empty queue."""
    environment = {
        **run.system.service_environment("orders_service"),
        "BENCH_AUTHORIZATION": run.bearer(_POST_CUSTOMER_ID)["Authorization"],
        "BENCH_PRODUCT_IDS": json.dumps(run.product_ids),
    }
    samples: dict[str, list[float]] = {variant: [] for variant in POST_VARIANTS}
    order_ids: list[str] = []
    for index in range(rounds):
        variants = list(POST_VARIANTS) if index % 2 == 0 else list(reversed(POST_VARIANTS))
        for variant in variants:
            measured = _post_in_a_process(variant, requests=requests, environment=environment)
            samples[variant].append(measured["cpu_us_per_post"])
            order_ids.extend(measured["order_ids"])
    settle(
        orders_database_url=run.orders_database_url,
        order_ids=order_ids,
        phase=SagaPhase(offered_rate=0, seconds=1),
        timeout=120,
    )
    return {
        "requests": requests,
        "rounds": rounds,
        "cpu_us_per_post": {variant: statistics.fmean(values) for variant, values in samples.items()},
        "samples": samples,
    }


def _post_in_a_process(variant: str, *, requests: int, environment: dict[str, str]) -> dict:
    telemetry, ratio, _ = POST_VARIANTS[variant]
    with tempfile.TemporaryDirectory(prefix="shop-bench-post-") as directory:
        output = Path(directory) / "result.json"
        metrics_directory = Path(directory) / "metrics"
        metrics_directory.mkdir()
        result = subprocess.run(  # noqa: S603 - this interpreter, our own module
            [
                sys.executable,
                "-m",
                "bench.telemetry_cost",
                "--post",
                variant,
                "--requests",
                str(requests),
                "--output",
                str(output),
            ],
            cwd=ROOT,
            env={
                **environment,
                "SHOP_TELEMETRY": telemetry,
                "OTEL_TRACES_SAMPLER_ARG": ratio,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory),
            },
            capture_output=True,  # the application's log lines, one a request
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise RuntimeError(f"placing orders ({variant}) failed:\n{result.stderr[-3000:]}")
        return json.loads(output.read_text())


def _post_orders(variant: str, *, requests: int, output: Path) -> None:
    """In this process: orders_service's WSGI application, the variant's instrumentation left out, then
    ``_POST_WARM_UP`` orders and ``requests`` measured ones; CPU time and the orders' ids to ``output``."""
    sys.path.insert(0, str(ROOT / "orders_service"))
    from orders_service.wsgi import application  # noqa: PLC0415 - the service's settings come with it

    left_out = POST_VARIANTS[variant][2]
    if left_out == "psycopg2":
        from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor  # noqa: PLC0415

        Psycopg2Instrumentor().uninstrument()  # before the first connection: none is traced
    elif left_out == "celery":
        from opentelemetry.instrumentation.celery import CeleryInstrumentor  # noqa: PLC0415

        CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    authorization = os.environ["BENCH_AUTHORIZATION"]
    product_ids = json.loads(os.environ["BENCH_PRODUCT_IDS"])

    def place(index: int) -> str:
        body = json.dumps({"items": [{"product_id": product_ids[index % len(product_ids)], "quantity": 1}]}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/orders/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": authorization,
            "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        statuses: list[str] = []
        answer = b"".join(application(environ, lambda status, headers, *_: statuses.append(status)))
        if not statuses[0].startswith("201"):
            raise RuntimeError(f"POST /api/v1/orders/ answered {statuses[0]}: {answer[:300]!r}")
        return str(json.loads(answer)["id"])

    order_ids = [place(index) for index in range(_POST_WARM_UP)]
    started = time.process_time()
    order_ids += [place(index) for index in range(requests)]
    time.sleep(1.5)  # the span processor's thread writes what it holds (a batch leaves every second)
    cpu_seconds = time.process_time() - started
    output.write_text(json.dumps({"cpu_us_per_post": cpu_seconds / requests * 1e6, "order_ids": order_ids}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--post", choices=POST_VARIANTS, help="place orders in this process (post_costs)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args()
    if arguments.post:
        _post_orders(arguments.post, requests=arguments.requests, output=arguments.output)
    else:
        print(json.dumps(_micro()))
