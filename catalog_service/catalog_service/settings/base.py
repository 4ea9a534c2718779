"""Settings of catalog_service common to every environment.

Every environment-dependent value is read from the environment; the pieces
that must be the same in all three services come from ``common.settings``.
"""

from pathlib import Path

import environ

from common import celery_app
from common import settings as shared

SERVICE_NAME = "catalog_service"
BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    *shared.DJANGO_APPS,
    *shared.THIRD_PARTY_APPS,
    *shared.COMMON_APPS,
    "common.auth.deactivations",  # tokens of deactivated users refused (catalog/orders.user_deactivated)
    "common.admin_sso",  # operators log into the admin with their users_service account
    "catalog_service.catalog",
    "catalog_service.reservations",
]
MIDDLEWARE = shared.MIDDLEWARE
TEMPLATES = shared.TEMPLATES
ROOT_URLCONF = "catalog_service.urls"
WSGI_APPLICATION = "catalog_service.wsgi.application"
ADMIN_URL_PREFIX = "admin/"

DATABASE_SCHEMA = "catalog"
DATABASES = {"default": shared.database(env, schema=DATABASE_SCHEMA)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = shared.AUTH_PASSWORD_VALIDATORS

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

REST_FRAMEWORK = shared.REST_FRAMEWORK
DRF_STANDARDIZED_ERRORS = shared.DRF_STANDARDIZED_ERRORS
# JWT_ISSUER, JWT_PUBLIC_JWKS, JWT_JWKS_URL, ...: how tokens are verified (common.auth).
globals().update(shared.jwt_verification_settings(env))
# AUTHENTICATION_BACKENDS, USERS_SERVICE_URL, ADMIN_ROLE_PERMISSIONS: operator single sign-on (common.admin_sso).
globals().update(
    shared.admin_sso_settings(
        env,
        role_permissions={
            "catalog_manager": ["catalog.*", "reservations.view_*", "messaging.view_*"],
            "order_operator": ["catalog.view_*", "reservations.view_*"],
        },
    )
)
SPECTACULAR_SETTINGS = shared.spectacular_settings(
    title="catalog_service API",
    description="Categories, products, stock and reservations.",
)

CELERY_TASK_DEFAULT_QUEUE = "catalog"  # the only queue this service's worker consumes
# CELERY_BROKER_URL, CELERY_TASK_ACKS_LATE, ...: the delivery settings shared by all services.
globals().update(
    celery_app.django_settings(
        broker_url=env.str("REDIS_URL"),
        visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=celery_app.VISIBILITY_TIMEOUT_SECONDS),
    )
)

# The catalogue sells in one currency; products default to it (ISO 4217).
CATALOG_CURRENCY = env.str("CATALOG_CURRENCY", default="EUR")
# Public catalogue reads are cached in Redis (see catalog_service.catalog.public_cache). The cache shares
# the broker's Redis unless CATALOG_CACHE_URL says otherwise; its keys carry their own prefix, and nothing
# may ever call cache.clear() on it (that would flush the broker's database).
CACHES = {
    "default": {
        "BACKEND": "common.cache.RedisCache",
        "LOCATION": env.str("CATALOG_CACHE_URL", default=env.str("REDIS_URL")),
        "KEY_PREFIX": "catalog_service",
        "TIMEOUT": env.int("CATALOG_CACHE_SECONDS", default=300),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# MESSAGING_*: publish timeout, retries and relay of common.messaging (outbox, inbox, dead letters).
globals().update(shared.messaging_settings(env))

LOGGING = shared.logging_settings(
    level=env.str("DJANGO_LOG_LEVEL", default="INFO"), task_level=env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")
)
