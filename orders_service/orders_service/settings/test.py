"""Settings for ``pytest``: real Postgres in a test database of this service's own name."""

from common.settings import load_local_env_file

load_local_env_file(service="orders_service")

from orders_service.settings.base import *  # noqa: E402, F403
from orders_service.settings.base import CACHES, CELERY_BROKER_URL, DATABASES, env  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": "test_shop_orders_service"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
# Each service's tests use their own Redis database, apart from a running `up` system.
CELERY_BROKER_URL = env.str("TEST_REDIS_URL", default=CELERY_BROKER_URL)
# The order list cache lives beside the test broker, under a prefix of its own (tests/conftest.py adds one per test).
CACHES["default"]["LOCATION"] = CELERY_BROKER_URL
CACHES["default"]["KEY_PREFIX"] = "test-orders"
