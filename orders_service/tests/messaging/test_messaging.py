"""common.messaging in this service: outbox, relay, inbox, dead letters (real Postgres, real Redis)."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from common.messaging import outbox
from common.messaging.consumer import retry_countdown
from common.messaging.contracts import InvalidMessage
from common.messaging.dead_letters import dead_letter_discard, dead_letter_replay
from common.messaging.models import DeadLetter, OutboxMessage
from common_testing.messaging import deliver, queued_messages
from orders_service.orders import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        outbox.enqueue("orders.stock_released", {"order_id": str(uuid.uuid4())})


def test_enqueue_checks_the_payload_against_the_contract():
    with pytest.raises(InvalidMessage, match="quantity"), transaction.atomic():
        outbox.enqueue(
            "catalog.reserve_stock", {"order_id": str(uuid.uuid4()), "lines": [{"product_id": 1, "quantity": 0}]}
        )
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_transaction_sends_nothing(broker):
    def change_that_fails():
        with transaction.atomic():
            outbox.enqueue("catalog.release_stock", {"order_id": str(uuid.uuid4())})
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_that_fails()

    assert not OutboxMessage.objects.exists()
    assert queued_messages(broker, "catalog") == []


def test_a_committed_message_is_published_at_once_and_marked_sent(broker):
    order_id = str(uuid.uuid4())

    with transaction.atomic():
        message = outbox.enqueue("catalog.release_stock", {"order_id": order_id})

    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.attempts == 1
    [queued] = queued_messages(broker, "catalog")
    assert queued["headers"]["id"] == str(message.id)
    assert queued["kwargs"]["message"]["payload"] == {"order_id": order_id}


def test_the_relay_sends_what_the_broker_did_not_take_oldest_first_once(broker):
    # given two rows whose after-commit publish never happened (a crash, or the broker was down)
    old = timezone.now() - timedelta(seconds=10)
    first = OutboxMessage.objects.create(
        name="catalog.release_stock",
        queue="catalog",
        version=1,
        payload={"order_id": str(uuid.uuid4())},
        created_at=old,
    )
    second = OutboxMessage.objects.create(
        name="catalog.release_stock",
        queue="catalog",
        version=1,
        payload={"order_id": str(uuid.uuid4())},
        created_at=old + timedelta(seconds=1),
    )
    young = OutboxMessage.objects.create(
        name="catalog.release_stock",
        queue="catalog",
        version=1,
        payload={"order_id": str(uuid.uuid4())},
        created_at=timezone.now(),
    )

    # when
    sent = outbox.outbox_relay(min_age_seconds=2)

    # then
    assert sent == 2
    assert [message["headers"]["id"] for message in queued_messages(broker, "catalog")] == [
        str(first.id),
        str(second.id),
    ]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).get() == young
    assert outbox.outbox_relay(min_age_seconds=2) == 0


def test_the_relay_skips_rows_another_relay_has_claimed(broker):
    old = timezone.now() - timedelta(seconds=10)
    claimed = OutboxMessage.objects.create(
        name="catalog.release_stock",
        queue="catalog",
        version=1,
        payload={"order_id": str(uuid.uuid4())},
        created_at=old,
    )
    import threading

    locked, release = threading.Event(), threading.Event()

    def other_relay():
        from django.db import connection

        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update().filter(id=claimed.id))
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    try:
        assert locked.wait(10)
        assert outbox.outbox_relay(min_age_seconds=2) == 0
    finally:
        release.set()
        thread.join()
    assert outbox.outbox_relay(min_age_seconds=2) == 1


def test_a_message_that_breaks_its_contract_is_parked_at_once(broker):
    outcome = deliver(tasks.stock_released, {"order_id": "not-a-uuid"})

    assert outcome == "dead_letter"
    dead_letter = DeadLetter.objects.get()
    assert dead_letter.state == "parked"
    assert "order_id" in dead_letter.error


def test_a_message_that_keeps_failing_is_parked_after_the_last_attempt(broker, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 5
    message_id = uuid.uuid4()

    outcome = deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())}, message_id=message_id, retries=4)

    assert outcome == "dead_letter"
    dead_letter = DeadLetter.objects.get(message_id=message_id)
    assert (dead_letter.state, dead_letter.attempts, dead_letter.name) == ("parked", 5, "orders.stock_released")
    assert "DoesNotExist" in dead_letter.error
    assert queued_messages(broker, "orders") == []


def test_backoff_doubles_and_is_capped(settings):
    settings.MESSAGING_RETRY_BACKOFF_SECONDS = 1
    settings.MESSAGING_RETRY_BACKOFF_MAX_SECONDS = 5

    assert [retry_countdown(attempt=attempt) for attempt in range(1, 6)] == [1, 2, 4, 5, 5]


def test_replay_sends_the_parked_message_again_with_its_id(broker, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    message_id = uuid.uuid4()
    deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())}, message_id=message_id)
    dead_letter = DeadLetter.objects.get()

    dead_letter_replay(dead_letter=dead_letter)

    assert dead_letter.state == "replayed"
    [message] = queued_messages(broker, "orders")
    assert message["headers"]["task"] == "orders.stock_released"
    assert message["headers"]["retries"] == 0
    assert message["kwargs"]["message"]["message_id"] == str(message_id)


def test_discard_keeps_the_dead_letter_listed_as_discarded(broker, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())})

    dead_letter = dead_letter_discard(dead_letter=DeadLetter.objects.get())

    assert dead_letter.state == "discarded"
    assert queued_messages(broker, "orders") == []
