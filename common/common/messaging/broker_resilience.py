"""Keep a Celery worker alive when Redis goes away while it holds an unacknowledged message.

On a lost connection the worker's consumer closes its channel, and kombu's
Redis transport then tries to put the unacknowledged messages back on their
queues through that very connection, whose client is already gone: an
``AttributeError`` (``'NoneType' object has no attribute 'hostname'``) that
Celery treats as unrecoverable, so the worker exits (kombu issues #582, #970;
seen here with kombu 5.7 when the e2e tests stop Redis).

``install()`` makes that restore give up quietly when the connection is
already closed. Nothing is lost: the messages are still in Redis's ``unacked``
hash, and any worker restores them once the visibility timeout has passed
(``common.celery_app.VISIBILITY_TIMEOUT_SECONDS``), exactly as for a worker
that died. The worker itself reconnects when Redis is back.
"""

import logging

logger = logging.getLogger(__name__)


def install() -> None:
    """Patch kombu's Redis QoS once per process (idempotent)."""
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "tolerates_closed_connection", False):
        return

    def restore_unacked(self, client=None):
        if client is None and getattr(self.channel.connection, "client", None) is None:
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) stay in Redis and are "
                "restored after the visibility timeout",
                len(self._delivered),
            )
            return None
        return original(self, client)

    restore_unacked.tolerates_closed_connection = True
    kombu_redis.QoS.restore_unacked = restore_unacked
