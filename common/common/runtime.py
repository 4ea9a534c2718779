"""A long-running process tells the garbage collector what it loaded at start (``gc.freeze``).

A web or worker process loads Django, DRF, Celery, kombu and OpenTelemetry: a few hundred thousand objects
that live as long as the process. Python's full collection walks every one of them, and it runs whenever
enough objects have survived into the oldest generation since the last one. With traces on, the spans a
process keeps for up to a second before they are exported survive that long: in the saga at 20 orders/s
each worker ran a full collection about every 30 s, 60 to 90 ms of CPU each, charged to the order it
happened to land on. After ``gc.freeze()`` those start-up objects sit in a permanent generation the
collector skips; whatever the process makes afterwards is collected as before.

Called once the process has loaded what it serves: a web server's ``wsgi.py`` (after the URLconf, which
Django otherwise imports at the first request; gunicorn's ``--preload`` then forks workers that share
those pages), and a Celery worker's ``worker_ready`` (``common.celery_app``). The scheduler, which loads
little and keeps no spans, is left as it is.
"""

import gc


def freeze_what_is_loaded() -> None:
    """Collect once, then move every object that survives to the generation the collector never walks."""
    gc.collect()
    gc.freeze()


def load_urls_and_freeze() -> None:
    """A web server's process: import the URLconf (its views, serializers, DRF) now, then freeze."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    freeze_what_is_loaded()
