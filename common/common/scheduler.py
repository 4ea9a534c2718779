"""The scheduler: one Celery beat process for the whole system.

Beat only publishes messages: each periodic task is sent by name to the queue
of the service that owns it, whose worker runs it. The schedule is a contract
between the services, so it lives here with the other message contracts.

Run it with ``celery -A common.scheduler beat``; it needs only ``REDIS_URL``.
"""

import environ
from celery import Celery
from celery.signals import beat_init

from common import celery_app
from common.telemetry.metrics import serve_from_environment

env = environ.Env()

app = Celery("scheduler")
app.conf.update(
    broker_url=env.str("REDIS_URL"),
    **celery_app.delivery_settings(
        visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=celery_app.VISIBILITY_TIMEOUT_SECONDS)
    ),
)
app.conf.beat_schedule = {
    f"{task.name} every {task.every_seconds}s": {
        "task": task.name,
        "schedule": task.every_seconds,
        "options": {"queue": task.queue, "expires": task.every_seconds},
    }
    for task in celery_app.PERIODIC_TASKS
}
# Its own metrics (the process's; it records nothing else) on SHOP_METRICS_ADDRESS, so Prometheus sees it up.
beat_init.connect(serve_from_environment, weak=False, dispatch_uid="common.telemetry.metrics.beat")
