"""The notifications app's raw SQL: a notification recorded once per order and status, as emailed if it is.

``notifications.services.notification_send`` runs ``NOTIFICATION_INSERT`` for every order status the saga
reports, its only statement: building the ORM's three queries cost more CPU than everything else there.
Table and column names come from the models' ``_meta`` once, at import, so a renamed field or table
changes the statements without an edit here; values are always parameters.
``tests/notifications/test_queries.py`` runs every statement against the test database.
"""

from django.contrib.auth import get_user_model
from django.db import models

from common.database.sql import sql_names
from users_service.notifications.models import Notification

_User = get_user_model()
_NOTIFICATION, _USER = sql_names(Notification), sql_names(_User)
_NOTIFICATIONS, _USERS, _COLUMN = _NOTIFICATION.table, _USER.table, _NOTIFICATION.column
_NOTIFICATION_ID = _COLUMN[Notification._meta.pk.attname]
_USER_ID, _USER_EMAIL, _USER_IS_ACTIVE = (_USER.column[name] for name in (_User._meta.pk.name, "email", "is_active"))

# Every notification field by attribute name, in the model's order: ``Model.from_db`` takes a full row so.
NOTIFICATION_FIELDS = tuple(field.attname for field in Notification._meta.concrete_fields)

# ``NOTIFICATION_INSERT``: record a notification unless its order and status are recorded already (the unique
# constraint below decides, so a concurrent second call waits on the first one's insert), and read the address
# to email in the same statement; if there is one, the row records ``emailed_at`` too (the caller sends the
# email before it commits, and rolls back if it cannot). Parameters: the user id, the
# ``NOTIFICATION_INSERT_FIELDS`` (every field but the id and ``emailed_at``), then the ``emailed_at`` to record
# if there is an address. One row if inserted: the new id and the address (None: no active account with one,
# and ``emailed_at`` NULL); none if already recorded.
NOTIFICATION_INSERT_FIELDS = tuple(
    name for name in NOTIFICATION_FIELDS if name not in {Notification._meta.pk.attname, "emailed_at"}
)
_ONCE_PER_ORDER_STATUS = next(
    constraint
    for constraint in Notification._meta.constraints
    if isinstance(constraint, models.UniqueConstraint) and constraint.name == "notifications_once_per_order_status"
)
_ONCE_PER_ORDER_STATUS_COLUMNS = ", ".join(_COLUMN[name] for name in _ONCE_PER_ORDER_STATUS.fields)
NOTIFICATION_INSERT = (
    f"WITH address AS (SELECT {_USER_EMAIL} AS email FROM {_USERS}"  # noqa: S608 - our own tables
    f" WHERE {_USER_ID} = %s AND {_USER_IS_ACTIVE} AND {_USER_EMAIL} <> '')"
    f" INSERT INTO {_NOTIFICATIONS}"
    f" ({', '.join(_COLUMN[name] for name in (*NOTIFICATION_INSERT_FIELDS, 'emailed_at'))})"
    f" VALUES ({', '.join(['%s'] * len(NOTIFICATION_INSERT_FIELDS))},"
    f" (SELECT %s::{_NOTIFICATION.db_type['emailed_at']} FROM address))"
    f" ON CONFLICT ({_ONCE_PER_ORDER_STATUS_COLUMNS}) DO NOTHING"
    f" RETURNING {_NOTIFICATION_ID}, (SELECT email FROM address)"
)
