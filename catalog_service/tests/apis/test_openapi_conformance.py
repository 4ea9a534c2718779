"""schemathesis in process, as a catalog manager, with every default check on (the repository's schemathesis.toml).

No generated request may give a 5xx, every response must match the OpenAPI schema, requests the schema
forbids are refused and those it allows accepted (but for the rules schemathesis.toml names).
"""

import io
from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

CONFIG = SchemathesisConfig.from_path(str(Path(__file__).resolve().parents[3] / "schemathesis.toml"))
schema = schemathesis.openapi.from_wsgi(
    "/catalog/api/schema/?format=json", get_wsgi_application(), config=CONFIG
).include(path_regex="^/api/v1/(products|categories)/")


@pytest.fixture
def demo_catalogue(db):
    call_command("load_demo_catalog", stdout=io.StringIO())


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_never_fails_and_matches_its_schema_for_a_catalog_manager(
    case, demo_catalogue, in_test_transaction, signer
):
    manager_token = signer.token(user_id=1, roles=["catalog_manager"])
    case.call_and_validate(headers={"Authorization": f"Bearer {manager_token}"})
