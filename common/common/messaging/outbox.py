"""The transactional outbox: ``enqueue`` inside the change's transaction; sent after commit; relayed until sent.

- ``enqueue(name, payload)`` validates the payload against its contract and
  writes an ``OutboxMessage`` in the caller's transaction (it refuses to run
  outside one). When that transaction commits, the message is published at
  once (no waiting for the relay), and the row is marked sent.
- ``outbox_relay()`` (the periodic task ``<queue>.relay_outbox``) sends the
  rows still unsent: those whose publish failed (broker down) or whose process
  died between commit and publish. Rows are claimed with
  ``SELECT ... FOR UPDATE SKIP LOCKED``, so several relays never send the same
  row at the same time. A message may still reach its consumer twice (sent,
  then the process died before marking it); consumers dedupe by message id.
"""

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.messaging import publisher, queries
from common.messaging.contracts import contract_for
from common.messaging.models import OutboxMessage
from common.telemetry import request_id, tracing

logger = logging.getLogger(__name__)


def _service_name() -> str:
    return settings.SERVICE_NAME


def enqueue(name: str, payload: Mapping[str, object]) -> OutboxMessage:
    """Write message ``name`` to the outbox in the current transaction; it is published after commit.

    ``payload`` may hold ``Decimal``, ``UUID`` and datetimes: they travel as
    strings. Raises ``InvalidMessage`` if the payload breaks the contract, and
    ``RuntimeError`` outside ``transaction.atomic()``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() must run inside transaction.atomic(), with the change it announces")
    contract = contract_for(name)
    payload_json = json.dumps(payload, cls=DjangoJSONEncoder)
    json_payload = json.loads(payload_json)
    contract.validate(json_payload)
    if order_id := json_payload.get("order_id"):
        tracing.set_attributes(order_id=str(order_id))
    message = OutboxMessage(
        id=uuid.uuid4(),
        name=name,
        queue=contract.queue,
        version=contract.version,
        payload=json_payload,
        created_at=timezone.now(),
        # The context now, not when it is sent: a message re-sent after a broker outage stays in its trace.
        trace_context=tracing.current_trace_context(),
        request_id=request_id.request_id.get(),
    )
    queries.outbox_insert(
        message_id=message.id,
        name=message.name,
        queue=message.queue,
        version=message.version,
        payload_json=payload_json,
        created_at=message.created_at,
        trace_context=message.trace_context,
        request_id=message.request_id,
    )
    transaction.on_commit(lambda: _publish_committed(message))
    return message


def _publish_committed(message: OutboxMessage) -> None:
    try:
        _publish(message)
    except publisher.PublishFailed as error:
        logger.warning("outbox: %s %s not sent (the relay will retry): %s", message.name, message.id, error)
        OutboxMessage.objects.filter(id=message.id, sent_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=str(error)[:2000]
        )
        return
    # The publish span is the trace's record that it was sent; a span of the mark would be one more per message.
    with tracing.untraced():
        queries.outbox_mark_sent(message_id=message.id, sent_at=timezone.now())


def _publish(message: OutboxMessage) -> None:
    publisher.publish(
        envelope=message.envelope(source=_service_name()),
        queue=message.queue,
        trace_context=message.trace_context,
        request_id=message.request_id,
    )


def outbox_relay(*, batch_size: int | None = None, min_age_seconds: float | None = None) -> int:
    """Send the unsent outbox rows older than ``min_age_seconds``, oldest first; return how many were sent.

    Stops at the first broker error (the next run tries again). The minimum
    age leaves a just-committed row to its own after-commit publish.
    """
    batch_size = batch_size or settings.MESSAGING_RELAY_BATCH_SIZE
    if min_age_seconds is None:
        min_age_seconds = settings.MESSAGING_RELAY_MIN_AGE_SECONDS
    sent_total = 0
    while True:
        sent, failed = _relay_batch(batch_size=batch_size, min_age_seconds=min_age_seconds)
        sent_total += sent
        if failed or sent < batch_size:
            return sent_total


def _relay_batch(*, batch_size: int, min_age_seconds: float) -> tuple[int, bool]:
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    with transaction.atomic():
        claimed = list(
            OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
            .order_by("created_at")
            .select_for_update(skip_locked=True)[:batch_size]
        )
        sent_ids: list[uuid.UUID] = []
        failure: tuple[OutboxMessage, publisher.PublishFailed] | None = None
        for message in claimed:
            try:
                _publish(message)
            except publisher.PublishFailed as error:
                failure = (message, error)
                break
            sent_ids.append(message.id)
        if sent_ids:
            OutboxMessage.objects.filter(id__in=sent_ids).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
        if failure:
            refused, refusal = failure
            logger.warning("outbox relay: broker refused %s %s: %s", refused.name, refused.id, refusal)
            OutboxMessage.objects.filter(id=refused.id).update(
                attempts=F("attempts") + 1, last_error=str(refusal)[:2000]
            )
    return len(sent_ids), failure is not None


def outbox_send_now(*, messages: Iterable[OutboxMessage]) -> tuple[int, str]:
    """Publish the given unsent rows now (admin action); return how many were sent and the last error."""
    sent, last_error = 0, ""
    for message in messages:
        if message.sent_at:
            continue
        try:
            _publish(message)
        except publisher.PublishFailed as error:
            last_error = str(error)
            OutboxMessage.objects.filter(id=message.id).update(attempts=F("attempts") + 1, last_error=last_error)
            break
        OutboxMessage.objects.filter(id=message.id).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
        sent += 1
    return sent, last_error
