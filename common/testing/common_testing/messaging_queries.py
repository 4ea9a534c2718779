"""The hand-written SQL of ``common.messaging.queries``, executed against the service's real test database.

Every service's suite runs these (through ``common_testing.infrastructure``), each in its own schema.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.messaging import queries
from common.messaging.models import InboxMessage, OutboxMessage
from common_testing.database import statement_run

__all__ = [
    "test_inbox_insert_records_a_message_id_once",
    "test_messaging_queries_are_one_statement_each",
    "test_outbox_insert_writes_an_unsent_row",
    "test_outbox_mark_sent_marks_an_unsent_row_once_without_waiting_for_the_disk",
]


def _insert_outbox_row(**overrides) -> uuid.UUID:
    values = {
        "message_id": uuid.uuid4(),
        "name": "catalog.reserve_stock",
        "queue": "catalog",
        "version": 1,
        "payload_json": '{"order_id": "o-1", "lines": [{"product_id": 7, "quantity": 2}]}',
        "created_at": timezone.now(),
        "trace_context": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "request_id": "req-1",
        **overrides,
    }
    queries.outbox_insert(**values)
    return values["message_id"]


@pytest.mark.django_db
def test_outbox_insert_writes_an_unsent_row():
    created_at = timezone.now() - timedelta(seconds=3)

    message_id = _insert_outbox_row(created_at=created_at)

    row = OutboxMessage.objects.get(id=message_id)
    assert (row.name, row.queue, row.version) == ("catalog.reserve_stock", "catalog", 1)
    assert row.payload == {"order_id": "o-1", "lines": [{"product_id": 7, "quantity": 2}]}
    assert row.created_at == created_at
    assert (row.sent_at, row.attempts, row.last_error) == (None, 0, "")
    assert (row.trace_context, row.request_id) == ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "req-1")


@pytest.mark.django_db
def test_outbox_mark_sent_marks_an_unsent_row_once_without_waiting_for_the_disk():
    message_id, other_id = _insert_outbox_row(), _insert_outbox_row()
    first, later = timezone.now(), timezone.now() + timedelta(seconds=5)

    with transaction.atomic():
        queries.outbox_mark_sent(message_id=message_id, sent_at=first)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "off"
    queries.outbox_mark_sent(message_id=message_id, sent_at=later)  # already sent: left as it is

    row = OutboxMessage.objects.get(id=message_id)
    assert (row.sent_at, row.attempts) == (first, 1)
    assert OutboxMessage.objects.get(id=other_id).sent_at is None


@pytest.mark.django_db
def test_inbox_insert_records_a_message_id_once():
    message_id, processed_at = uuid.uuid4(), timezone.now()

    assert queries.inbox_insert(message_id=message_id, name="orders.stock_reserved", processed_at=processed_at)
    assert not queries.inbox_insert(message_id=message_id, name="orders.stock_reserved", processed_at=timezone.now())

    row = InboxMessage.objects.get(message_id=message_id)
    assert (row.name, row.processed_at) == ("orders.stock_reserved", processed_at)


@pytest.mark.django_db
def test_messaging_queries_are_one_statement_each():
    message_id = uuid.uuid4()

    with CaptureQueriesContext(connection) as captured:
        _insert_outbox_row(message_id=message_id)
        queries.outbox_mark_sent(message_id=message_id, sent_at=timezone.now())
        queries.inbox_insert(message_id=message_id, name="orders.stock_reserved", processed_at=timezone.now())

    assert len(captured.captured_queries) == 3, [query["sql"] for query in captured.captured_queries]
    for query, model in zip(captured.captured_queries, (OutboxMessage, OutboxMessage, InboxMessage), strict=True):
        assert connection.ops.quote_name(model._meta.db_table) in statement_run(query["sql"])
