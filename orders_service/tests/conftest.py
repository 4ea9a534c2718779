import uuid

import pytest

from common_testing.messaging import broker

pytest_plugins = ["common_testing.fixtures"]

__all__ = ["broker"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test caches order lists under its own prefix: pages of an earlier test's rolled-back orders are never
    served to this one (no flush: the test broker shares the Redis database)."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-orders-{uuid.uuid4().hex}"},
    }
