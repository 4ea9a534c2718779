"""Settings for ``pytest``: real Postgres in a test database of this service's own name."""

from common.settings import load_local_env_file

load_local_env_file(service="catalog_service")

from catalog_service.settings.base import *  # noqa: E402, F403
from catalog_service.settings.base import CACHES, CELERY_BROKER_URL, DATABASES, env  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": "test_shop_catalog_service"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
# Each service's tests use their own Redis database, apart from a running `up` system.
CELERY_BROKER_URL = env.str("TEST_REDIS_URL", default=CELERY_BROKER_URL)
CACHES["default"]["LOCATION"] = CELERY_BROKER_URL
