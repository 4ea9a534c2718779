"""catalog_service's settings in every environment: its name, schema, queue and apps, and what only it has.

Its admin signs operators in through users_service (``common.settings.admin_sso``);
its cache holds public catalogue pages. What all three services share, and how
it is read from the environment, is ``common.settings.base``, imported first
(``common.settings`` describes the layers).
"""

from pathlib import Path

from common import settings as shared
from common.settings.admin_sso import *  # noqa: F403 - operators log into the admin with their users_service account
from common.settings.base import *  # noqa: F403
from common.settings.base import env

SERVICE_NAME = "catalog_service"
DATABASE_SCHEMA = "catalog"
CELERY_TASK_DEFAULT_QUEUE = "catalog"  # the only queue this service's worker consumes
INSTALLED_APPS = [
    *shared.SHARED_APPS,
    "common.auth.deactivations",  # tokens of deactivated users refused (catalog/orders.user_deactivated)
    "common.admin_sso",
    "catalog_service.catalog",
    "catalog_service.reservations",
]

BASE_DIR = Path(__file__).resolve().parents[2]
ROOT_URLCONF = "catalog_service.urls"
WSGI_APPLICATION = "catalog_service.wsgi.application"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
DATABASES = shared.database_settings(env, service=SERVICE_NAME, schema=DATABASE_SCHEMA)
SESSION_COOKIE_NAME = shared.session_cookie_name(service=SERVICE_NAME)
CSRF_COOKIE_NAME = shared.csrf_cookie_name(service=SERVICE_NAME)
# Admin, docs, schema and static files under /<short>/ (common.settings.url_prefix), cookies only there.
URL_PREFIX = shared.url_prefix(service=SERVICE_NAME)
ADMIN_URL_PREFIX, STATIC_URL = f"{URL_PREFIX[1:]}admin/", f"{URL_PREFIX}static/"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = URL_PREFIX
# Public catalogue reads are cached (catalog_service.catalog.public_cache), in the broker's Redis unless
# CATALOG_CACHE_URL says otherwise, for CATALOG_CACHE_SECONDS at the most.
CACHES = shared.cache_settings(
    env,
    service=SERVICE_NAME,
    location_variable="CATALOG_CACHE_URL",
    timeout_seconds=env.int("CATALOG_CACHE_SECONDS", default=300),
    socket_timeout_seconds=1,
)
SPECTACULAR_SETTINGS = shared.spectacular_settings(
    service=SERVICE_NAME, description="Categories, products, stock and reservations."
)
# Public reads served from that cache start no trace of their own (common.telemetry.tracing.QuietSampler): a
# trace of each would cost more than the read. A read that carries a sampled traceparent is traced in its trace;
# every read is still counted and timed (shop_http_*) and logged.
TELEMETRY_QUIET_ROOTS = [
    "GET api/v1/categories/",
    "GET api/v1/categories/<slug:slug>/",
    "GET api/v1/products/",
    "GET api/v1/products/<int:product_id>/",
]

ADMIN_ROLE_PERMISSIONS = {
    "catalog_manager": [
        "catalog.*",
        "reservations.view_*",
        "messaging.view_*",
        "messaging.change_deadletter",  # replay, discard
        "messaging.change_outboxmessage",  # send now
    ],
    "order_operator": ["catalog.view_*", "reservations.view_*"],
}

# The catalogue sells in one currency; products default to it (ISO 4217).
CATALOG_CURRENCY = env.str("CATALOG_CURRENCY", default="EUR")
