"""Dead letters: park a message that keeps failing; replay or discard it later (admin, ``manage.py dead_letters``)."""

import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from common.messaging import publisher
from common.messaging.models import DeadLetter
from common.telemetry import tracing


def dead_letter_park(
    *,
    message_id: uuid.UUID,
    name: str,
    queue: str,
    message: object,
    error: str,
    attempts: int,
    trace_context: str = "",
    request_id: str = "",
) -> DeadLetter:
    """Park ``message`` with its error; a message parked again (after a failed replay) is parked anew.

    ``trace_context`` and ``request_id`` are the failing delivery's: a replay links to that trace.
    """
    now = timezone.now()
    parked = {
        "name": name,
        "queue": queue,
        "message": json.loads(json.dumps(message, cls=DjangoJSONEncoder)),
        "error": error[:20000],
        "attempts": attempts,
        "trace_context": trace_context,
        "request_id": request_id,
        "state": DeadLetter.State.PARKED,
        "updated_at": now,
    }
    dead_letter, _ = DeadLetter.objects.update_or_create(
        message_id=message_id, defaults=parked, create_defaults={**parked, "created_at": now}
    )
    return dead_letter


def dead_letter_replay(*, dead_letter: DeadLetter) -> DeadLetter:
    """Send a parked message to its queue again, with a fresh count of attempts.

    The message keeps its id: if it was applied meanwhile, the inbox drops the
    replay. Raises ``publisher.PublishFailed`` when the broker refuses it (the
    dead letter then stays parked).
    """
    if dead_letter.state != DeadLetter.State.PARKED:
        return dead_letter
    message = dead_letter.message
    if not isinstance(message, dict) or "message_id" not in message:
        # A malformed envelope is sent as it was; the consumer parks it again.
        message = {"message_id": str(dead_letter.message_id), "name": dead_letter.name, "malformed": message}
    # A new trace, linked to the one the message failed in (its context is the parked delivery's).
    with tracing.linked_span(
        f"dead_letter replay {dead_letter.name}",
        traceparent=dead_letter.trace_context,
        attributes={"message_id": str(dead_letter.message_id), "dead_letter.id": dead_letter.pk},
    ):
        publisher.publish(
            envelope={**message, "message_id": str(dead_letter.message_id)},
            queue=dead_letter.queue,
            trace_context=tracing.current_trace_context(),
            request_id=dead_letter.request_id,
        )
    DeadLetter.objects.filter(pk=dead_letter.pk, state=DeadLetter.State.PARKED).update(
        state=DeadLetter.State.REPLAYED, updated_at=timezone.now()
    )
    dead_letter.refresh_from_db()
    return dead_letter


def dead_letter_discard(*, dead_letter: DeadLetter) -> DeadLetter:
    """Give up on a parked message on purpose; it stays listed as discarded."""
    DeadLetter.objects.filter(pk=dead_letter.pk, state=DeadLetter.State.PARKED).update(
        state=DeadLetter.State.DISCARDED, updated_at=timezone.now()
    )
    dead_letter.refresh_from_db()
    return dead_letter
