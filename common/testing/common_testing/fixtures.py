"""pytest fixtures shared by the services' test suites (``pytest_plugins = ["common_testing.fixtures"]``)."""

import uuid

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from common import remote_calls
from common_testing.auth import TestSigner


@pytest.fixture(autouse=True)
def _closed_circuit_breakers():
    """Every test starts with the breakers of the calls to other services closed (they live in the process)."""
    remote_calls.reset_breakers()
    yield
    remote_calls.reset_breakers()


@pytest.fixture(scope="session")
def _session_signer() -> TestSigner:
    return TestSigner()


@pytest.fixture
def signer(_session_signer, settings) -> TestSigner:
    """A key pair this service trusts for the test: ``signer.bearer(roles=["catalog_manager"])``."""
    settings.JWT_PUBLIC_JWKS = _session_signer.jwks
    settings.JWT_JWKS_URL = ""
    settings.JWT_ISSUER = _session_signer.issuer
    return _session_signer


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def own_cache_prefix(settings) -> None:
    """The test's cache keys under a prefix of its own (failed-login counters, the shared JWKS): nothing an
    earlier test left in Redis is seen (no flush: the test broker shares the database)."""
    default = settings.CACHES["default"]
    prefix = f"{default['KEY_PREFIX']}-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def tracer():
    """A tracer of a provider of its own (the process's global one is left alone), and what it exported."""
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider.get_tracer("test"), exported
