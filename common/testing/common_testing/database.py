"""common.database: the health check that costs no round trip while the connection is idle (``postgresql``), and
the hot statements prepared once per connection (``prepared``)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DataError, NotSupportedError, connection, connections, transaction
from django.db.backends.postgresql import base as django_postgresql
from django.test.utils import CaptureQueriesContext

from common.database import prepared
from common.database.postgresql.base import DatabaseWrapper


@contextmanager
def second_connection() -> Iterator[DatabaseWrapper]:
    """A connection of its own to the test database (outside the test's transaction), closed afterwards."""
    other = connections.create_connection("default")
    other.ensure_connection()
    try:
        yield other
    finally:
        other.close()


def is_usable_when(other: DatabaseWrapper, expected: bool, *, timeout: float = 5) -> bool:
    """``other.is_usable()`` once it answers ``expected`` (a closing server's message takes a moment to arrive),
    or its last answer at ``timeout``."""
    deadline = time.monotonic() + timeout
    while (usable := other.is_usable()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return usable


def _select_1_not_expected(self) -> bool:
    raise AssertionError("an idle healthy connection was checked with a query")


@pytest.mark.django_db
def test_an_idle_healthy_connection_is_usable_without_a_round_trip(monkeypatch):
    with second_connection() as other:
        assert isinstance(other, DatabaseWrapper)  # the ENGINE every service's settings name
        monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", _select_1_not_expected)
        assert other.is_usable() is True


@pytest.mark.django_db
def test_a_connection_the_server_closed_is_not_usable_and_the_next_query_reconnects():
    with second_connection() as other:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        with connection.cursor() as cursor:  # as a database restart does, to every session
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])

        assert is_usable_when(other, False) is False
        other.close_if_unusable_or_obsolete()  # what Django does when a request starts: check before its first query
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != backend


@pytest.mark.django_db(transaction=True)
def test_a_connection_with_a_message_waiting_is_checked_with_a_query_and_stays_usable(monkeypatch):
    checked: list[bool] = []
    select_1 = django_postgresql.DatabaseWrapper.is_usable

    def counted(self) -> bool:
        checked.append(answer := select_1(self))
        return answer

    with second_connection() as listening, second_connection() as notifying:
        with listening.cursor() as cursor:
            cursor.execute("LISTEN common_database_test")
        with notifying.cursor() as cursor:  # autocommit: delivered at once, unread on the listener's socket
            cursor.execute("NOTIFY common_database_test")
        monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)

        deadline = time.monotonic() + 5
        while not checked and time.monotonic() < deadline:
            assert listening.is_usable() is True
            time.sleep(0.05)
        assert checked == [True]  # the query read the notification: the socket is quiet again
        assert listening.is_usable() is True
        assert checked == [True]


# A statement as a queries.py writes one: placeholders, casts, a literal percent sign.
SUM_STATEMENT = "SELECT %s::integer + 1 AS answer, '100%%' AS percent, %s::text AS quoted"


def statement_run(sql: str) -> str:
    """The SQL that a query in Django's log ran: its own text, or that of the prepared statement it EXECUTEs."""
    if not sql.startswith("EXECUTE "):
        return sql
    name = sql.removeprefix("EXECUTE ").split("(")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        return cursor.fetchone()[0]


def prepared_here(database: DatabaseWrapper) -> list[str]:
    """The statements prepared on ``database``'s server session, as Postgres holds them."""
    with database.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection_and_answers_as_its_text_would():
    with second_connection() as other:
        with other.cursor() as cursor:
            cursor.execute(SUM_STATEMENT, [41, "it's"])
            as_text = cursor.fetchone()
        with CaptureQueriesContext(other) as captured, other.cursor() as cursor:
            for _ in range(3):
                prepared.execute(cursor, SUM_STATEMENT, [41, "it's"])
                assert cursor.fetchone() == as_text == (42, "100%", "it's")

        # Postgres holds it once, its placeholders numbered; each run was an EXECUTE, the PREPARE set-up not logged
        [statement] = prepared_here(other)
        assert "$1::integer + 1" in statement
        assert "$2::text" in statement
        assert "'100%'" in statement
        executed = [query["sql"] for query in captured.captured_queries]
        assert len(executed) == 3
        assert all(sql.startswith(f"EXECUTE {prepared.statement_name(SUM_STATEMENT)}(") for sql in executed), executed


def prepared_in_a_failed_transaction(database: DatabaseWrapper) -> None:
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        prepared.execute(cursor, SUM_STATEMENT, [1, "a"])
        cursor.execute("SELECT 1 / 0")


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_outlives_a_rollback_and_is_prepared_again_on_a_new_connection():
    with second_connection() as other:
        with pytest.raises(DataError):
            prepared_in_a_failed_transaction(other)

        with other.cursor() as cursor:  # still prepared: a PREPARE is not undone by the rollback
            prepared.execute(cursor, SUM_STATEMENT, [2, "b"])
            assert cursor.fetchone() == (3, "100%", "b")
        assert len(prepared_here(other)) == 1

        other.close()  # a new server session has none; the connection forgot them and prepares again
        with other.cursor() as cursor:
            assert prepared_here(other) == []
            prepared.execute(cursor, SUM_STATEMENT, [3, "c"])
            assert cursor.fetchone() == (4, "100%", "c")
        assert len(prepared_here(other)) == 1


def fetched(database: DatabaseWrapper, sql: str, parameters: list) -> list[tuple]:
    with database.cursor() as cursor:
        prepared.execute(cursor, sql, parameters)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_a_migration_broke_fails_once_and_its_connection_is_replaced():
    with second_connection() as other:
        with other.cursor() as cursor:
            cursor.execute("CREATE TABLE prepared_probe (amount integer)")
            cursor.execute("INSERT INTO prepared_probe VALUES (7)")
        try:
            select = "SELECT amount, %s::integer AS asked FROM prepared_probe"
            with other.cursor() as cursor:
                prepared.execute(cursor, select, [1])
                assert cursor.fetchall() == [(7, 1)]
                cursor.execute("ALTER TABLE prepared_probe ALTER COLUMN amount TYPE text")  # a migration, meanwhile

            # when: the statement runs again on the same connection
            with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
                fetched(other, select, [2])

            # then: Django replaces the connection before the next request or task, which prepares it again
            backend = other.connection.info.backend_pid
            other.close_if_unusable_or_obsolete()
            assert fetched(other, select, [3]) == [("7", 3)]
            assert other.connection.info.backend_pid != backend
        finally:
            with other.cursor() as cursor:
                cursor.execute("DROP TABLE prepared_probe")


@pytest.mark.django_db(transaction=True)
def test_behind_transaction_pooling_a_statement_is_sent_as_text():
    pooled = DatabaseWrapper({**connection.settings_dict, "PREPARED_STATEMENTS": False}, alias="pooled")
    try:
        with pooled.cursor() as cursor:
            prepared.execute(cursor, SUM_STATEMENT, [5, "d"])
            assert cursor.fetchone() == (6, "100%", "d")
        assert prepared_here(pooled) == []
    finally:
        pooled.close()
