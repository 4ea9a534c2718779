"""Reading the test broker: what waits on a queue."""

import base64
import json


def queued_messages(broker, queue: str) -> list[dict]:
    """The task messages waiting on ``queue``, decoded (kombu's Redis transport keeps a list per queue)."""
    messages = []
    for raw in broker.lrange(queue, 0, -1):
        envelope = json.loads(raw)
        body = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"headers": envelope["headers"], "args": body[0], "kwargs": body[1]})
    return list(reversed(messages))
