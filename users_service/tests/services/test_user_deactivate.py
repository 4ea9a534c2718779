import pytest
from django.db import transaction
from django.utils.dateparse import parse_datetime

from common.messaging.models import OutboxMessage
from tests.factories import UserFactory
from users_service.accounts import services

pytestmark = pytest.mark.django_db


def test_deactivation_tells_catalog_and_orders_through_the_outbox():
    user = UserFactory(username="leaver")

    services.user_deactivate(user=user)

    messages = OutboxMessage.objects.filter(payload__user_id=user.id).order_by("name")
    assert [(message.name, message.queue) for message in messages] == [
        ("catalog.user_deactivated", "catalog"),
        ("orders.user_deactivated", "orders"),
    ]
    for message in messages:
        assert message.payload["username"] == "leaver"
        assert parse_datetime(message.payload["deactivated_at"]).tzinfo is not None


def test_a_deactivation_rolled_back_sends_nothing():
    user = UserFactory()

    def deactivate_then_fail():
        with transaction.atomic():
            services.user_deactivate(user=user)
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError):
        deactivate_then_fail()

    user.refresh_from_db()
    assert user.is_active
    assert not OutboxMessage.objects.filter(payload__user_id=user.id).exists()


def test_reactivation_lets_the_user_log_in_again(api_client):
    # given: a deactivated user, who cannot log in
    user = UserFactory()
    user.set_password("correct-horse-battery")
    user.save(update_fields=["password"])
    services.user_deactivate(user=user)
    credentials = {"username": user.username, "password": "correct-horse-battery"}
    assert api_client.post("/api/v1/auth/token/", credentials, format="json").status_code == 401

    # when
    services.user_update_by_staff(user=user, actor=UserFactory(is_staff=True), is_active=True)

    # then
    user.refresh_from_db()
    assert user.is_active
    response = api_client.post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
