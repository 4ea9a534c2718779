"""The settings every service shares, written once; each service's settings add what makes it different.

A service's settings modules are layers, as in cookiecutter-django; each one is
the service's own module on top of, or under, its counterpart here::

    <service>.settings.base        = common.settings.base     + the service's name, schema, queue, apps, own settings
    <service>.settings.local       = <service>.settings.base  + common.settings.local
    <service>.settings.production  = <service>.settings.base  + common.settings.production
    <service>.settings.test        = <service>.settings.base  + common.settings.test

``common.settings.base``, ``.local``, ``.production`` and ``.test`` (and
``.admin_sso``, for the services whose admin signs operators in through
users_service) are plain assignments, taken in with ``from ... import *`` as
cookiecutter-django's ``local.py`` takes in its ``base.py``; the later import
wins (an ``# isort: split`` keeps the order). What depends on the service (its
database schema, its cache's key prefix, its API's title) is one call of a
function below, assigned to its setting by name in the service's ``base.py``.

Why not one ``service_settings(name=..., schema=..., ...)`` call: a function can
only hand back a dict, and turning a dict into a module's settings takes
``globals().update(...)``, which hides from a reader (and from linters and
``grep``) which settings a module has. Star imports of modules of plain
assignments are the one mechanism Python offers that keeps every setting
written out by name, once.

Importing this package reads nothing from the environment (``load_local_env_file``
must run before the layers do); the layers read it when imported.
"""

from pathlib import Path
from typing import Any

import environ

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]


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


# The apps of every service; a service's INSTALLED_APPS adds its own after these.
SHARED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "common.database",
    "common.health",
    "common.messaging",
    "common.throttling",
    "common.telemetry",
    "common.strict_strings",
]


def url_prefix(*, service: str) -> str:
    """``"/catalog/"``: where the service serves its admin, docs, schema and static files, and where its cookies
    apply. The same paths directly and through the gateway, which routes them to it unchanged (ARCHITECTURE.md,
    Edge): nothing is rewritten, so no SCRIPT_NAME is needed."""
    return f"/{service.removesuffix('_service')}/"


def database_settings(env: environ.Env, *, service: str, schema: str) -> dict[str, Any]:
    """``DATABASES``: the service's own role, its own schema first on the search_path.

    Tests run in a database of the service's own name (``test_shop_<service>``),
    so the three services' test runs never share one.
    """
    config: dict[str, Any] = env.db_url("DATABASE_URL")
    # Django's PostgreSQL backend with a health check that makes no round trip (common/database/postgresql).
    config["ENGINE"] = "common.database.postgresql"
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    if env.bool("DATABASE_TRANSACTION_POOLING", default=False):
        # Through PgBouncer in transaction pooling mode (README, "Postgres connections"): consecutive transactions
        # of one Django connection may run on different server connections, so nothing may outlive a
        # transaction. Django's server-side cursors (.iterator()) would; and PgBouncer refuses the ``options``
        # startup parameter, so the schema comes from the role's own search_path (deploy/postgres/bootstrap.sql).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        # Nor may a prepared statement (common.database.prepared): every statement is sent as text.
        config["PREPARED_STATEMENTS"] = False
    else:
        config["PREPARED_STATEMENTS"] = True
        # The role's own search_path says the same; repeating it here keeps a test
        # database or a differently provisioned server on the right schema.
        config["OPTIONS"]["options"] = f"-c search_path={schema}"
    config["TEST"] = {"NAME": f"test_shop_{service}"}
    return {"default": config}


def cache_settings(
    env: environ.Env,
    *,
    service: str,
    location_variable: str = "CACHE_URL",
    timeout_seconds: int = 300,
    socket_timeout_seconds: float = 2,
) -> dict[str, Any]:
    """``CACHES``: Django's cache in Redis, shared by every worker process of the service.

    The location is ``location_variable`` (default: ``REDIS_URL``, the broker's
    Redis), a ``redis://`` or ``sentinel://`` URL (``common.redis_servers``).
    The one rule for key prefixes: every key starts with the service's
    name (``users_service:1:...``), as its other Redis keys do, so services (and
    the Celery keys in the same Redis database) never collide; tests put
    ``test-`` in front (``common.settings.test``). Never a per-process cache:
    the web server runs several workers, and counters such as failed logins
    must be seen by all of them. Nothing may call ``cache.clear()`` on it (that
    would flush the broker's database).
    """
    return {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            # A list of one: Django would split a string at the commas of a sentinel:// URL's sentinels.
            "LOCATION": [env.str(location_variable, default=env.str("REDIS_URL"))],
            "KEY_PREFIX": service,
            "TIMEOUT": timeout_seconds,
            "OPTIONS": {
                "socket_connect_timeout": socket_timeout_seconds,
                "socket_timeout": socket_timeout_seconds,
                # redis:// or sentinel:// (common.redis_servers), as the broker.
                "pool_class": "common.redis_servers.ConnectionPool",
            },
        }
    }


def session_cookie_name(*, service: str) -> str:
    """The admin's session cookie, named after the service: browsers share the cookies of one host across its
    ports (and, through the gateway, across paths), so three admins under one name would log each other out."""
    return f"{service}_session"


def csrf_cookie_name(*, service: str) -> str:
    return f"{service}_csrftoken"


def spectacular_settings(*, service: str, description: str) -> dict[str, Any]:
    """``SPECTACULAR_SETTINGS``: OpenAPI; Swagger UI is served from the sidecar, so no internet is needed."""
    return {
        "TITLE": f"{service} API",
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
