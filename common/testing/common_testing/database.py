"""common.database.postgresql: the health check that costs no round trip while the connection is idle."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

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
