"""The scheduler: one Celery beat process for the whole system.

Beat only publishes messages: each periodic task is sent by name to the queue
of the service that owns it, whose worker runs it. The schedule is a contract
between the services, so it lives here with the other message contracts.

Run it with ``celery -A common.scheduler beat``; it needs only ``REDIS_URL``.
"""

import environ
from celery import Celery
from celery.signals import beat_init

from common import celery_app, redis_servers
from common.telemetry.logs import keep_celery_off_the_root_logger
from common.telemetry.metrics import serve_from_environment

env = environ.Env()

keep_celery_off_the_root_logger(configure_for="scheduler")  # JSON log lines, as in every process
app = Celery("scheduler")
_delivery = celery_app.delivery_settings(
    visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=celery_app.VISIBILITY_TIMEOUT_SECONDS)
)
_redis_url = env.str("REDIS_URL")
app.conf.update(
    _delivery,
    broker_url=redis_servers.celery_broker_url(_redis_url),
    broker_transport_options={
        **_delivery["broker_transport_options"],
        **redis_servers.celery_transport_options(_redis_url),
    },
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
