"""The benchmark's profile (bench.profile): py-spy's stacks charged to layers and scaled to CPU per order."""

import inspect

from opentelemetry.instrumentation import dbapi

from bench.profile import OTHER, ROOT, SQL, STATEMENT, TELEMETRY, milliseconds, read_collapsed

SITE = "/venv/lib/python3.11/site-packages"
WORKER = f"<module> (/venv/bin/celery:8);asynloop ({SITE}/celery/worker/loops.py:130)"
TASK = f"{WORKER};trace_task ({SITE}/celery/app/trace.py:479);consume ({ROOT}/common/common/messaging/consumer.py:88)"
HANDLER = f"{TASK};reservation_reserve ({ROOT}/catalog_service/catalog_service/reservations/services.py:51)"
DJANGO_EXECUTE = f"CursorWrapper._execute ({SITE}/django/db/backends/utils.py:105)"


def _statement_line() -> tuple[str, int]:
    """Where the psycopg2 instrumentation runs the statement itself, in the installed version."""
    source, first = inspect.getsourcelines(dbapi.CursorTracer.traced_execution)
    offset = next(number for number, line in enumerate(source) if "return query_method(" in line)
    return inspect.getsourcefile(dbapi.CursorTracer), first + offset


def test_a_sample_is_charged_to_the_innermost_frame_of_a_layer():
    path, line = _statement_line()
    traced = f"{HANDLER};{DJANGO_EXECUTE};CursorTracer.traced_execution ({path}:{line - 20})"
    profile = read_collapsed(
        [
            f"{HANDLER} 7",  # the service's own line
            f"{HANDLER};{DJANGO_EXECUTE} 5",  # Django's connection
            f"{traced} 3",  # the instrumentation's span around the statement: telemetry
            f"{HANDLER};{DJANGO_EXECUTE};CursorTracer.traced_execution ({path}:{line}) 4",  # the statement itself
            f"{TASK};dumps (/usr/lib/python3.11/json/__init__.py:231) 2",
            f"{TASK};_uuid4 (/usr/lib/python3.11/uuid.py:723) 1",  # the standard library: its caller's layer
            f"{WORKER};drain_events ({SITE}/kombu/transport/redis.py:2250) 6",
            "<module> (/usr/lib/python3.11/threading.py:1002) 2",  # nothing of a layer
            "not a stack line",
        ]
    )

    assert profile.samples == 30
    assert profile.by_layer == {
        "the services' own code": 7,
        SQL: 9,
        TELEMETRY: 3,
        "JSON": 2,
        "outbox, inbox, contracts": 1,
        "Celery and kombu": 6,
        OTHER: 2,
    }
    assert profile.by_function[STATEMENT] == 4
    assert profile.by_function["reservation_reserve (catalog_service/catalog_service/reservations/services.py)"] == 7


def test_the_parts_add_up_to_the_programs_cpu_per_order():
    profile = read_collapsed([f"{HANDLER} 30", f"{HANDLER};{DJANGO_EXECUTE} 10"])

    by_layer = milliseconds(profile, 8.0, profile.by_layer)

    assert by_layer == {"the services' own code": 6.0, SQL: 2.0}
    assert milliseconds(read_collapsed([]), 8.0, profile.by_layer) == {}
