"""Test helpers for services using common.messaging: run a delivery, read what waits on the broker.

``deliver`` runs a message handler task's own code for one delivery, in the
test process, with the request context a worker would give it (attempt
number, task id): no eager mode, and retries go to the real broker.
"""

import base64
import json
import uuid

import pytest
import redis
from django.conf import settings
from django.utils import timezone


@pytest.fixture
def broker():
    """The service's test broker (its own Redis database), emptied before and after the test."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def deliver(task, payload: dict, *, message_id: uuid.UUID | None = None, retries: int = 0, version: int = 1) -> str:
    """One delivery of message ``task.name`` carrying ``payload``; returns what the consumer did."""
    message = {
        "message_id": str(message_id or uuid.uuid4()),
        "name": task.name,
        "version": version,
        "payload": payload,
        "source": "test",
        "created_at": timezone.now().isoformat(),
    }
    task.push_request(
        id=message["message_id"],
        retries=retries,
        called_directly=False,
        delivery_info={"routing_key": task.name.split(".")[0]},
    )
    try:
        return task.run(message=message)
    finally:
        task.pop_request()


def queued_messages(broker, queue: str) -> list[dict]:
    """The task messages waiting on ``queue`` (a redis client on the broker), oldest first, decoded."""
    messages = []
    for raw in broker.lrange(queue, 0, -1):
        envelope = json.loads(raw)
        body = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"headers": envelope["headers"], "args": body[0], "kwargs": body[1]})
    return list(reversed(messages))
