"""The base settings every service shares (``from common.settings.base import *`` in its ``base.py``).

Every environment-dependent value is read from the environment here, with the
same variable and default in every service. See ``common.settings`` for the
layers and why they are plain assignments.
"""

import json
from pathlib import Path

import environ

from common import celery_app, redis_servers
from common.telemetry import logs

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Security headers on every response, API and admin alike (SecurityMiddleware, XFrameOptionsMiddleware); Django's
# defaults, written out so a reader sees them and a change shows in review. HSTS is production's (over TLS only).
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The largest request body a service reads (the gateway's limit too): larger is a 413, before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# The gateway's addresses: X-Forwarded-For and X-Forwarded-Proto are believed from these only (common.proxy).
TRUSTED_PROXIES = env.list("DJANGO_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

MIDDLEWARE = [
    "common.telemetry.metrics.HttpMetricsMiddleware",  # outermost: every answer is counted, errors included
    # First: every response (errors included) returns the request id, and the request's log line carries it.
    "common.telemetry.request_id.RequestIdMiddleware",
    "common.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.errors.JsonErrorMiddleware",
    "common.errors.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parents[1] / "templates"],  # the admins' header (common/templates)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "common.admin_links.other_admins",
            ],
        },
    },
]
ADMIN_URL_PREFIX = "admin/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["common.auth.authentication.JWTAuthentication"],
    # Deny by default: a view that forgets its permissions answers only authenticated callers.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 20,
    # A view with a throttle_scope is limited at THROTTLE_RATES[scope] (common.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["common.throttling.throttles.ScopedThrottle"],
}
# The services' own rate limits (the gateway has its own per address): per client address on register, token and
# refresh, per user on placing orders. SHOP_RATE_LIMITS=off switches them all off (benchmarks, load tests).
RATE_LIMITS_ON = env.str("SHOP_RATE_LIMITS", default="on").strip().lower() != "off"
THROTTLE_RATES = {
    "register": env.str("SHOP_THROTTLE_REGISTER", default="10/hour"),
    "token": env.str("SHOP_THROTTLE_TOKEN", default="20/min"),
    "refresh": env.str("SHOP_THROTTLE_REFRESH", default="60/min"),
    "orders": env.str("SHOP_THROTTLE_ORDERS", default="30/min"),
}
DRF_STANDARDIZED_ERRORS = {
    # Every error, validation errors included, is {type, errors: [{code, detail, attr}]}.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # The services' ApplicationError (common.errors) answered in that shape too, with its status and headers.
    "EXCEPTION_HANDLER_CLASS": "common.errors.ApplicationErrorHandler",
}

# How a service verifies users_service's tokens (common.auth.keys): the public keys are JWT_PUBLIC_JWKS (a JWKS
# as JSON), plus those in JWT_PUBLIC_JWKS_FILE, plus those fetched from JWT_JWKS_URL; any of the three may be given.
JWT_ISSUER = env.str("JWT_ISSUER", default="shop-users")
JWT_PUBLIC_JWKS = env.json("JWT_PUBLIC_JWKS", default={})
if _jwks_file := env.str("JWT_PUBLIC_JWKS_FILE", default=""):
    JWT_PUBLIC_JWKS = {
        "keys": [*JWT_PUBLIC_JWKS.get("keys", []), *json.loads(Path(_jwks_file).read_text()).get("keys", [])]
    }
JWT_JWKS_URL = env.str("JWT_JWKS_URL", default="")
JWT_JWKS_TIMEOUT_SECONDS = env.float("JWT_JWKS_TIMEOUT_SECONDS", default=2.0)
JWT_JWKS_CACHE_SECONDS = env.int("JWT_JWKS_CACHE_SECONDS", default=300)
JWT_JWKS_MIN_REFETCH_SECONDS = env.int("JWT_JWKS_MIN_REFETCH_SECONDS", default=10)
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=5)
# Failed-login lockout of every login, API and admins (common.login_lockout).
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# Every call to another service (common.remote_calls): a connect timeout, and a circuit breaker that opens after
# this many failures in a row and answers at once for REMOTE_CALL_OPEN_SECONDS before it lets one call probe.
REMOTE_CALL_CONNECT_TIMEOUT_SECONDS = env.float("REMOTE_CALL_CONNECT_TIMEOUT_SECONDS", default=1.0)
REMOTE_CALL_FAILURES_TO_OPEN = env.int("REMOTE_CALL_FAILURES_TO_OPEN", default=3)
REMOTE_CALL_OPEN_SECONDS = env.float("REMOTE_CALL_OPEN_SECONDS", default=10.0)

# Celery, at-least-once delivery: the values are common.celery_app's (which the scheduler uses too); each service
# adds CELERY_TASK_DEFAULT_QUEUE, the only queue its worker consumes.
_delivery = celery_app.delivery_settings(
    visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=celery_app.VISIBILITY_TIMEOUT_SECONDS),
    time_limit=env.int("CELERY_TASK_TIME_LIMIT", default=celery_app.TASK_TIME_LIMIT_SECONDS),
)
# One Redis server (redis://) or the master Redis Sentinel names (sentinel://): common.redis_servers.
REDIS_URL = env.str("REDIS_URL")
CELERY_BROKER_URL = redis_servers.celery_broker_url(REDIS_URL)
CELERY_TASK_SERIALIZER = _delivery["task_serializer"]
CELERY_RESULT_SERIALIZER = _delivery["result_serializer"]
CELERY_ACCEPT_CONTENT = _delivery["accept_content"]
CELERY_TASK_ACKS_LATE = _delivery["task_acks_late"]
CELERY_TASK_REJECT_ON_WORKER_LOST = _delivery["task_reject_on_worker_lost"]
CELERY_WORKER_PREFETCH_MULTIPLIER = _delivery["worker_prefetch_multiplier"]
CELERY_WORKER_POOL = _delivery["worker_pool"]
CELERY_TASK_TIME_LIMIT = _delivery["task_time_limit"]
CELERY_TASK_SOFT_TIME_LIMIT = _delivery["task_soft_time_limit"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_delivery["broker_transport_options"],
    **redis_servers.celery_transport_options(REDIS_URL),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = _delivery["broker_connection_retry_on_startup"]
CELERY_TASK_IGNORE_RESULT = _delivery["task_ignore_result"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = _delivery["worker_hijack_root_logger"]
CELERY_WORKER_SEND_TASK_EVENTS = _delivery["worker_send_task_events"]
CELERY_TIMEZONE = _delivery["timezone"]
CELERY_ENABLE_UTC = _delivery["enable_utc"]

# How common.messaging publishes, retries and relays (outbox, inbox, dead letters; see its docstring).
# A publish gives up after this long, so a Redis outage cannot hang a request.
MESSAGING_PUBLISH_TIMEOUT_SECONDS = env.float("MESSAGING_PUBLISH_TIMEOUT_SECONDS", default=1.0)
# A publish counts as sent once this many Redis replicas have it (common.messaging.publisher): under Sentinel, one,
# so that a failover cannot lose what the outbox marked sent.
MESSAGING_PUBLISH_REPLICAS = env.int(
    "MESSAGING_PUBLISH_REPLICAS", default=1 if redis_servers.sentinel_location(REDIS_URL) else 0
)
# A handler that raises is tried this many times in all, then parked as a dead letter.
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=5)
MESSAGING_RETRY_BACKOFF_SECONDS = env.float("MESSAGING_RETRY_BACKOFF_SECONDS", default=1.0)
MESSAGING_RETRY_BACKOFF_MAX_SECONDS = env.float("MESSAGING_RETRY_BACKOFF_MAX_SECONDS", default=60.0)
MESSAGING_RELAY_BATCH_SIZE = env.int("MESSAGING_RELAY_BATCH_SIZE", default=200)
# The relay leaves younger rows to their own after-commit publish.
MESSAGING_RELAY_MIN_AGE_SECONDS = env.float("MESSAGING_RELAY_MIN_AGE_SECONDS", default=2.0)

# One log format for every process: JSON lines (common.telemetry.logs) from web servers, workers and the scheduler.
# CELERY_TASK_LOG_LEVEL is for Celery's two lines per task ("received", "succeeded in"): at WARNING (the default) a
# worker logs a task only when it fails or retries, not four lines for every order that goes through the saga. The
# inbox in each service's admin lists every message applied, with its time.
LOGGING = logs.logging_config(
    level=env.str("DJANGO_LOG_LEVEL", default="INFO"),
    task_log_level=env.str("CELERY_TASK_LOG_LEVEL", default="WARNING"),
)
