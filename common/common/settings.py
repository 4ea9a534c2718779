"""Settings pieces defined once and imported by every service's ``base.py``.

Each service keeps its own settings module (cookiecutter-django style); what
must be identical across the services lives here so it cannot drift.
"""

import json
from pathlib import Path

import environ

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def load_local_env_file(*, service: str) -> None:
    """Load ``.var/env/<service>.env`` (written by ``./manage_all.sh up``) into the environment.

    Only local and test settings call this, so ``manage.py`` and ``pytest``
    work from a plain shell. Variables already in the environment win.
    Production settings never read a file.
    """
    default_file = REPOSITORY_ROOT / ".var" / "env" / f"{service}.env"
    env_file = Path(environ.Env().str("DJANGO_ENV_FILE", default=str(default_file)))
    if env_file.is_file():
        environ.Env.read_env(env_file, overwrite=False)


def database(env: environ.Env, *, schema: str) -> dict:
    """The service's database: its own role, its own schema first on the search_path."""
    config = env.db_url("DATABASE_URL")
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # The role's own search_path says the same; repeating it here keeps a test
    # database or a differently provisioned server on the right schema.
    config.setdefault("OPTIONS", {})["options"] = f"-c search_path={schema}"
    config["OPTIONS"].setdefault("connect_timeout", 5)
    return config


DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
]

COMMON_APPS = [
    "common.database",
    "common.health",
    "common.messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.errors.JsonErrorMiddleware",
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
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["common.auth.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 20,
}


def jwt_verification_settings(env: environ.Env) -> dict:
    """How this service verifies users_service's tokens (see ``common.auth.keys``).

    ``JWT_PUBLIC_JWKS`` (a JWKS as JSON) or ``JWT_PUBLIC_JWKS_FILE`` configure
    the public keys; ``JWT_JWKS_URL`` fetches them from users_service. Either
    or both may be given.
    """
    jwks = env.json("JWT_PUBLIC_JWKS", default={})
    jwks_file = env.str("JWT_PUBLIC_JWKS_FILE", default="")
    if jwks_file:
        jwks = {"keys": [*jwks.get("keys", []), *json.loads(Path(jwks_file).read_text()).get("keys", [])]}
    return {
        "JWT_ISSUER": env.str("JWT_ISSUER", default="shop-users"),
        "JWT_PUBLIC_JWKS": jwks,
        "JWT_JWKS_URL": env.str("JWT_JWKS_URL", default=""),
        "JWT_JWKS_TIMEOUT_SECONDS": env.float("JWT_JWKS_TIMEOUT_SECONDS", default=2.0),
        "JWT_JWKS_CACHE_SECONDS": env.int("JWT_JWKS_CACHE_SECONDS", default=300),
        "JWT_JWKS_MIN_REFETCH_SECONDS": env.int("JWT_JWKS_MIN_REFETCH_SECONDS", default=10),
        "JWT_LEEWAY_SECONDS": env.int("JWT_LEEWAY_SECONDS", default=5),
    }


def messaging_settings(env: environ.Env) -> dict:
    """How ``common.messaging`` publishes, retries and relays (see its docstring)."""
    return {
        # A publish gives up after this long, so a Redis outage cannot hang a request.
        "MESSAGING_PUBLISH_TIMEOUT_SECONDS": env.float("MESSAGING_PUBLISH_TIMEOUT_SECONDS", default=1.0),
        # A handler that raises is tried this many times in all, then parked as a dead letter.
        "MESSAGING_MAX_ATTEMPTS": env.int("MESSAGING_MAX_ATTEMPTS", default=5),
        "MESSAGING_RETRY_BACKOFF_SECONDS": env.float("MESSAGING_RETRY_BACKOFF_SECONDS", default=1.0),
        "MESSAGING_RETRY_BACKOFF_MAX_SECONDS": env.float("MESSAGING_RETRY_BACKOFF_MAX_SECONDS", default=60.0),
        "MESSAGING_RELAY_BATCH_SIZE": env.int("MESSAGING_RELAY_BATCH_SIZE", default=200),
        # The relay leaves younger rows to their own after-commit publish.
        "MESSAGING_RELAY_MIN_AGE_SECONDS": env.float("MESSAGING_RELAY_MIN_AGE_SECONDS", default=2.0),
    }


def admin_sso_settings(env: environ.Env, *, role_permissions: dict[str, list[str]]) -> dict:
    """Operator single sign-on for this service's admin (``common.admin_sso``).

    ``role_permissions`` maps a role to permission patterns over
    ``<app_label>.<codename>`` (``"catalog.*"``, ``"catalog.view_*"``).
    """
    return {
        "AUTHENTICATION_BACKENDS": [
            "common.admin_sso.backends.UsersServiceBackend",
            "django.contrib.auth.backends.ModelBackend",  # local break-glass accounts (createsuperuser)
        ],
        "USERS_SERVICE_URL": env.str("USERS_SERVICE_URL", default="http://127.0.0.1:8001"),
        "ADMIN_SSO_TIMEOUT_SECONDS": env.float("ADMIN_SSO_TIMEOUT_SECONDS", default=3.0),
        "ADMIN_ROLE_PERMISSIONS": role_permissions,
    }


def cache_settings(env: environ.Env, *, key_prefix: str) -> dict:
    """Django's cache in Redis, shared by every worker process of the service.

    ``CACHE_URL`` (default: ``REDIS_URL``). Keys carry the service's prefix, so
    services (and the Celery keys in the same Redis database) never collide.
    Never a per-process cache: the web server runs several workers, and counters
    such as failed logins must be seen by all of them.
    """
    return {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=env.str("REDIS_URL")),
            "KEY_PREFIX": key_prefix,
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


DRF_STANDARDIZED_ERRORS = {
    # Every error, validation errors included, is {type, errors: [{code, detail, attr}]}.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # The services' ApplicationError (common.errors) answered in that shape too, with its status and headers.
    "EXCEPTION_HANDLER_CLASS": "common.errors.ApplicationErrorHandler",
}


def spectacular_settings(*, title: str, description: str) -> dict:
    """OpenAPI settings; Swagger UI is served from the sidecar, so no internet is needed."""
    return {
        "TITLE": title,
        "DESCRIPTION": description,
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
        "ENUM_NAME_OVERRIDES": {
            "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
            "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
            "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        },
        "POSTPROCESSING_HOOKS": [
            "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
            "drf_spectacular.hooks.postprocess_schema_enums",
            "common.openapi.list_index_attr_patterns",
        ],
    }


def logging_settings(*, level: str, task_level: str = "WARNING") -> dict:
    """One log format for every process: web servers, workers and the scheduler.

    ``task_level`` is for Celery's two lines per task ("received", "succeeded in"): at WARNING (the default)
    a worker logs a task only when it fails or retries, not four lines for every order that goes through
    the saga. The inbox in each service's admin lists every message applied, with its time.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "celery.app.trace": {"level": task_level},
            "celery.worker.strategy": {"level": task_level},
        },
    }
