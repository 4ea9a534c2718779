"""common.runtime: what a web server's or a worker's process loaded at start is frozen out of the collector's way."""

import os
import subprocess
import sys
from pathlib import Path

SERVICE_ROOT = Path(__file__).resolve().parents[1]
# Far fewer than either process loads at start (Django, DRF, Celery: 60 000 to 120 000 here); none are frozen before.
LOADED_OBJECTS_AT_LEAST = 30_000


def run_in_own_process(program: str) -> list[str]:
    """Freezing this test process would change every test after it: each case gets a process of its own."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=SERVICE_ROOT,
        env={**os.environ, "PYTHONPATH": str(SERVICE_ROOT)},
    )
    return result.stdout.split()


def test_a_web_servers_application_loads_its_urls_then_freezes_what_it_loaded():
    frozen, urls_loaded = run_in_own_process(
        "import gc, sys\n"
        "import orders_service.wsgi\n"
        "from django.conf import settings\n"
        "print(gc.get_freeze_count(), settings.ROOT_URLCONF in sys.modules)\n"
    )

    assert int(frozen) >= LOADED_OBJECTS_AT_LEAST
    assert urls_loaded == "True"  # imported before the freeze, not at the first request


def test_a_worker_freezes_what_it_loaded_once_it_is_ready():
    before, after = run_in_own_process(
        "import gc\n"
        "from celery.signals import worker_ready\n"
        "from orders_service.celery import app\n"
        "before = gc.get_freeze_count()\n"
        "worker_ready.send(sender=None)\n"
        "print(before, gc.get_freeze_count())\n"
    )

    assert int(before) == 0  # nothing is frozen by merely importing the app (a shell, a test, the web)
    assert int(after) >= LOADED_OBJECTS_AT_LEAST
