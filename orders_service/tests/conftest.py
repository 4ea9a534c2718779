import pytest
import redis
from django.conf import settings

pytest_plugins = ["common.testing.fixtures"]


@pytest.fixture
def broker():
    """The test broker (this service's own Redis database), emptied before and after the test."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
