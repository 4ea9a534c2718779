"""Django's PostgreSQL backend, with a health check that costs no round trip while the connection is idle.

The web servers keep ``CONN_HEALTH_CHECKS`` on, so a request after a database restart gets a new connection
instead of an error. Django's check is a ``SELECT 1`` before each request's first query: a round trip to the
server, and a statement it must run, on every request that touches the database.

A connection the server has closed announces it: when Postgres ends a session (a restart, a terminated
backend, a PgBouncer that went away) it sends its error and closes the socket, so the socket of an idle
connection becomes readable. An idle connection in good health has nothing to read. So the check looks at the
socket first, without waiting: nothing to read, and the connection is usable. Something to read, and
Django's ``SELECT 1`` decides (it reads the message, and fails on a closed connection). A server that went
away without a word (a network cut) is caught by the first query instead, which fails and answers 503, as it
would if the cut came a moment after a ``SELECT 1``.

It also remembers the statements ``common.database.prepared`` prepared on the current server session, and
forgets them when it connects again; ``PREPARED_STATEMENTS`` in the database's settings (off behind PgBouncer's
transaction pooling) says whether any are prepared.

ENGINE ``common.database.postgresql`` (``common.settings.database_settings``).
"""

import select
from typing import Any

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepares_statements: bool = self.settings_dict.get("PREPARED_STATEMENTS", False)
        self.prepared_statements: set[str] = set()  # their SQL, as given to ``common.database.prepared``

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.prepared_statements = set()
        return super().get_new_connection(conn_params)

    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        poller = select.poll()
        try:
            poller.register(self.connection.fileno(), select.POLLIN | select.POLLPRI)
        except (OSError, ValueError):  # the socket is gone
            return False
        if not poller.poll(0):
            return True
        return super().is_usable()
