"""Misconfiguration checks every service runs against itself (OWASP API8, API9): Host, headers, production.

Each service's ``tests/test_security.py`` imports them with
``from common_testing.security import *``.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

__all__ = [
    "test_a_host_not_allowed_is_a_400_in_the_common_shape",
    "test_api_and_admin_responses_carry_the_security_headers",
    "test_production_settings_serve_hsts_secure_cookies_and_a_public_schema_without_the_admin",
]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _paths() -> dict[str, str]:
    """An API route that answers 200, one that answers an error, a probe, the schema, the admin's login page."""
    return {
        "schema": reverse("schema"),
        "api error": "/api/v1/no-such-route/",
        "probe": reverse("health-live"),
        "admin": reverse("admin:login"),
        "admin error": reverse("admin:index"),  # a redirect to the login page
    }


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("kind", ["schema", "api error", "probe", "admin", "admin error"])
def test_a_host_not_allowed_is_a_400_in_the_common_shape(client, settings, debug, kind):
    settings.DEBUG = debug  # under DEBUG, Django's own answer is its HTML debug page

    response = client.get(_paths()[kind], HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "disallowed_host",
                "detail": "The Host header names a host this service does not serve.",
                "attr": None,
            }
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["schema", "api error", "probe", "admin", "admin error"])
def test_api_and_admin_responses_carry_the_security_headers(client, kind):
    response = client.get(_paths()[kind])

    assert response.status_code in {200, 302, 404}
    assert {name: response.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


# Run with the production settings in a process of their own (pytest-django forces test settings on this one):
# a request over TLS through the gateway, the schema and docs as an anonymous caller, and the admin's cookies.
_PRODUCTION_PROBE = """
import json
import django
from django.conf import settings
# Static files as the image serves them after collectstatic; its manifest is not built here.
static_files = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
settings.STORAGES = {**settings.STORAGES, "staticfiles": static_files}
django.setup()
from django.test import Client
from django.urls import reverse

client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
schema = client.get(reverse("schema"), {"format": "json"})
login = client.get(reverse("admin:login"))
plain = Client(HTTP_HOST="127.0.0.1").get(reverse("health-live"))
stranger = Client(HTTP_HOST="attacker.example").get(reverse("schema"))
print(json.dumps({
    "schema_status": schema.status_code,
    "paths": sorted(json.loads(schema.content)["paths"]),
    "schema_headers": {name: schema.get(name) for name in (
        "Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
        "Cross-Origin-Opener-Policy")},
    "plain_status": plain.status_code,
    "plain_hsts": plain.get("Strict-Transport-Security"),
    "csrf_cookie": {flag: bool(login.cookies[settings.CSRF_COOKIE_NAME][flag]) for flag in ("secure", "httponly")},
    "stranger": [stranger.status_code, stranger.get("Content-Type")],
}))
"""


def test_production_settings_serve_hsts_secure_cookies_and_a_public_schema_without_the_admin():
    """The documented decision: in production the schema (and its docs page) are public, and never list the admin."""
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": f"{settings.SERVICE_NAME}.settings.production",
        "DJANGO_SECRET_KEY": "production-settings-test-not-a-secret",
        "DATABASE_URL": "postgres://probe:probe@127.0.0.1:5432/probe",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_PRIVATE_KEY": "production-settings-test-not-a-key",
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, our own settings
        [sys.executable, "-c", _PRODUCTION_PROBE],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    # then: the schema, to anyone, of the API and the probes only (never the admin)
    assert probe["schema_status"] == 200
    assert any(path.startswith("/api/v1/") for path in probe["paths"])
    assert all(path.startswith(("/api/v1/", "/.well-known/", "/health/")) for path in probe["paths"]), probe["paths"]
    # HSTS over TLS (the gateway says so in X-Forwarded-Proto), and the other headers
    assert probe["schema_headers"] == {"Strict-Transport-Security": "max-age=31536000", **SECURITY_HEADERS}
    # plain HTTP from a probe on the private network: served, not redirected, and no HSTS (it would be ignored)
    assert (probe["plain_status"], probe["plain_hsts"]) == (200, None)
    # the admin's CSRF cookie only over TLS and out of scripts' reach
    assert probe["csrf_cookie"] == {"secure": True, "httponly": True}
    assert probe["stranger"] == [400, "application/json"]
