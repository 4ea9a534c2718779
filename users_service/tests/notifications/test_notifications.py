import uuid

import pytest
from django.core import mail

from common.messaging.testing import deliver
from tests.factories import UserFactory
from users_service.notifications import tasks
from users_service.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def notify(order_id, *, user_id, status="confirmed", **options):
    payload = {
        "order_id": str(order_id),
        "user_id": user_id,
        "status": status,
        "total": "21.99" if status == "confirmed" else None,
        "currency": "EUR" if status == "confirmed" else None,
        "reason": "Not enough stock for product 3." if status == "rejected" else None,
    }
    return deliver(tasks.notify_order_status, payload, **options)


def test_a_confirmed_order_is_recorded_and_emailed(broker):
    user = UserFactory(email="carl@example.com")
    order_id = uuid.uuid4()

    notify(order_id, user_id=user.id)

    notification = Notification.objects.get()
    assert (notification.user_id, notification.order_id, notification.order_status) == (user.id, order_id, "confirmed")
    assert "21.99 EUR" in notification.message
    assert notification.emailed_at is not None
    [email] = mail.outbox
    assert email.to == ["carl@example.com"]
    assert email.subject == notification.subject


def test_one_notification_per_order_and_status_even_from_distinct_messages(broker):
    user = UserFactory()
    order_id = uuid.uuid4()

    notify(order_id, user_id=user.id)
    notify(order_id, user_id=user.id)  # a second message for the same fact
    notify(order_id, user_id=user.id, status="cancelled")

    assert sorted(Notification.objects.values_list("order_status", flat=True)) == ["cancelled", "confirmed"]
    assert len(mail.outbox) == 2


def test_the_rejection_reason_is_told(broker):
    user = UserFactory()

    notify(uuid.uuid4(), user_id=user.id, status="rejected")

    assert "Not enough stock for product 3." in Notification.objects.get().message


def test_a_user_without_an_account_here_is_recorded_but_not_emailed(broker):
    notify(uuid.uuid4(), user_id=987654)

    assert Notification.objects.get().emailed_at is None
    assert mail.outbox == []


def test_my_notifications_lists_only_mine_newest_first(api_client, signer, broker, django_assert_max_num_queries):
    # given
    me, someone = UserFactory(), UserFactory()
    first, second = uuid.uuid4(), uuid.uuid4()
    notify(first, user_id=me.id)
    notify(second, user_id=me.id, status="rejected")
    notify(uuid.uuid4(), user_id=someone.id)
    api_client.force_authenticate(user=me)

    # when
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/users/me/notifications/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["order_id"] for item in body["results"]] == [str(second), str(first)]
    assert set(body["results"][0]) == {
        "id",
        "order_id",
        "order_status",
        "subject",
        "message",
        "created_at",
        "emailed_at",
    }


def test_my_notifications_needs_a_token(api_client):
    response = api_client.get("/api/v1/users/me/notifications/")

    assert response.status_code == 401
