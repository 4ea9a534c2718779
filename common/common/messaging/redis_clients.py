"""One ``redis.Redis`` per kombu channel, instead of a new one for every broker command.

kombu's Redis transport builds a new ``redis.Redis`` in ``Channel._create_client`` for each publish, each
acknowledgement and each delivery's bookkeeping: three per message a worker handles and answers. With
redis-py 8 that object alone (it fills a table of ~170 response callbacks) costs about as much as the round
trip itself, so an order, whose saga passes three messages, paid for nine of them. The client is
thread-safe and holds no connection of its own (the channel's pool does), so the channel keeps one, and
builds a new one only when its pool is replaced (after a reconnection). The same reasoning, for Django's
cache, is in ``common.cache``.
"""

_installed_marker = "reuses_sync_client"


def install() -> None:
    """Patch kombu's Redis channel once per process (idempotent)."""
    from kombu.transport import redis as kombu_redis

    channel = kombu_redis.Channel
    if getattr(channel, _installed_marker, False):
        return
    original_create_client = channel._create_client

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return original_create_client(self, asynchronous=True)
        pool = self.pool
        client = self.__dict__.get("_reused_client")
        if client is None or client.connection_pool is not pool:
            client = self._reused_client = original_create_client(self)
        return client

    channel._create_client = _create_client
    setattr(channel, _installed_marker, True)
