"""The SQL that ``common.messaging`` writes by hand: the outbox row, its mark as sent, the inbox row.

These run once per message on the saga's hot path, where the ORM cost several times each statement's own
price in Python (see ``README.md``), so they are written out; every other query of the package goes
through the ORM. Table and column names come from the models' ``_meta``, so a renamed field or table
breaks here at once rather than in production, and each statement is built once per process. The outbox
and inbox inserts are prepared once per connection (``common.database.prepared``); the mark is two
statements (``SET LOCAL`` and the ``UPDATE``), so it goes as text, after the commit the saga waits for.
``common_testing.messaging_queries`` (run by every service's suite) executes each one against the real
test database.
"""

import datetime
import uuid
from functools import cache

from django.db import connection

from common.database import prepared
from common.database.sql import sql_names
from common.messaging.models import InboxMessage, OutboxMessage


@cache
def _outbox_insert_sql() -> str:
    outbox = sql_names(OutboxMessage)
    names = outbox.columns(
        (
            "id",
            "name",
            "queue",
            "version",
            "payload",
            "created_at",
            "trace_context",
            "request_id",
            "attempts",
            "last_error",
        )
    )
    return (
        f"INSERT INTO {outbox.table} ({names})"  # noqa: S608 - our own table
        " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, 0, '')"
    )


@cache
def _outbox_mark_sent_sql() -> str:
    outbox = sql_names(OutboxMessage)
    sent_at, attempts, message_id = (outbox.column[name] for name in ("sent_at", "attempts", "id"))
    # synchronous_commit off for this one statement: see outbox_mark_sent.
    return (
        f"SET LOCAL synchronous_commit TO OFF; UPDATE {outbox.table} "  # noqa: S608 - our own table
        f"SET {sent_at} = %s, {attempts} = {attempts} + 1 WHERE {message_id} = %s AND {sent_at} IS NULL"
    )


@cache
def _inbox_insert_sql() -> str:
    inbox = sql_names(InboxMessage)
    message_id, name, processed_at = (inbox.column[field] for field in ("message_id", "name", "processed_at"))
    return (
        f"INSERT INTO {inbox.table} ({message_id}, {name}, {processed_at}) "  # noqa: S608 - our own table
        f"VALUES (%s, %s, %s) ON CONFLICT ({message_id}) DO NOTHING RETURNING {message_id}"
    )


def outbox_insert(
    *,
    message_id: uuid.UUID,
    name: str,
    queue: str,
    version: int,
    payload_json: str,
    created_at: datetime.datetime,
    trace_context: str,
    request_id: str,
) -> None:
    """INSERT one unsent outbox row (no attempt yet, no error); ``payload_json`` is the payload's JSON text."""
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            _outbox_insert_sql(),
            [message_id, name, queue, version, payload_json, created_at, trace_context, request_id],
        )


def outbox_mark_sent(*, message_id: uuid.UUID, sent_at: datetime.datetime) -> None:
    """Mark an unsent outbox row sent at ``sent_at`` and count the attempt, without waiting for the disk.

    ``synchronous_commit`` off for this one statement (it runs in its own transaction, after the change's
    commit): if the database crashes before the mark reaches disk, the relay sends the message again and its
    consumer's inbox drops the duplicate. That saves a WAL flush per message. A row already sent is left as
    it is.
    """
    with connection.cursor() as cursor:
        cursor.execute(_outbox_mark_sent_sql(), [sent_at, message_id])


def inbox_insert(*, message_id: uuid.UUID, name: str, processed_at: datetime.datetime) -> bool:
    """INSERT the inbox row of ``message_id`` in the current transaction; False if it was there already.

    A concurrent insert of the same id waits for the other transaction: False once it commits.
    """
    with connection.cursor() as cursor:
        prepared.execute(cursor, _inbox_insert_sql(), [message_id, name, processed_at])
        return cursor.fetchone() is not None
