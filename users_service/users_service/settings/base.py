"""Settings of users_service common to every environment.

Every environment-dependent value is read from the environment; the pieces
that must be the same in all three services come from ``common.settings``.
"""

from datetime import timedelta
from pathlib import Path

import environ

from common import celery_app
from common import settings as shared
from users_service.accounts.signing import signing_settings

SERVICE_NAME = "users_service"
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
    "users_service.accounts",
    "users_service.notifications",
    "rest_framework_simplejwt.token_blacklist",  # outstanding and blacklisted refresh tokens
]
MIDDLEWARE = shared.MIDDLEWARE
TEMPLATES = shared.TEMPLATES
ROOT_URLCONF = "users_service.urls"
WSGI_APPLICATION = "users_service.wsgi.application"
ADMIN_URL_PREFIX = "admin/"

DATABASE_SCHEMA = "users"
DATABASES = {"default": shared.database(env, schema=DATABASE_SCHEMA)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = shared.AUTH_PASSWORD_VALIDATORS

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

REST_FRAMEWORK = {
    **shared.REST_FRAMEWORK,
    # common.auth's verification, plus: the account must exist and be active; request.user is the User row.
    "DEFAULT_AUTHENTICATION_CLASSES": ["users_service.accounts.authentication.ActiveUserJWTAuthentication"],
}
DRF_STANDARDIZED_ERRORS = shared.DRF_STANDARDIZED_ERRORS
# JWT_ISSUER, JWT_PUBLIC_JWKS, JWT_JWKS_URL, ...: how tokens are verified (common.auth).
globals().update(shared.jwt_verification_settings(env))
# JWT_SIGNING_KEY, JWT_SIGNING_KEY_ID, JWT_PREVIOUS_PUBLIC_JWKS: what signs tokens (users_service.accounts.signing).
SIGNING = signing_settings(env)
globals().update(SIGNING)
# users_service trusts its own published keys directly, never through a request to itself.
JWT_PUBLIC_JWKS_PROVIDER = "users_service.accounts.signing.published_jwks"
JWT_JWKS_URL = ""
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    # users_service.accounts.tokens signs with it, adding the kid header and JWT_ISSUER as iss.
    "SIGNING_KEY": SIGNING["JWT_SIGNING_KEY"],
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_TOKEN_SECONDS", default=7 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
}
# Failed-login lockout (users_service.accounts.login_throttle), counted in the shared Redis cache.
CACHES = shared.cache_settings(env, key_prefix="users")
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
SPECTACULAR_SETTINGS = shared.spectacular_settings(
    title="users_service API",
    description="Accounts, roles, JWT issuing (RS256, JWKS) and notifications.",
)

CELERY_TASK_DEFAULT_QUEUE = "users"  # the only queue this service's worker consumes
# CELERY_BROKER_URL, CELERY_TASK_ACKS_LATE, ...: the delivery settings shared by all services.
globals().update(
    celery_app.django_settings(
        broker_url=env.str("REDIS_URL"),
        visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=celery_app.VISIBILITY_TIMEOUT_SECONDS),
    )
)

DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="shop@localhost")  # order notifications

# MESSAGING_*: publish timeout, retries and relay of common.messaging (outbox, inbox, dead letters).
globals().update(shared.messaging_settings(env))

LOGGING = shared.logging_settings(
    level=env.str("DJANGO_LOG_LEVEL", default="INFO"), task_level=env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")
)
