"""Every service, started as real processes, is ready and serves its schema, docs and admin."""

import pytest
import requests

from tests.conftest import SERVICES

PREFIX = {service: f"/{short}/" for service, short in SERVICES.items()}

pytestmark = pytest.mark.parametrize("service", list(SERVICES))


def test_service_is_live_and_ready(system, service):
    base = system.urls[service]

    live = requests.get(f"{base}/health/live/", timeout=5)
    ready = requests.get(f"{base}/health/ready/", timeout=5)

    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_schema_is_openapi_3(system, service):
    response = requests.get(
        f"{system.urls[service]}{PREFIX[service]}api/schema/", params={"format": "json"}, timeout=10
    )

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_render_with_their_assets_served_locally(system, service):
    base = system.urls[service]

    page = requests.get(f"{base}{PREFIX[service]}api/docs/", timeout=10)
    bundle = requests.get(
        f"{base}{PREFIX[service]}static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", timeout=10
    )

    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000


def test_admin_login_page_renders_with_its_styles(system, service):
    base = system.urls[service]

    page = requests.get(f"{base}{PREFIX[service]}admin/login/", timeout=10)
    stylesheet = requests.get(f"{base}{PREFIX[service]}static/admin/css/base.css", timeout=10)

    assert page.status_code == 200
    assert 'name="password"' in page.text
    assert stylesheet.status_code == 200


def test_unknown_url_is_a_json_404(system, service):
    response = requests.get(f"{system.urls[service]}/no/such/page/", timeout=5)

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "not_found"
