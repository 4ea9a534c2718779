"""The saga's hot statements, prepared once per database connection and then executed by name.

Each step of the saga is one raw statement (each app's ``queries.py``), and the larger ones are common table
expressions that Postgres spends more time planning than running: catalog's reservation is planned in about
0.3 ms and run in 0.15 ms. A statement sent as text is parsed and planned again every time; a prepared
statement is parsed once per connection and, after a few executions, runs a plan Postgres keeps. Measured
on the reservation (a rolled-back loop against the benchmark's database): 0.87 ms a statement at the client
and 0.78 ms of the server's CPU sent as text, 0.40 ms and 0.30 ms prepared.

``execute(cursor, sql, parameters)`` takes a statement as ``cursor.execute`` does (``%s`` placeholders).
The first time a connection runs it, it sends ``PREPARE`` with the placeholders numbered; then, and every
time after, ``EXECUTE`` with the parameters, which psycopg2 quotes as it would have in the text. The
``PREPARE`` is the connection's set-up, like the statements Django sends when it connects: it goes on the
driver's cursor, so Django's query log (and ``django_assert_num_queries``) counts what a step executes. A
statement's name says what it writes and ends in a hash of its text (``insert_messaging_outboxmessage_`` and 16
hex digits): a trace's ``EXECUTE`` span names it, a statement changed by an upgrade is a new name, and two
texts never share one.

What a prepared statement assumes, and where it does not hold:

- It lives as long as the server session. Django's connection remembers what it prepared and forgets it
  when it connects again (``common.database.postgresql``). A ``PREPARE`` is not undone by a rollback, so
  one prepared in a transaction that then fails stays usable.
- PgBouncer in transaction pooling mode runs a connection's transactions on different server sessions, so a
  statement prepared in one is missing in the next. There (``DATABASE_TRANSACTION_POOLING``) every statement
  is sent as text, as before.
- A parameter takes the type Postgres gave its placeholder at ``PREPARE``, by an assignment cast only. A
  statement sent as text casts explicitly: ``%s::numeric[]`` makes numbers of an array of strings; prepared,
  that array is ``text[]`` and is refused. Pass values of the type (orders' confirmation passes Decimals).
- The plan Postgres keeps is made again when a table it uses changes (a migration). A migration that changes
  the type of a column the statement returns makes it fail ("cached plan must not change result type"), as a
  statement someone deallocated does ("prepared statement does not exist"). The error is raised as it is (the
  request answers 503, the message is retried) and the connection is replaced before the next request or
  task (``close_at``, which Django checks then), so the retry prepares the statement again.
"""

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import DatabaseError
from django.db.backends.utils import CursorWrapper

_PLACEHOLDER = re.compile(r"%s|%%")
# After these the connection's prepared statements are not to be trusted: feature_not_supported (a cached plan
# whose result type changed) and invalid_sql_statement_name (a statement missing on the server).
_STALE_STATEMENT_CODES = frozenset({"0A000", "26000"})
_FIRST_WRITE = re.compile(r'\b(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)', re.IGNORECASE)


def statement_name(sql: str) -> str:
    """``insert_messaging_outboxmessage_`` and a hash of ``sql``: the first table it writes (``select_`` if none)."""
    write = _FIRST_WRITE.search(sql)
    label = f"{write.group(1).split()[0]}_{write.group(2)}".lower() if write else "select"
    return f"{label[:40]}_{hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()}"


@cache
def _statements(sql: str) -> tuple[str, str]:
    """``PREPARE`` and ``EXECUTE`` for ``sql``: its ``%s`` numbered ``$1``, ``$2``... (``%%`` is ``%``)."""
    name = statement_name(sql)
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    body = _PLACEHOLDER.sub(number, sql)
    # The PREPARE is sent without parameters, so a literal % in it must not be doubled.
    arguments = ", ".join(["%s"] * count)
    return f"PREPARE {name} AS {body}", f"EXECUTE {name}({arguments})" if count else f"EXECUTE {name}"


def execute(cursor: CursorWrapper, sql: str, parameters: Sequence[Any]) -> None:
    """``cursor.execute(sql, parameters)``, prepared on the cursor's connection the first time it runs there."""
    database = cursor.db
    if not getattr(database, "prepares_statements", False):
        cursor.execute(sql, parameters)
        return
    prepare, run = _statements(sql)
    if sql not in database.prepared_statements:
        with database.wrap_database_errors:
            cursor.cursor.execute(prepare)
        database.prepared_statements.add(sql)
    try:
        cursor.execute(run, parameters)
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) in _STALE_STATEMENT_CODES:
            database.close_at = 0  # obsolete: Django closes it before the next request or task
        raise
