"""What readiness depends on: the service's database and its message broker.

``/health/ready/`` is public (load balancers and probes call it): it names the check that failed and
nothing more. Why it failed (host, port, the exception's text) goes to the log, for operators.
"""

import logging

from django.conf import settings
from django.db import connections

from common import redis_servers

CHECK_TIMEOUT_SECONDS = 2
UNAVAILABLE = "unavailable"

logger = logging.getLogger(__name__)


def database_check() -> None:
    """Raise if the service's database does not answer a query."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def broker_check() -> None:
    """Raise if the Redis broker (the master, behind Sentinel) does not answer a PING."""
    client = redis_servers.redis_client(
        settings.REDIS_URL,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
        client.connection_pool.disconnect()  # a Sentinel-managed pool is not closed with its client


READINESS_CHECKS = {"database": database_check, "broker": broker_check}


def readiness() -> dict[str, str]:
    """Run every check; map each to ``ok`` or ``unavailable`` (why is logged, never answered)."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", and is logged
            logger.warning("readiness check %s failed: %s: %s", name, type(error).__name__, error)
            results[name] = UNAVAILABLE
        else:
            results[name] = "ok"
    return results
