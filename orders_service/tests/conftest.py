import uuid

import pytest

from common_testing.messaging import broker

pytest_plugins = ["common_testing.fixtures"]

__all__ = ["broker"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test caches order lists under its own prefix: pages of an earlier test's rolled-back orders are never
    served to this one (no flush: the test broker shares the Redis database)."""
    default = settings.CACHES["default"]
    prefix = f"{default['KEY_PREFIX']}-{uuid.uuid4().hex}"  # test-<service>-<test's own>
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}
