"""The saga's floor: what one Celery message over Redis costs on this machine before any work is done.

The saga's ceiling, as /health/live/ is the web servers': a bench-only Celery
app with the services' delivery settings (``common.celery_app.delivery_settings``:
acks late, prefetch 1, the visibility timeout) and one task that only records
when it started (one RPUSH). Its worker runs like the services' workers
(one solo process); messages are sent at a fixed rate the way the
services' publisher sends them (``send_task`` on one reused producer). Measured: CPU per
message of the worker, Redis and the sender, and the latency from send to
the task's start. An order sends three messages (reserve, the answer, the
notification), so three times this is what an order costs before any of its
work; the note in the README explains what that means for the saga targets.

The worker is this module: ``celery -A bench.messaging_floor worker``.
"""

import functools
import os
import subprocess
import time

import redis
from celery import Celery

from common.celery_app import delivery_settings

QUEUE = "bench-floor"
STARTED_KEY = "bench-floor:started"
MESSAGES_PER_ORDER = 3  # catalog.reserve_stock, orders.stock_reserved, users.notify_order_status

app = Celery("bench_floor")
app.conf.update(
    broker_url=os.environ.get("BENCH_FLOOR_REDIS_URL", "redis://127.0.0.1:6379/0"),
    task_default_queue=QUEUE,
    **delivery_settings(visibility_timeout=300),
)


@app.task(name="bench.floor_noop", ignore_result=True)
def floor_noop(*, message: dict) -> None:
    """Record how long after it was sent this message started."""
    started = time.time()
    _results().rpush(STARTED_KEY, started - message["sent_at"])


@functools.cache
def _results() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url)


def measure(*, redis_url: str, redis_pid: int, rate: float, count: int) -> dict:
    """Send ``count`` messages at ``rate`` to a fresh worker; CPU ms per message by program, and the latency."""
    from bench.memory import cpu_seconds, process_tree
    from shopctl.launcher import ROOT, VENV_BIN

    os.environ["BENCH_FLOOR_REDIS_URL"] = redis_url
    app.conf.broker_url = redis_url
    results = _results()
    results.delete(STARTED_KEY, QUEUE)
    command = [str(VENV_BIN / "celery"), "-A", "bench.messaging_floor", "worker", "--queues", QUEUE]
    command += ["--hostname", f"bench-floor-{os.getpid()}@%h", "--loglevel", "WARNING"]
    worker = subprocess.Popen(  # noqa: S603 - our own command
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with app.connection_for_write() as connection:
            producer = app.amqp.Producer(connection, auto_declare=False)
            _send_and_wait(results, producer, count=20, rate=50)  # the worker is up and warm
            results.delete(STARTED_KEY)
            tree = process_tree(worker.pid)
            before = {pid: cpu_seconds(pid) for pid in [*tree, redis_pid]}
            sender_seconds = _send_and_wait(results, producer, count=count, rate=rate)
            after = {pid: cpu_seconds(pid) for pid in [*tree, redis_pid]}
        latencies = sorted(float(value) * 1000 for value in results.lrange(STARTED_KEY, 0, -1))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        results.delete(STARTED_KEY, QUEUE)
    per_message = {
        "worker": sum(after[pid] - before[pid] for pid in tree) * 1000 / count,
        "redis": (after[redis_pid] - before[redis_pid]) * 1000 / count,
        "sender": sender_seconds * 1000 / count,
    }
    return {
        "rate": rate,
        "messages": count,
        "cpu_ms_per_message": per_message,
        "latency_p50_ms": latencies[len(latencies) // 2] if latencies else None,
        "latency_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
        "messages_per_order": MESSAGES_PER_ORDER,
    }


def _send_and_wait(results: redis.Redis, producer, *, count: int, rate: float) -> float:
    """Send ``count`` messages at ``rate``, wait (bounded) until each has started; the sender's CPU seconds."""
    started, cpu_start = time.monotonic(), time.thread_time()
    for index in range(count):
        message = {"sent_at": time.time()}
        app.send_task(
            "bench.floor_noop",
            kwargs={"message": message},
            queue=QUEUE,
            producer=producer,
            retry=False,
            argsrepr="()",
            kwargsrepr="{message: ...}",
        )
        delay = started + (index + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    sender = time.thread_time() - cpu_start
    deadline = time.monotonic() + 60
    while results.llen(STARTED_KEY) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the floor worker started {results.llen(STARTED_KEY)} of {count} messages in 60 s")
        time.sleep(0.05)
    return sender
