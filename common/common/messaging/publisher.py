"""Publish a message to the broker quickly, or fail quickly.

The web process publishes right after its transaction commits; when Redis is
down that must cost milliseconds, not the default connection retries, or the
API would hang with the broker. So publishing uses its own connection with
short socket timeouts and no retries: a failure leaves the outbox row unsent
for the relay to try again.

One connection per process and thread, opened on first use and dropped on
any error (the next publish reconnects).

With ``MESSAGING_PUBLISH_REPLICAS`` (1 by default when Redis runs under
Sentinel), a publish counts only once that many replicas have the message
(Redis ``WAIT``), or every connected replica if fewer are connected: what a
failover could lose stays unsent in the outbox, and the relay sends it again.
"""

import logging
import os
import threading
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from celery import Celery, current_app
from django.conf import settings
from kombu import Connection, Producer

from common import kombu_redis_patches
from common.telemetry import metrics, tracing
from common.telemetry import request_id as request_ids

logger = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not accept the message."""


class _Publisher(threading.local):
    pid: int | None = None
    connection: Connection | None = None
    producer: Producer | None = None

    def _open(self) -> None:
        timeout = settings.MESSAGING_PUBLISH_TIMEOUT_SECONDS
        # celery-types declares current_app a Celery; it is the Proxy of one.
        app: Celery = current_app._get_current_object()  # type: ignore[attr-defined]
        connection = app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
                "interval_start": 0,
            },
        )
        self.pid, self.connection = os.getpid(), connection
        self.producer = app.amqp.Producer(connection, auto_declare=False)

    def close(self) -> None:
        if self.connection is not None and self.pid == os.getpid():
            with suppress(Exception):
                self.connection.release()
        self.pid = self.connection = self.producer = None

    def publish(self, *, envelope: Mapping[str, Any], queue: str, trace_context: str, request_id: str) -> None:
        if self.pid != os.getpid():  # a forked child must not share its parent's socket
            self.pid = self.connection = self.producer = None
        try:
            if self.producer is None:
                self._open()
            # Under the context stored with the message: Celery's instrumentation makes the publish span its child
            # and sends the span's context in the message's headers, with the request id beside it.
            with tracing.restored(trace_context):
                self._send(envelope=envelope, queue=queue, request_id=request_id)
            replicas = settings.MESSAGING_PUBLISH_REPLICAS
            if replicas:
                assert self.producer is not None  # noqa: S101 - opened above
                replicated = kombu_redis_patches.redis_wait_for_replicas(
                    self.producer.channel,
                    replicas=replicas,
                    timeout_ms=int(settings.MESSAGING_PUBLISH_TIMEOUT_SECONDS * 1000),
                )
                if not replicated:
                    raise PublishFailed("no Redis replica acknowledged the message in time")
        except Exception as error:
            self.close()
            raise PublishFailed(f"{type(error).__name__}: {error}") from error
        metrics.message_published(message=envelope["name"])

    def _send(self, *, envelope: Mapping[str, Any], queue: str, request_id: str) -> None:
        current_app.send_task(
            envelope["name"],
            kwargs={"message": envelope},
            queue=queue,
            task_id=envelope["message_id"],
            producer=self.producer,
            retry=False,
            # What worker logs show for the arguments; given, so Celery does not repr the envelope each time.
            argsrepr="()",
            kwargsrepr=f"{{message: {envelope['message_id']}}}",
            headers={request_ids.MESSAGE_HEADER: request_id} if request_id else None,
        )


_publisher = _Publisher()


def publish(*, envelope: Mapping[str, Any], queue: str, trace_context: str = "", request_id: str = "") -> None:
    """Hand ``envelope`` to the broker as task ``envelope["name"]`` on ``queue``; ``PublishFailed`` if it refuses.

    ``trace_context`` (a ``traceparent``) and ``request_id`` are those stored with the message when it was written:
    the publish is traced in that trace, and both travel in the message's headers.
    """
    _publisher.publish(envelope=envelope, queue=queue, trace_context=trace_context, request_id=request_id)
