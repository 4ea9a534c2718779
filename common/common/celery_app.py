"""Celery conventions shared by every service.

Messages between services are delivered at least once: a worker acknowledges a
message only after its task has finished, a message whose worker died is put
back, and each worker holds one unacknowledged message at a time. Redis
redelivers a message nobody acknowledged after the visibility timeout, so that
timeout is one value for all services and longer than any task may run.
"""

import os
from dataclasses import dataclass

from celery import Celery

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


def delivery_settings(*, visibility_timeout: int) -> dict:
    """Celery settings for at-least-once delivery, identical in every service."""
    if visibility_timeout <= TASK_TIME_LIMIT_SECONDS:
        msg = (
            f"CELERY_VISIBILITY_TIMEOUT ({visibility_timeout}s) must be longer than the task time limit "
            f"({TASK_TIME_LIMIT_SECONDS}s), or a running task's message is delivered a second time."
        )
        raise ValueError(msg)
    return {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": TASK_TIME_LIMIT_SECONDS,
        "task_soft_time_limit": TASK_SOFT_TIME_LIMIT_SECONDS,
        "broker_transport_options": {"visibility_timeout": visibility_timeout},
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "timezone": "UTC",
        "enable_utc": True,
    }


def django_settings(*, broker_url: str, visibility_timeout: int) -> dict:
    """The ``CELERY_*`` Django settings of a service (read by ``create_celery_app``)."""
    values = {"broker_url": broker_url, **delivery_settings(visibility_timeout=visibility_timeout)}
    return {f"CELERY_{name.upper()}": value for name, value in values.items()}


def create_celery_app(*, service: str) -> Celery:
    """The service's Celery app, configured from its ``CELERY_*`` Django settings.

    Its tasks go to ``CELERY_TASK_DEFAULT_QUEUE``, the service's own queue,
    which is the only queue its worker consumes (``--queues``).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service}.settings.local")
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    _reuse_database_connections(app)
    return app


def _reuse_database_connections(app: Celery) -> None:
    """Keep a worker's database connection across tasks, as a web worker does across requests.

    Celery's Django fixup closes every connection before and after each task
    unless ``CELERY_DB_REUSE_MAX`` is set; a new Postgres connection (a backend
    process and SCRAM authentication) then costs more than a saga step itself.
    Instead, around each task, Django's ``close_old_connections`` closes only
    connections past ``CONN_MAX_AGE`` or broken by an error, so a database
    restart still ends in a fresh connection on the next task.
    """
    from celery.signals import task_postrun, task_prerun
    from django.db import close_old_connections

    app.conf.CELERY_DB_REUSE_MAX = 2**31  # read by celery.fixups.django: effectively "never close"

    def close_old(**kwargs) -> None:
        close_old_connections()

    task_prerun.connect(close_old, weak=False, dispatch_uid="common.celery_app.close_old_prerun")
    task_postrun.connect(close_old, weak=False, dispatch_uid="common.celery_app.close_old_postrun")
