"""Celery conventions shared by every service.

Messages between services are delivered at least once: a worker acknowledges a
message only after its task has finished, a message whose worker died is put
back, and each worker holds one unacknowledged message at a time. Redis
redelivers a message nobody acknowledged after the visibility timeout, so that
timeout is one value for all services and longer than any task may run.

A worker is one process running one task at a time (the solo pool): a saga
step is a few milliseconds of CPU, and prefork's hand-off of every message to
a child process and back cost more CPU than the step's own Python, so a
service scales by running more worker processes, not more children. The solo
pool enforces no time limit itself, so ``TaskTimeLimits`` does, in the
worker's process.
"""

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun, worker_init, worker_ready

from common import runtime

logger = logging.getLogger(__name__)

TASK_TIME_LIMIT_SECONDS = 60
TASK_SOFT_TIME_LIMIT_SECONDS = 50
VISIBILITY_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class PeriodicTask:
    """A task the scheduler sends to a service's queue at a fixed interval."""

    name: str
    queue: str
    every_seconds: float


def _interval(variable: str, default: float) -> float:
    return float(os.environ.get(variable) or default)


PERIODIC_TASKS: list[PeriodicTask] = [
    # Each service's outbox relay (common.messaging): re-sends what the broker has not accepted yet.
    *(
        PeriodicTask(
            name=f"{queue}.relay_outbox", queue=queue, every_seconds=_interval("OUTBOX_RELAY_INTERVAL_SECONDS", 2)
        )
        for queue in ("users", "catalog", "orders")
    ),
    # orders: drive on orders stuck in pending or cancelling (ORDERS_SAGA_TIMEOUT_SECONDS in orders_service).
    PeriodicTask(
        name="orders.redrive_stuck_orders",
        queue="orders",
        every_seconds=_interval("ORDERS_REDRIVE_INTERVAL_SECONDS", 5),
    ),
]


def delivery_settings(*, visibility_timeout: int, time_limit: int = TASK_TIME_LIMIT_SECONDS) -> dict[str, Any]:
    """Celery settings for at-least-once delivery, identical in every service.

    ``time_limit`` (``CELERY_TASK_TIME_LIMIT``) is the hard limit; the soft one keeps the defaults' ratio
    (50 s of 60). Only a test that waits for a redelivery shortens both, with the visibility timeout.
    """
    if visibility_timeout <= time_limit:
        msg = (
            f"CELERY_VISIBILITY_TIMEOUT ({visibility_timeout}s) must be longer than the task time limit "
            f"({time_limit}s), or a running task's message is delivered a second time."
        )
        raise ValueError(msg)
    return {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_pool": "solo",
        "task_time_limit": time_limit,
        "task_soft_time_limit": time_limit * TASK_SOFT_TIME_LIMIT_SECONDS / TASK_TIME_LIMIT_SECONDS,
        "broker_transport_options": {
            "visibility_timeout": visibility_timeout,
            # kombu looks for messages of dead workers every 10 s but scans only every 10th time (throttle 10):
            # a message would wait up to 100 s past the visibility timeout. One scan (a ZRANGE) every 10 s.
            "unacked_restore_throttle": 1,
            # The lock of that scan (a worker killed while holding it would stop every worker's scan until it
            # expires): 30 s instead of kombu's 300; a scan takes milliseconds.
            "unacked_mutex_expire": 30,
        },
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "timezone": "UTC",
        "enable_utc": True,
    }


def create_celery_app(*, service: str) -> Celery:
    """The service's Celery app, configured from its ``CELERY_*`` Django settings.

    Its tasks go to ``CELERY_TASK_DEFAULT_QUEUE``, the service's own queue,
    which is the only queue its worker consumes (``--queues``).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service}.settings.local")
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    # Imported here: the patches module loads Django's cache backend, which the scheduler does not need.
    from common.kombu_redis_patches import celery_keep_database_connections

    celery_keep_database_connections(app)
    TaskTimeLimits.install()
    # Log lines are JSON, with the task's ids, as in every process (common.telemetry.logs).
    from common.telemetry.logs import keep_celery_off_the_root_logger

    keep_celery_off_the_root_logger()

    # A worker serves its own metrics on SHOP_METRICS_ADDRESS (the web server's are on its port, /metrics).
    from common.telemetry.metrics import serve_from_environment

    worker_init.connect(serve_from_environment, weak=False, dispatch_uid="common.telemetry.metrics.worker")
    # What the worker loaded at start, out of the garbage collector's way once it is ready (common.runtime).
    worker_ready.connect(_freeze_what_is_loaded, weak=False, dispatch_uid="common.runtime.freeze")
    return app


def _freeze_what_is_loaded(**signal: object) -> None:
    runtime.freeze_what_is_loaded()


class _Worker(Protocol):
    """What ``_on_worker_init`` reads of ``worker_init``'s sender, the worker (``celery.apps.worker.Worker``)."""

    app: Celery
    pool_cls: str | type


class TaskTimeLimits:
    """``task_soft_time_limit`` and ``task_time_limit``, enforced in a solo worker's own process.

    - Soft: ``SIGALRM`` raises ``SoftTimeLimitExceeded`` in the task, which runs in the main thread. A
      message handler's transaction rolls back and the message is retried (``common.messaging.consumer``).
    - Hard: a task still running at the hard limit is stuck where no exception reaches it (a blocking call
      in C). A watchdog thread ends the process; its message, unacknowledged, comes back after the
      visibility timeout, and the process supervisor (supervisord, compose) starts a new worker.

    One instance per worker process, armed by ``task_prerun`` and disarmed by ``task_postrun``.
    """

    _installed = False

    def __init__(self, *, soft_seconds: float, hard_seconds: float):
        self.soft_seconds, self.hard_seconds = soft_seconds, hard_seconds
        self._hard_deadline: float | None = None
        self._task_name = ""

    @classmethod
    def install(cls) -> None:
        """Arm the limits around every task once the worker starts (the web and shells are left alone)."""
        if not cls._installed:
            worker_init.connect(cls._on_worker_init, weak=False, dispatch_uid="common.celery_app.time_limits")
            cls._installed = True

    @classmethod
    def _on_worker_init(cls, sender: _Worker, **kwargs: object) -> None:
        pool = sender.pool_cls if isinstance(sender.pool_cls, str) else sender.pool_cls.__module__
        if "solo" not in pool:
            return  # prefork enforces the limits itself
        conf = sender.app.conf
        limits = cls(soft_seconds=conf.task_soft_time_limit, hard_seconds=conf.task_time_limit)
        limits.start()
        task_prerun.connect(limits.arm, weak=False, dispatch_uid="common.celery_app.time_limits.arm")
        task_postrun.connect(limits.disarm, weak=False, dispatch_uid="common.celery_app.time_limits.disarm")

    def start(self) -> None:
        """Install the soft limit's signal handler and start the hard limit's watchdog (from the main thread)."""
        signal.signal(signal.SIGALRM, self._soft_limit_reached)
        threading.Thread(target=self._watch, name="task-hard-time-limit", daemon=True).start()

    def arm(self, sender: object = None, **kwargs: object) -> None:
        self._task_name = getattr(sender, "name", "")
        self._hard_deadline = time.monotonic() + self.hard_seconds
        signal.setitimer(signal.ITIMER_REAL, self.soft_seconds)

    def disarm(self, **kwargs: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self._hard_deadline = None

    def _soft_limit_reached(self, signum: int, frame: FrameType | None) -> None:
        raise SoftTimeLimitExceeded(f"{self._task_name} ran longer than {self.soft_seconds}s")

    def _watch(self) -> None:
        while True:
            time.sleep(1)
            deadline = self._hard_deadline
            if deadline is not None and time.monotonic() > deadline:
                logger.critical(
                    "%s ran longer than the hard time limit (%ss): ending the worker; its message comes back "
                    "after the visibility timeout",
                    self._task_name,
                    self.hard_seconds,
                )
                logging.shutdown()
                os._exit(1)
