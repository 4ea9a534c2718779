"""common.cache.RedisCache.get_values: the one MGET behind every cached page."""

import pytest
from django.core.cache import cache, caches
from redis.connection import Connection
from redis.exceptions import TimeoutError as RedisTimeoutError


@pytest.fixture
def backend():
    cache.delete_many(["version", "page", "missing"])
    yield caches["default"]
    cache.delete_many(["version", "page", "missing"])


def test_values_come_back_in_key_order_with_none_for_a_missing_key(backend):
    cache.set("version", "v1")
    cache.set("page", ("v1", b'{"results": []}'))

    values = backend.get_values(["page", "missing", "version"])

    assert values == [("v1", b'{"results": []}'), None, "v1"]
    assert cache.get_many(["page", "missing", "version"]) == {"page": values[0], "version": "v1"}


def test_a_read_that_fails_drops_its_connection_and_the_next_read_is_right(backend, monkeypatch):
    cache.set("version", "v1")
    real_read = Connection.read_response
    failed = []

    def time_out_once(connection, *args, **kwargs):
        if not failed:
            failed.append(connection)
            raise RedisTimeoutError("Timeout reading from socket")
        return real_read(connection, *args, **kwargs)

    monkeypatch.setattr(Connection, "read_response", time_out_once)

    with pytest.raises(RedisTimeoutError):
        backend.get_values(["version"])

    assert failed[0]._sock is None  # disconnected: its unread reply can never answer the next command
    cache.set("version", "v2")
    assert backend.get_values(["version", "missing"]) == ["v2", None]
