"""users_service's settings in every environment: its name, schema, queue and apps, and what only it has.

Only users_service signs tokens (``JWT_SIGNING_KEY``, ``SIMPLE_JWT``) and
counts failed logins. What all three services share, and how it is read from
the environment, is ``common.settings.base``, imported first (``common.settings``
describes the layers).
"""

from datetime import timedelta
from pathlib import Path

from common import settings as shared
from common.settings.base import *  # noqa: F403
from common.settings.base import REST_FRAMEWORK, env
from users_service.accounts.signing import signing_settings

SERVICE_NAME = "users_service"
DATABASE_SCHEMA = "users"
CELERY_TASK_DEFAULT_QUEUE = "users"  # the only queue this service's worker consumes
INSTALLED_APPS = [
    *shared.SHARED_APPS,
    "users_service.accounts",
    "users_service.notifications",
    "rest_framework_simplejwt.token_blacklist",  # outstanding and blacklisted refresh tokens
]

BASE_DIR = Path(__file__).resolve().parents[2]
ROOT_URLCONF = "users_service.urls"
WSGI_APPLICATION = "users_service.wsgi.application"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
DATABASES = shared.database_settings(env, service=SERVICE_NAME, schema=DATABASE_SCHEMA)
SESSION_COOKIE_NAME = shared.session_cookie_name(service=SERVICE_NAME)
CSRF_COOKIE_NAME = shared.csrf_cookie_name(service=SERVICE_NAME)
# Admin, docs, schema and static files under /<short>/ (common.settings.url_prefix), cookies only there.
URL_PREFIX = shared.url_prefix(service=SERVICE_NAME)
ADMIN_URL_PREFIX, STATIC_URL = f"{URL_PREFIX[1:]}admin/", f"{URL_PREFIX}static/"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = URL_PREFIX
# Failed-login lockout (common.login_lockout) counts in this cache, shared by every web worker.
CACHES = shared.cache_settings(env, service=SERVICE_NAME)
SPECTACULAR_SETTINGS = shared.spectacular_settings(
    service=SERVICE_NAME, description="Accounts, roles, JWT issuing (RS256, JWKS) and notifications."
)

AUTH_USER_MODEL = "accounts.User"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    # common.auth's verification, plus: the account must exist and be active; request.user is the User row.
    "DEFAULT_AUTHENTICATION_CLASSES": ["users_service.accounts.authentication.ActiveUserJWTAuthentication"],
}

# What signs tokens (users_service.accounts.signing): the private key (PEM, empty if not configured; production
# settings require one), its kid, and the public keys of earlier signing keys, still trusted.
_signing = signing_settings(env)
JWT_SIGNING_KEY = _signing["JWT_SIGNING_KEY"]
JWT_SIGNING_KEY_ID = _signing["JWT_SIGNING_KEY_ID"]
JWT_PREVIOUS_PUBLIC_JWKS = _signing["JWT_PREVIOUS_PUBLIC_JWKS"]
# users_service trusts its own published keys directly, never through a request to itself.
JWT_PUBLIC_JWKS_PROVIDER = "users_service.accounts.signing.published_jwks"
JWT_JWKS_URL = ""
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    # users_service.accounts.tokens signs with it, adding the kid header and JWT_ISSUER as iss.
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_TOKEN_SECONDS", default=7 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
}

DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="shop@localhost")  # order notifications
