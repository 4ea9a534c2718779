"""Settings for ``pytest``: real Postgres in a test database of this service's own name."""

from common.settings import load_local_env_file

load_local_env_file(service="users_service")

from users_service.settings.base import *  # noqa: E402, F403
from users_service.settings.base import CELERY_BROKER_URL, DATABASES, env  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": "test_shop_users_service"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
# Each service's tests use their own Redis database, apart from a running `up` system.
CELERY_BROKER_URL = env.str("TEST_REDIS_URL", default=CELERY_BROKER_URL)
# Tests sign with a throwaway key of their own, never the development key under .var/keys/.
from users_service.accounts.signing import generate_private_key_pem  # noqa: E402

JWT_SIGNING_KEY = generate_private_key_pem()
JWT_SIGNING_KEY_ID = "users-test-key"
JWT_PREVIOUS_PUBLIC_JWKS = {"keys": []}
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}  # noqa: F405
# The cache (failed-login counters) lives beside the test broker, under a prefix of its own.
CACHES["default"]["LOCATION"] = env.str("TEST_REDIS_URL", default=CACHES["default"]["LOCATION"])  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "test-users"  # noqa: F405
