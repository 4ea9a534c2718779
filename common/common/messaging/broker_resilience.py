"""Keep a Celery worker alive when Redis goes away while it holds unacknowledged messages.

When the broker connection drops, the worker's consumer closes its channel
and opens a new one once Redis is back. kombu's Redis transport then touches
the closed channel in three places, each raising ``AttributeError`` (its
connection is ``None``: ``'NoneType' object has no attribute 'hostname'`` or
``'client'``), which Celery treats as unrecoverable, so the worker exits
(kombu issues #582, #970; seen here with kombu 5.7 when the e2e tests stop
and restart Redis):

- restoring the unacknowledged messages as the channel closes;
- acknowledging a message whose task was running during the outage;
- rejecting (requeueing) such a message.

``install()`` makes each of these give up quietly on a closed channel. Nothing
is lost: the message is still in Redis's ``unacked`` hash, and a worker puts it
back on its queue once the visibility timeout has passed
(``common.celery_app.VISIBILITY_TIMEOUT_SECONDS``), exactly as for a worker
that died. If its task had already run, the consumer's inbox recognises the
message id and the second delivery changes nothing.
"""

import logging

logger = logging.getLogger(__name__)


def _channel_closed(qos) -> bool:
    return getattr(qos.channel, "connection", None) is None


def install() -> None:
    """Patch kombu's Redis QoS once per process (idempotent)."""
    from kombu.transport import redis as kombu_redis
    from kombu.transport import virtual

    qos = kombu_redis.QoS
    if getattr(qos, "tolerates_closed_channel", False):
        return
    original_restore_unacked, original_ack, original_reject = qos.restore_unacked, qos.ack, qos.reject

    def restore_unacked(self, client=None):
        if client is None and getattr(self.channel.connection, "client", None) is None:
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) stay in Redis and are "
                "restored after the visibility timeout",
                len(self._delivered),
            )
            return None
        return original_restore_unacked(self, client)

    def ack(self, delivery_tag):
        if _channel_closed(self):
            logger.warning(
                "message %s finished after its broker connection closed: it stays unacknowledged in Redis and "
                "comes back after the visibility timeout, where the inbox drops it",
                delivery_tag,
            )
            virtual.QoS.ack(self, delivery_tag)  # forget it locally only
            return None
        return original_ack(self, delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if _channel_closed(self):
            logger.warning(
                "message %s rejected after its broker connection closed: Redis requeues it after the visibility "
                "timeout",
                delivery_tag,
            )
            virtual.QoS.ack(self, delivery_tag)
            return None
        return original_reject(self, delivery_tag, requeue=requeue)

    qos.restore_unacked = restore_unacked
    qos.ack = ack
    qos.reject = reject
    qos.tolerates_closed_channel = True
