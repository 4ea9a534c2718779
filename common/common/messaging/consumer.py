"""Receive messages: ``@message_handler(name)`` turns a function into the Celery task of that name.

For each delivery the task

1. checks the envelope and the payload against the contract; a message that
   breaks it is parked as a dead letter at once (no retry can fix it);
2. in one transaction, records the message id in the inbox and runs the
   handler; if the id is already there the delivery is a duplicate and
   nothing happens (a concurrent duplicate waits for the first one's commit);
3. on an exception, rolls back and retries with exponential backoff
   (``MESSAGING_RETRY_BACKOFF_SECONDS`` doubled per attempt, at most
   ``MESSAGING_RETRY_BACKOFF_MAX_SECONDS``); after ``MESSAGING_MAX_ATTEMPTS``
   attempts the message is parked as a dead letter with its error.

Handlers take keyword arguments ``message_id`` (a UUID) and ``payload`` (the
validated JSON payload) and must be safe to run twice for the same business
fact (a re-driven order sends a new message with a new id).
"""

import logging
import traceback
import uuid
from collections.abc import Callable
from typing import cast

from celery import Task, shared_task
from celery.exceptions import Reject, Retry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.messaging import queries
from common.messaging.contracts import Contract, InvalidMessage, JSONObject, contract_for
from common.messaging.dead_letters import dead_letter_park
from common.telemetry import metrics, tracing
from common.telemetry import request_id as request_ids

logger = logging.getLogger(__name__)

Handler = Callable[..., object]


def parse_envelope(*, contract: Contract, message: object) -> tuple[uuid.UUID, JSONObject]:
    """The message id and the payload of ``message``; ``InvalidMessage`` if it breaks ``contract``."""
    if not isinstance(message, dict):
        raise InvalidMessage(f"{contract.name}: the message is not an object")
    try:
        message_id = uuid.UUID(str(message["message_id"]))
    except (KeyError, ValueError):
        raise InvalidMessage(f"{contract.name}: missing or malformed message_id") from None
    if message.get("name") != contract.name:
        raise InvalidMessage(f"{contract.name}: the envelope names {message.get('name')!r}")
    version = message.get("version")
    if not isinstance(version, int):
        raise InvalidMessage(f"{contract.name}: missing or malformed version")
    payload = message.get("payload")
    contract.validate(payload, version=version)
    return message_id, cast(JSONObject, payload)  # every contract's schema is a JSON object's


def inbox_accept(*, message_id: uuid.UUID, name: str) -> bool:
    """Record ``message_id`` in the inbox in the current transaction; False if it was applied already.

    Bookkeeping of every delivery, so it makes no span: the task's span carries the outcome (``outcome``:
    applied, duplicate, parked, retried)."""
    with tracing.untraced():
        return queries.inbox_insert(message_id=message_id, name=name, processed_at=timezone.now())


def retry_countdown(*, attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped."""
    base = settings.MESSAGING_RETRY_BACKOFF_SECONDS
    countdown: float = min(base * 2 ** (attempt - 1), settings.MESSAGING_RETRY_BACKOFF_MAX_SECONDS)
    return countdown


# What ``consume`` returns, as the outcome label of shop_messages_consumed_total.
_OUTCOMES = {"applied": "applied", "duplicate": "duplicate", "dead_letter": "parked"}


def consume(*, task: Task[..., str], contract: Contract, handler: Handler, message: object) -> str:
    """Apply one delivery of a message (see the module docstring); return what happened, and count it.

    The request id that came with the message (a header) is bound while it runs, with the message and order ids,
    so the handler's log lines carry them and the messages it sends carry the request id on.
    """
    identity = message if isinstance(message, dict) else {}
    payload = identity.get("payload")
    order_id = str(payload.get("order_id") or "")[:64] if isinstance(payload, dict) else ""
    message_id = str(identity.get("message_id") or "")[:64]
    if order_id or message_id:
        tracing.set_attributes(order_id=order_id, message_id=message_id)
    received_request_id = request_ids.valid_request_id(getattr(task.request, request_ids.MESSAGE_HEADER, None))
    with request_ids.bound(
        request=received_request_id or "", order=order_id, message=message_id, task_name=contract.name
    ):
        try:
            outcome = _consume(task=task, contract=contract, handler=handler, message=message)
        except Retry:
            _outcome_recorded(message=contract.name, outcome="retried")
            raise
        _outcome_recorded(message=contract.name, outcome=_OUTCOMES[outcome])
        return outcome


def _outcome_recorded(*, message: str, outcome: str) -> None:
    """What became of a delivery: counted (shop_messages_consumed_total) and on its task's span."""
    metrics.message_consumed(message=message, outcome=outcome)
    tracing.set_attributes(outcome=outcome)


def _consume(*, task: Task[..., str], contract: Contract, handler: Handler, message: object) -> str:
    attempt = task.request.retries + 1
    try:
        message_id, payload = parse_envelope(contract=contract, message=message)
    except InvalidMessage as error:
        logger.error("%s: rejected, breaks its contract: %s", contract.name, error)
        _park(
            message_id=_fallback_message_id(message, task),
            name=contract.name,
            queue=contract.queue,
            message=message,
            error=str(error),
            attempts=attempt,
        )
        return "dead_letter"
    try:
        with transaction.atomic():
            if not inbox_accept(message_id=message_id, name=contract.name):
                logger.info("%s %s: duplicate delivery, already applied", contract.name, message_id)
                return "duplicate"
            handler(message_id=message_id, payload=payload)
    except Exception as error:
        described = f"{type(error).__name__}: {error}\n\n{traceback.format_exc(limit=20)}"
        if attempt >= settings.MESSAGING_MAX_ATTEMPTS:
            logger.error(
                "%s %s: failed %d times, parked as a dead letter: %s", contract.name, message_id, attempt, error
            )
            _park(
                message_id=message_id,
                name=contract.name,
                queue=contract.queue,
                message=message,
                error=described,
                attempts=attempt,
            )
            return "dead_letter"
        countdown = retry_countdown(attempt=attempt)
        logger.warning(
            "%s %s: attempt %d failed, retry in %ss: %s", contract.name, message_id, attempt, countdown, error
        )
        try:
            raise task.retry(countdown=countdown, exc=error) from error
        except Retry:
            raise
        except Exception as retry_error:  # noqa: BLE001 - the broker refused the retry: park it, never drop it
            _park(
                message_id=message_id,
                name=contract.name,
                queue=contract.queue,
                message=message,
                error=f"{described}\n\nthe retry could not be scheduled: {retry_error}",
                attempts=attempt,
            )
            return "dead_letter"
    # One line per message applied: with the request id bound, grep on it finds the order's story in every service.
    logger.info("%s %s: applied", contract.name, message_id)
    return "applied"


def _park(*, message_id: uuid.UUID, name: str, queue: str, message: object, error: str, attempts: int) -> None:
    """Park a dead letter; if even that fails (database down), put the message back on the queue."""
    try:
        dead_letter_park(
            message_id=message_id,
            name=name,
            queue=queue,
            message=message,
            error=error,
            attempts=attempts,
            trace_context=tracing.current_trace_context(),
            request_id=request_ids.request_id.get(),
        )
    except Exception as park_error:
        logger.exception("%s: could not park a dead letter, requeueing the message", name)
        raise Reject(f"could not park a dead letter: {park_error}", requeue=True) from park_error


def _fallback_message_id(message: object, task: Task[..., str]) -> uuid.UUID:
    candidate = message.get("message_id") if isinstance(message, dict) else None
    for value in (candidate, task.request.id):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            continue
    return uuid.uuid4()


def message_handler(name: str) -> Callable[[Handler], Task[..., str]]:
    """Register ``handler`` as the Celery task for message ``name`` (which must have a contract)."""
    contract = contract_for(name)

    def register(handler: Handler) -> Task[..., str]:
        @shared_task(name=name, bind=True, max_retries=None, ignore_result=True)
        def task(self: Task[..., str], /, message: object = None, **unexpected: object) -> str:
            if unexpected:
                message = {"unexpected_arguments": sorted(unexpected), "message": message}
            return consume(task=self, contract=contract, handler=handler, message=message)

        # The handler itself, for tests that apply a payload without a delivery (not an attribute of
        # celery-types' Task).
        task.handler = handler  # type: ignore[attr-defined]
        return task

    return register
