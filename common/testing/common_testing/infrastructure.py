"""Tests every service runs against itself: health, schema, docs, admin, error format, settings, and common's own.

Each service's ``tests/test_infrastructure.py`` imports them with
``from common_testing.infrastructure import *``, so the three services are held
to the same contract by the same code. common has no test suite of its own: its
tests (``common_testing.messaging_queries``, ``common_testing.library_patches``)
run here, in each service's process and database.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings
from redis.sentinel import MasterNotFoundError, SentinelConnectionPool

from common import redis_servers
from common.health import checks
from common_testing.database import (
    test_a_connection_the_server_closed_is_not_usable_and_the_next_query_reconnects,
    test_a_connection_with_a_message_waiting_is_checked_with_a_query_and_stays_usable,
    test_a_prepared_statement_a_migration_broke_fails_once_and_its_connection_is_replaced,
    test_a_prepared_statement_outlives_a_rollback_and_is_prepared_again_on_a_new_connection,
    test_a_statement_is_prepared_once_per_connection_and_answers_as_its_text_would,
    test_an_idle_healthy_connection_is_usable_without_a_round_trip,
    test_behind_transaction_pooling_a_statement_is_sent_as_text,
)
from common_testing.library_patches import (
    test_a_claimed_delivery_is_recorded_in_redis_by_the_claim_alone,
    test_kombu_patches_are_installed,
    test_patched_internals_are_the_code_the_patches_were_checked_against,
    test_patched_libraries_are_the_versions_the_patches_were_checked_against,
)
from common_testing.messaging_queries import (
    test_inbox_insert_records_a_message_id_once,
    test_messaging_queries_are_one_statement_each,
    test_outbox_insert_writes_an_unsent_row,
    test_outbox_mark_sent_marks_an_unsent_row_once_without_waiting_for_the_disk,
)
from common_testing.telemetry import (
    test_a_failing_span_export_is_dropped_and_counted_never_raised,
    test_a_log_line_is_one_json_object_with_the_contract_fields,
    test_a_path_beyond_latin_1_is_answered_not_a_500,
    test_a_safe_request_id_is_kept_and_returned,
    test_an_outbox_row_stores_the_trace_context_and_request_id_of_when_it_was_written,
    test_an_unsafe_request_id_is_replaced_and_never_reflected,
    test_spans_go_to_the_traces_file_as_json_lines,
    test_the_sampler_makes_no_trace_of_broker_polling_or_periodic_ticks,
)

__all__ = [
    # common's own tests, run in every service (common has no suite of its own): its hand-written SQL
    # against the service's database, and its patches of kombu, redis-py, Django's cache and Celery.
    "test_a_claimed_delivery_is_recorded_in_redis_by_the_claim_alone",
    "test_inbox_insert_records_a_message_id_once",
    "test_kombu_patches_are_installed",
    "test_messaging_queries_are_one_statement_each",
    "test_outbox_insert_writes_an_unsent_row",
    "test_outbox_mark_sent_marks_an_unsent_row_once_without_waiting_for_the_disk",
    "test_patched_internals_are_the_code_the_patches_were_checked_against",
    "test_patched_libraries_are_the_versions_the_patches_were_checked_against",
    # common.database.postgresql: the health check without a round trip.
    "test_a_connection_the_server_closed_is_not_usable_and_the_next_query_reconnects",
    "test_a_connection_with_a_message_waiting_is_checked_with_a_query_and_stays_usable",
    "test_an_idle_healthy_connection_is_usable_without_a_round_trip",
    # common.database.prepared: the hot statements prepared once per connection, as text behind PgBouncer.
    "test_a_prepared_statement_a_migration_broke_fails_once_and_its_connection_is_replaced",
    "test_a_prepared_statement_outlives_a_rollback_and_is_prepared_again_on_a_new_connection",
    "test_a_statement_is_prepared_once_per_connection_and_answers_as_its_text_would",
    "test_behind_transaction_pooling_a_statement_is_sent_as_text",
    # common.telemetry: request ids, log lines, the trace context of an outbox row, sampling, export.
    "test_a_failing_span_export_is_dropped_and_counted_never_raised",
    "test_a_log_line_is_one_json_object_with_the_contract_fields",
    "test_a_path_beyond_latin_1_is_answered_not_a_500",
    "test_a_safe_request_id_is_kept_and_returned",
    "test_an_outbox_row_stores_the_trace_context_and_request_id_of_when_it_was_written",
    "test_an_unsafe_request_id_is_replaced_and_never_reflected",
    "test_spans_go_to_the_traces_file_as_json_lines",
    "test_the_sampler_makes_no_trace_of_broker_polling_or_periodic_ticks",
    # common.redis_servers: sentinel:// URLs.
    "test_a_sentinel_url_names_the_sentinels_the_master_and_the_database",
    "test_a_sentinel_url_becomes_kombus_broker_url_and_master_name_while_a_redis_url_stays_as_it_is",
    "test_a_sentinel_url_without_a_master_is_refused_without_its_password",
    "test_the_cache_asks_the_sentinels_for_the_master_of_a_sentinel_url",
    # The service's own contract.
    "test_admin_login_page_renders",
    "test_application_error_is_answered_in_the_common_error_shape",
    "test_celery_app_consumes_only_its_own_queue_with_at_least_once_delivery",
    "test_celery_app_has_every_delivery_setting_of_common_celery_app",
    "test_debug_is_off_in_production_settings_whatever_the_environment_says",
    "test_docs_are_served_without_internet",
    "test_liveness_answers_200",
    "test_production_settings_refuse_to_start_without_their_secrets",
    "test_readiness_is_200_when_database_and_broker_answer",
    "test_readiness_is_503_naming_the_broker_when_it_is_down",
    "test_a_body_over_the_limit_is_a_413_in_the_common_shape_before_any_view",
    "test_a_body_within_the_limit_reaches_the_view",
    "test_the_admin_names_its_service_and_its_cookies_are_its_own",
    "test_readiness_is_503_naming_the_database_when_it_is_down_without_its_internals",
    "test_schema_components_have_distinct_names",
    "test_schema_is_openapi_3",
    "test_server_error_is_json_in_the_common_error_shape",
    "test_unknown_url_is_a_json_404_in_the_common_error_shape",
]


def assert_common_error_shape(response, *, status: int) -> dict:
    """Assert the response is the common JSON error shape; return its body."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["type"] in {"client_error", "server_error", "validation_error"}
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
    return body


def test_liveness_answers_200(client):
    response = client.get("/health/live/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readiness_is_200_when_database_and_broker_answer(client):
    response = client.get("/health/ready/")

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readiness_is_503_naming_the_broker_when_it_is_down(client, caplog):
    with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):
        response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}
    assert "readiness check broker failed" in caplog.text  # why, for operators: in the log only


@pytest.mark.django_db
def test_readiness_is_503_naming_the_database_when_it_is_down_without_its_internals(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: Connection refused')

    monkeypatch.setitem(checks.READINESS_CHECKS, "database", refuse)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable", "broker": "ok"}}
    assert b"10.1.2.3" not in response.content
    assert b"5432" not in response.content
    assert "OperationalError" not in response.content.decode()
    assert 'readiness check database failed: OperationalError: connection to server at "10.1.2.3"' in caplog.text


@pytest.mark.parametrize("path", ["/api/v1/anything/", f"/{settings.ADMIN_URL_PREFIX}login/"])
def test_a_body_over_the_limit_is_a_413_in_the_common_shape_before_any_view(client, path):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client.post(path, data=b"{" + b" " * limit + b"}", content_type="application/json")

    assert response.status_code == 413
    assert assert_common_error_shape(response, status=413)["errors"][0]["code"] == "request_too_large"


def test_a_body_within_the_limit_reaches_the_view(client):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client.post("/api/v1/anything/", data=b" " * (limit - 2) + b"{}", content_type="application/json")

    assert response.status_code == 404  # no such route: the body was let through


def test_the_admin_names_its_service_and_its_cookies_are_its_own(client):
    service = settings.SERVICE_NAME

    response = client.get(f"/{settings.ADMIN_URL_PREFIX}login/")

    assert response.status_code == 200
    assert f"{service} administration" in response.content.decode()
    assert set(response.cookies) == {f"{service}_csrftoken"}
    assert f"{service}_session" == settings.SESSION_COOKIE_NAME


def test_schema_is_openapi_3(client):
    response = client.get(f"{settings.URL_PREFIX}api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/health/ready/" in schema["paths"]


def test_schema_components_have_distinct_names(capsys):
    # Two serializers with one component name (say, two nested ``OutputSerializer``) make
    # drf-spectacular document one operation with the other's shape.
    call_command("spectacular", "--validate", "--file", os.devnull)

    assert "identical names" not in capsys.readouterr().err


def test_docs_are_served_without_internet(client):
    response = client.get(f"{settings.URL_PREFIX}api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # Every script, stylesheet and icon comes from the service itself: no absolute or
    # protocol-relative address. (A substring test such as "cdn" fails on the page's
    # random CSRF token now and then.)
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert addresses
    assert [address for address in addresses if not address.startswith("/") or address.startswith("//")] == []
    assert f"{settings.STATIC_URL}drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in addresses


@pytest.mark.django_db
def test_admin_login_page_renders(client):
    response = client.get(f"/{settings.ADMIN_URL_PREFIX}login/")

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_unknown_url_is_a_json_404_in_the_common_error_shape(client):
    response = client.get("/no/such/page/")

    body = assert_common_error_shape(response, status=404)
    assert body["errors"][0]["code"] == "not_found"


def test_server_error_is_json_in_the_common_error_shape(rf):
    from django.http import HttpResponseServerError

    from common.errors import JsonErrorMiddleware

    middleware = JsonErrorMiddleware(lambda request: HttpResponseServerError("<h1>Server Error (500)</h1>"))

    response = middleware(rf.get("/api/v1/anything/"))

    body = assert_common_error_shape(response, status=500)
    assert body["type"] == "server_error"


def _application_error_cases():
    from common.errors import ApplicationError, AuthenticationError, ConflictError, RateLimitError

    yield pytest.param(
        ApplicationError(fields={"email": ["Taken."], "roles": ["Unknown role: a.", "Unknown role: b."]}),
        400,
        {
            "type": "validation_error",
            "errors": [
                {"code": "invalid", "detail": "Taken.", "attr": "email"},
                {"code": "invalid", "detail": "Unknown role: a.", "attr": "roles"},
                {"code": "invalid", "detail": "Unknown role: b.", "attr": "roles"},
            ],
        },
        {},
        id="fields",
    )
    yield pytest.param(
        ApplicationError("Still in use.", code="in_use"),
        400,
        {"type": "client_error", "errors": [{"code": "in_use", "detail": "Still in use.", "attr": None}]},
        {},
        id="message",
    )
    yield pytest.param(
        ConflictError("Cannot now."),
        409,
        {"type": "client_error", "errors": [{"code": "conflict", "detail": "Cannot now.", "attr": None}]},
        {},
        id="conflict",
    )
    yield pytest.param(
        AuthenticationError("Refused."),
        401,
        {"type": "client_error", "errors": [{"code": "authentication_failed", "detail": "Refused.", "attr": None}]},
        {"WWW-Authenticate": 'Bearer realm="api"'},
        id="authentication",
    )
    yield pytest.param(
        RateLimitError("Slow down.", retry_after=2.5),
        429,
        {
            "type": "client_error",
            "errors": [{"code": "throttled", "detail": "Slow down. Expected available in 3 seconds.", "attr": None}],
        },
        {"Retry-After": "3"},
        id="rate-limit",
    )
    yield pytest.param(
        OperationalError('connection to server at "10.1.2.3", port 5432 failed: Connection refused'),
        503,
        {
            "type": "server_error",
            "errors": [
                {
                    "code": "service_unavailable",
                    "detail": "A server this service depends on is unavailable; try again shortly.",
                    "attr": None,
                }
            ],
        },
        {"Retry-After": "5"},
        id="database-down",
    )


@pytest.mark.parametrize(("error", "status", "body", "headers"), list(_application_error_cases()))
def test_application_error_is_answered_in_the_common_error_shape(rf, error, status, body, headers):
    from rest_framework.permissions import AllowAny
    from rest_framework.views import APIView

    class RefusingApi(APIView):
        authentication_classes: list = []
        permission_classes = [AllowAny]

        def get_authenticate_header(self, request) -> str:
            return 'Bearer realm="api"'

        def get(self, request):
            raise error

    response = RefusingApi.as_view()(rf.get("/api/v1/anything/"))
    response.render()

    assert assert_common_error_shape(response, status=status) == body
    assert {name: response[name] for name in headers} == headers


def test_debug_is_off_in_production_settings_whatever_the_environment_says():
    # pytest-django turns DEBUG off for every test whatever the settings say: read the production settings
    # in a process of their own, with every variable they require and DJANGO_DEBUG asking for it on.
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": f"{settings.SERVICE_NAME}.settings.production",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "production-settings-test-not-a-secret",
        "DATABASE_URL": "postgres://probe:probe@127.0.0.1:5432/probe",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_PRIVATE_KEY": "production-settings-test-not-a-key",
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, our own settings
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def test_celery_app_consumes_only_its_own_queue_with_at_least_once_delivery():
    from celery import current_app

    conf = current_app.conf
    assert conf.task_default_queue == settings.SERVICE_NAME.removesuffix("_service")
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    # One task at a time per worker process; common.celery_app.TaskTimeLimits enforces the time limits there.
    assert conf.worker_pool == "solo"


def test_celery_app_has_every_delivery_setting_of_common_celery_app():
    """common.settings.base names each CELERY_* setting; none of common.celery_app.delivery_settings is left out."""
    from celery import current_app

    from common import celery_app

    conf = current_app.conf
    expected = celery_app.delivery_settings(
        visibility_timeout=conf.broker_transport_options["visibility_timeout"], time_limit=conf.task_time_limit
    )

    assert {name: conf[name] for name in expected} == expected


def test_production_settings_refuse_to_start_without_their_secrets():
    service = settings.SERVICE_NAME
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": f"{service}.settings.production",
        "DATABASE_URL": "postgres://someone:secret@127.0.0.1:1/db",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }

    result = subprocess.run(  # noqa: S603 - a fixed interpreter and code
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_sentinel_url_names_the_sentinels_the_master_and_the_database():
    location = redis_servers.sentinel_location("sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,10.0.0.3:26380/shop/2")

    assert location == redis_servers.SentinelLocation(
        sentinels=(("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26380)),
        master_name="shop",
        db=2,
        username=None,
        password="s3cret",
    )
    assert redis_servers.sentinel_location("redis://127.0.0.1:6379/0") is None


def test_a_sentinel_url_becomes_kombus_broker_url_and_master_name_while_a_redis_url_stays_as_it_is():
    url = "sentinel://10.0.0.1:26379,10.0.0.2:26379/shop/1"

    assert redis_servers.celery_broker_url(url) == "sentinel://10.0.0.1:26379/1;sentinel://10.0.0.2:26379/1"
    assert redis_servers.celery_transport_options(url) == {"master_name": "shop"}
    assert redis_servers.celery_broker_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redis_servers.celery_transport_options("redis://127.0.0.1:6379/0") == {}


def test_a_sentinel_url_without_a_master_is_refused_without_its_password():
    with pytest.raises(ValueError, match="names no master") as refused:
        redis_servers.sentinel_location("sentinel://:s3cret@10.0.0.1:26379")

    assert "s3cret" not in str(refused.value)


def test_the_cache_asks_the_sentinels_for_the_master_of_a_sentinel_url():
    pool = redis_servers.ConnectionPool.from_url(
        "sentinel://127.0.0.1:1,127.0.0.1:2/shop/3", socket_timeout=0.2, socket_connect_timeout=0.2
    )

    assert isinstance(pool, SentinelConnectionPool)
    assert (pool.service_name, pool.connection_kwargs["db"]) == ("shop", 3)
    with pytest.raises(MasterNotFoundError):  # no sentinel answers on those ports
        redis.Redis(connection_pool=pool).ping()
