"""JSON log lines for every process (web, worker, scheduler), with python-json-logger.

One line a record, with the fields of the contract (``ARCHITECTURE.md``, Telemetry): ``ts``, ``level``,
``service``, ``process``, ``logger``, ``msg``, ``request_id``, ``trace_id``, ``span_id``, and ``order_id``,
``message_id``, ``task`` where known, plus whatever a call passes in ``extra`` and ``exc_info`` for a
traceback. Every value is a JSON string, so a caller's text (a path, a header) can never forge a field or a
line: newlines and quotes are escaped.
"""

import logging
import logging.config
import os
import sys
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from opentelemetry import trace
from pythonjsonlogger.core import merge_record_extra
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from common.telemetry import request_id as context

request_logger = logging.getLogger("common.request")

# The LogRecord attributes that python-json-logger would copy; the contract's fields replace them.
_RESERVED = ("message", "asctime", "levelname", "name")


def process_role(argv: list[str] | None = None) -> str:
    """What this process is, from its command line: ``web``, ``worker``, ``scheduler`` or ``command``."""
    argv = sys.argv if argv is None else argv
    program = os.path.basename(argv[0]) if argv else ""
    if "celery" in program or (len(argv) > 1 and "celery" in argv[1]):
        return "scheduler" if "beat" in argv else "worker" if "worker" in argv else "command"
    if program in {"granian", "gunicorn"} or "runserver" in argv:
        return "web"
    if program == "manage.py" or "pytest" in program:
        return "command"
    return "web"  # a WSGI server that imports the application (granian's workers, uwsgi, ...)


def _service_name() -> str:
    from django.conf import settings

    if settings.configured and hasattr(settings, "SERVICE_NAME"):
        return str(settings.SERVICE_NAME)
    # A web server's own process, before (or without) Django: its settings module names the service.
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return module.partition(".settings")[0] if ".settings" in module else "scheduler"


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter with the contract's field names and the ids of the work in hand."""

    def __init__(self, *args: Any, service: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)
        self._service = service
        self._process: str | None = None

    def _identity(self) -> tuple[str, str]:
        if self._process is None:
            service = self._service or _service_name()
            role = process_role()
            short = service.removesuffix("_service")
            self._service, self._process = service, role if short == role else f"{short}-{role}"
        return self._service or "", self._process

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        service, process = self._identity()
        log_data["ts"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["service"] = service
        log_data["process"] = process
        log_data["logger"] = record.name
        log_data["msg"] = record.getMessage()
        log_data["request_id"] = context.request_id.get()
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            log_data["trace_id"] = format(span_context.trace_id, "032x")
            log_data["span_id"] = format(span_context.span_id, "016x")
        else:
            log_data["trace_id"] = log_data["span_id"] = ""
        for name, variable in (
            ("order_id", context.order_id),
            ("message_id", context.message_id),
            ("task", context.task),
        ):
            if value := variable.get():
                log_data[name] = value
        # What the call passed in ``extra`` (and a traceback), never overriding the fields above.
        extra = merge_record_extra(record, dict(message_dict), reserved=self._skip_fields)
        for key, value in extra.items():
            if key not in log_data and key not in _RESERVED:
                log_data[key] = value
        if record.exc_info and "exc_info" not in log_data:
            log_data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info and "stack_info" not in log_data:
            log_data["stack_info"] = self.formatStack(record.stack_info)


def logging_config(
    *, level: str = "INFO", task_log_level: str = "WARNING", service: str | None = None
) -> dict[str, Any]:
    """``LOGGING`` (a ``dictConfig``): JSON lines on stderr for every logger, the same in every process."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "common.telemetry.logs.JsonFormatter", "service": service}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django's own line per 4xx/5xx request repeats ours (common.request), without the ids.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            # Celery's two lines per task ("received", "succeeded in"), at WARNING by default: see settings.
            "celery.app.trace": {"level": task_log_level},
            "celery.worker.strategy": {"level": task_log_level},
            # The OTLP exporter logs every retry while a collector is down; common.telemetry.tracing counts the
            # spans it drops and says so once a minute.
            "opentelemetry.exporter.otlp": {"level": "CRITICAL"},
        },
    }


def log_request(request: HttpRequest, response: HttpResponse, *, seconds: float) -> None:
    """The request's access line (logger ``common.request``), written by ``RequestIdMiddleware``."""
    if not request_logger.isEnabledFor(logging.INFO):
        return
    status = response.status_code
    request_logger.log(
        logging.ERROR if status >= 500 else logging.INFO,
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


def keep_celery_off_the_root_logger(*, configure_for: str | None = None) -> None:
    """Tell Celery not to set up logging (its ``setup_logging`` signal has a receiver), so its records go through
    our JSON handler, the task loggers' included.

    A worker's Django settings configure logging (``LOGGING``); the scheduler has no Django, so
    ``configure_for="scheduler"`` configures the same JSON lines for it.
    """
    from celery.signals import setup_logging

    def configure(loglevel: int | str | None = None, **kwargs: object) -> None:
        if configure_for:
            level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or "INFO")
            logging.config.dictConfig(logging_config(level=str(level), service=configure_for))

    setup_logging.connect(configure, weak=False, dispatch_uid="common.telemetry.logs.setup_logging")
