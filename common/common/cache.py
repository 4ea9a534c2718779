"""Django's Redis cache backend, reusing one client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
cache operation; with redis-py 8 that object alone costs more than the
round trip on a small machine (it fills a table of ~170 response callbacks).
The client is thread-safe and its pool handles forks, so one per pool is
enough. Behaviour is otherwise Django's own.
"""

from django.core.cache.backends import redis as django_redis


class ReusedRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """``CACHES[...]["BACKEND"] = "common.cache.RedisCache"``."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
