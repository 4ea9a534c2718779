"""What ``pytest`` changes in every service: its own Redis database, fast hashing, mail kept in memory.

A service's ``test.py`` loads ``.var/env/<service>.env``, then its base
settings, then these (``from common.settings.test import *``), then its cache
through ``cache_settings_for_tests``. The tests' Postgres database has the
service's own name (``common.settings.database_settings``).
"""

from typing import Any

import environ

from common import redis_servers

env = environ.Env()

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
# Each service's tests use their own Redis database, apart from a running `up` system.
REDIS_URL = env.str("TEST_REDIS_URL", default=env.str("REDIS_URL"))
CELERY_BROKER_URL = redis_servers.celery_broker_url(REDIS_URL)


def cache_settings_for_tests(caches: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The service's ``CACHES`` in the tests' Redis database, each key prefix with ``test-`` in front.

    The services' tests/conftest.py add a prefix of each test's own on top, so
    no test reads what an earlier one cached (and none flushes: the test broker
    shares the database).
    """
    return {
        alias: {**cache, "LOCATION": [REDIS_URL], "KEY_PREFIX": f"test-{cache['KEY_PREFIX']}"}
        for alias, cache in caches.items()
    }


# The suites test the services' rate limits themselves, whatever SHOP_RATE_LIMITS the environment of `up` gave.
RATE_LIMITS_ON = True
