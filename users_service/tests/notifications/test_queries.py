"""Every raw statement of ``notifications.queries``, run against the test database.

The statements take their names from the models' ``_meta``; these tests prove that what they do still
matches the models (read back through the ORM), so a model change a statement cannot follow fails here.
"""

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import UserFactory
from users_service.notifications import queries
from users_service.notifications.models import Notification

pytestmark = pytest.mark.django_db

TESTED_STATEMENTS = {"NOTIFICATION_INSERT"}


def execute(sql: str, parameters: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall() if cursor.description else []


def insert(values: dict, *, emailed_at: datetime.datetime | None = None) -> list[tuple]:
    return execute(
        queries.NOTIFICATION_INSERT,
        [
            values["user_id"],
            *(values[name] for name in queries.NOTIFICATION_INSERT_FIELDS),
            emailed_at or values["created_at"],
        ],
    )


def notification_values(*, user_id: int, order_id: uuid.UUID | None = None, status: str = "confirmed") -> dict:
    return {
        "user_id": user_id,
        "order_id": order_id or uuid.uuid4(),
        "order_status": status,
        "subject": "Your order is confirmed",
        "message": "Your order is confirmed. Total: 21.99 EUR.",
        "created_at": timezone.now(),
    }


def test_every_statement_of_the_queries_module_has_a_test_here():
    statements = {
        name
        for name, value in vars(queries).items()
        if not name.startswith("_")
        and isinstance(value, str)
        and value.startswith(("WITH", "SELECT", "INSERT", "UPDATE"))
    }

    assert statements == TESTED_STATEMENTS


def test_notification_insert_records_the_fields_as_emailed_and_returns_the_id_and_the_address_to_email():
    # given
    user = UserFactory(email="carl@example.com")
    values = notification_values(user_id=user.id)
    emailed_at = values["created_at"] + datetime.timedelta(seconds=1)

    # when
    [(notification_id, email)] = insert(values, emailed_at=emailed_at)

    # then
    notification = Notification.objects.get(id=notification_id)
    assert {name: getattr(notification, name) for name in values} == values
    assert notification.emailed_at == emailed_at
    assert email == "carl@example.com"


@pytest.mark.parametrize(
    "account", [None, {"is_active": False}, {"email": ""}], ids=["no account", "inactive", "no address"]
)
def test_notification_insert_returns_no_address_without_an_active_account_that_has_one(account):
    user_id = UserFactory(**account).id if account else 987_654

    [(notification_id, email)] = insert(notification_values(user_id=user_id))

    assert Notification.objects.get(id=notification_id).emailed_at is None
    assert email is None


def test_notification_insert_records_an_order_and_status_once():
    # given
    user = UserFactory()
    order_id = uuid.uuid4()
    [(first_id, _email)] = insert(notification_values(user_id=user.id, order_id=order_id))

    # when
    again = insert(notification_values(user_id=user.id, order_id=order_id))
    cancelled = insert(notification_values(user_id=user.id, order_id=order_id, status="cancelled"))

    # then
    assert again == []
    assert len(cancelled) == 1
    assert Notification.objects.get(order_id=order_id, order_status="confirmed").id == first_id


def test_a_notification_loads_from_its_fields_as_the_orm_loads_it():
    # given: notification_send builds its result from the values it wrote, in NOTIFICATION_FIELDS order
    user = UserFactory()
    values = notification_values(user_id=user.id)
    [(values["id"], _email)] = insert(values)
    values["emailed_at"] = values["created_at"]

    # when
    built = Notification.from_db(
        connection.alias, queries.NOTIFICATION_FIELDS, [values[n] for n in queries.NOTIFICATION_FIELDS]
    )

    # then
    stored = Notification.objects.get(id=values["id"])
    assert [getattr(built, name) for name in queries.NOTIFICATION_FIELDS] == [
        getattr(stored, name) for name in queries.NOTIFICATION_FIELDS
    ]
