"""orders_service's settings in every environment: its name, schema, queue and apps, and what only it has.

Its admin signs operators in through users_service (``common.settings.admin_sso``);
its cache holds customers' order lists; the saga has a timeout. What all three
services share, and how it is read from the environment, is
``common.settings.base``, imported first (``common.settings`` describes the layers).
"""

from pathlib import Path

from common import settings as shared
from common.settings.admin_sso import *  # noqa: F403 - operators log into the admin with their users_service account
from common.settings.base import *  # noqa: F403
from common.settings.base import env

SERVICE_NAME = "orders_service"
DATABASE_SCHEMA = "orders"
CELERY_TASK_DEFAULT_QUEUE = "orders"  # the only queue this service's worker consumes
INSTALLED_APPS = [
    *shared.SHARED_APPS,
    "common.auth.deactivations",  # tokens of deactivated users refused (catalog/orders.user_deactivated)
    "common.admin_sso",
    "orders_service.orders",
]

BASE_DIR = Path(__file__).resolve().parents[2]
ROOT_URLCONF = "orders_service.urls"
WSGI_APPLICATION = "orders_service.wsgi.application"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
DATABASES = shared.database_settings(env, service=SERVICE_NAME, schema=DATABASE_SCHEMA)
SESSION_COOKIE_NAME = shared.session_cookie_name(service=SERVICE_NAME)
CSRF_COOKIE_NAME = shared.csrf_cookie_name(service=SERVICE_NAME)
# Admin, docs, schema and static files under /<short>/ (common.settings.url_prefix), cookies only there.
URL_PREFIX = shared.url_prefix(service=SERVICE_NAME)
ADMIN_URL_PREFIX, STATIC_URL = f"{URL_PREFIX[1:]}admin/", f"{URL_PREFIX}static/"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = URL_PREFIX
# A customer's order list is cached per user (orders_service.orders.list_cache), in the broker's Redis unless
# CACHE_URL says otherwise.
CACHES = shared.cache_settings(env, service=SERVICE_NAME)
# A customer's read of that list starts no trace of their own (common.telemetry.tracing.QuietSampler): a trace of
# each would cost more than the cached read. A read that carries a sampled traceparent is traced in its trace;
# every read is still counted and timed (shop_http_*) and logged. Placing and cancelling orders are traced.
TELEMETRY_QUIET_ROOTS = ["GET api/v1/orders/"]
SPECTACULAR_SETTINGS = shared.spectacular_settings(service=SERVICE_NAME, description="Orders and the order saga.")

ADMIN_ROLE_PERMISSIONS = {
    "order_operator": [
        "orders.*",
        "messaging.view_*",
        "messaging.change_deadletter",  # replay, discard
        "messaging.change_outboxmessage",  # send now
    ],
    "catalog_manager": ["orders.view_*"],
}

# An order pending or cancelling for longer is driven on again (its message re-sent) by orders.redrive_stuck_orders.
ORDERS_SAGA_TIMEOUT_SECONDS = env.float("ORDERS_SAGA_TIMEOUT_SECONDS", default=30.0)
