"""The reservations app's raw SQL: the two statements of a reservation that the ORM would make costly.

Every reservation runs ``RESERVATION_GET_LOCKED`` (almost always to find nothing), then, unless it found one,
``RESERVATION_INSERT``; ``reservations.services`` executes them. Names and casts come from the models'
``_meta`` once, at import (see ``catalog.queries``); ``tests/test_queries.py`` runs both statements against
the test database.
"""

from catalog_service.reservations.models import Reservation, ReservationLine
from common.database.sql import sql_names

_RESERVATION = sql_names(Reservation)
_LINE = sql_names(ReservationLine)
_RESERVATION_COLUMN, _LINE_COLUMN = _RESERVATION.column, _LINE.column

# Every reservation field by attribute name, in the model's order: ``Model.from_db`` takes a full row so.
RESERVATION_FIELDS = tuple(field.attname for field in Reservation._meta.concrete_fields)

# ``RESERVATION_GET_LOCKED``: an order's reservation, locked until the transaction ends (a concurrent release
# waits). Parameter: the order id. At most one row, of the ``RESERVATION_FIELDS``.
RESERVATION_GET_LOCKED = (
    f"SELECT {', '.join(_RESERVATION_COLUMN[name] for name in RESERVATION_FIELDS)}"  # noqa: S608 - our own table
    f" FROM {_RESERVATION.table} WHERE {_RESERVATION_COLUMN['order_id']} = %s FOR UPDATE"
)

# ``RESERVATION_INSERT``: a reservation and its lines in one statement, where the ORM needs two (and more
# Python). Parameters: the reservation's ``RESERVATION_INSERT_FIELDS`` (every field but its id), then the lines
# as one array per ``LINE_FIELDS`` field, unnested into rows. One row: the new reservation's id. A second
# reservation of the same order breaks the unique ``order_id``.
RESERVATION_INSERT_FIELDS = tuple(name for name in RESERVATION_FIELDS if name != Reservation._meta.pk.attname)
LINE_FIELDS = ("product_id", "quantity", "unit_price")
_line_arrays = ", ".join(f"%s::{_LINE.db_type[name]}[]" for name in LINE_FIELDS)
RESERVATION_INSERT = (
    f"WITH reservation AS (INSERT INTO {_RESERVATION.table}"  # noqa: S608 - our own tables
    f" ({', '.join(_RESERVATION_COLUMN[name] for name in RESERVATION_INSERT_FIELDS)})"
    f" VALUES ({', '.join(['%s'] * len(RESERVATION_INSERT_FIELDS))}) RETURNING {_RESERVATION_COLUMN['id']}),"
    f" reserved_lines AS (INSERT INTO {_LINE.table}"
    f" ({', '.join(_LINE_COLUMN[name] for name in ('reservation', *LINE_FIELDS))})"
    f" SELECT reservation.{_RESERVATION_COLUMN['id']}, {', '.join(f'line.{name}' for name in LINE_FIELDS)}"
    f" FROM reservation, UNNEST({_line_arrays}) AS line ({', '.join(LINE_FIELDS)}))"
    f" SELECT {_RESERVATION_COLUMN['id']} FROM reservation"
)
