"""Start tracing when a service's Django starts (web server, worker, management command), unless switched off."""

import sys

from django.apps import AppConfig
from django.conf import settings


class TelemetryConfig(AppConfig):
    name = "common.telemetry"
    label = "telemetry"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from common.celery_app import PERIODIC_TASKS
        from common.telemetry import tracing

        # Each task's name on the log lines it writes (message handlers bind more: common.messaging.consumer).
        task_prerun.connect(_task_started, weak=False, dispatch_uid="common.telemetry.task_started")
        task_postrun.connect(_task_finished, weak=False, dispatch_uid="common.telemetry.task_finished")
        if "pytest" in sys.modules:
            return  # a test suite installs what it tests
        tracing.install(
            service=settings.SERVICE_NAME,
            quiet_roots=frozenset(f"run/{task.name}" for task in PERIODIC_TASKS)
            | frozenset(getattr(settings, "TELEMETRY_QUIET_ROOTS", ())),
        )


def _task_started(sender: object = None, **kwargs: object) -> None:
    from common.telemetry import request_id

    request_id.task.set(getattr(sender, "name", "") or "")


def _task_finished(**kwargs: object) -> None:
    from common.telemetry import request_id

    request_id.task.set("")
    request_id.request_id.set("")
