import threading
import uuid

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import connection, transaction

from common.messaging.models import InboxMessage
from common_testing.messaging import deliver, queued_messages
from tests.factories import UserFactory
from users_service.notifications import tasks
from users_service.notifications.models import Notification
from users_service.notifications.services import notification_send

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


def test_a_notification_emailed_is_one_statement_and_returned_as_stored(broker, django_assert_num_queries):
    user = UserFactory(email="carl@example.com")

    with transaction.atomic(), django_assert_num_queries(1):
        notification = notification_send(
            user_id=user.id, order_id=uuid.uuid4(), status="confirmed", total="21.99", currency="EUR"
        )

    stored = Notification.objects.get()
    fields = [field.attname for field in Notification._meta.concrete_fields]
    assert [getattr(notification, name) for name in fields] == [getattr(stored, name) for name in fields]
    assert stored.emailed_at is not None
    assert len(mail.outbox) == 1


def test_one_notification_per_order_and_status_even_from_distinct_messages(broker):
    user = UserFactory()
    order_id = uuid.uuid4()

    notify(order_id, user_id=user.id)
    notify(order_id, user_id=user.id)  # a second message for the same fact
    notify(order_id, user_id=user.id, status="cancelled")

    assert sorted(Notification.objects.values_list("order_status", flat=True)) == ["cancelled", "confirmed"]
    assert len(mail.outbox) == 2


def test_a_second_call_for_the_same_fact_returns_the_first_record_and_sends_nothing():
    user = UserFactory()
    order_id = uuid.uuid4()

    first = notification_send(user_id=user.id, order_id=order_id, status="confirmed", total="21.99", currency="EUR")
    second = notification_send(user_id=user.id, order_id=order_id, status="confirmed", total="5.00", currency="EUR")

    stored = Notification.objects.get()
    assert first.id == second.id == stored.id
    assert (second.message, second.emailed_at) == (stored.message, stored.emailed_at)
    assert "21.99 EUR" in second.message
    assert len(mail.outbox) == 1


def test_concurrent_messages_for_the_same_fact_email_once(broker):
    # given: a first message has recorded and emailed, and not yet committed
    user = UserFactory()
    order_id = uuid.uuid4()
    recorded, commit = threading.Event(), threading.Event()
    outcomes = {}

    def first():
        with transaction.atomic():
            notification_send(user_id=user.id, order_id=order_id, status="confirmed", total="21.99", currency="EUR")
            recorded.set()
            commit.wait(10)
        connection.close()

    def second():
        try:
            outcomes["second"] = notify(order_id, user_id=user.id)
        finally:
            connection.close()

    first_thread, second_thread = threading.Thread(target=first), threading.Thread(target=second)
    first_thread.start()
    try:
        assert recorded.wait(10)

        # when: a second message for the same fact arrives meanwhile
        second_thread.start()
        second_thread.join(0.5)
        waited_for_the_first = second_thread.is_alive()
    finally:
        commit.set()
        first_thread.join(10)
        second_thread.join(10)

    # then: it waited for the first one's commit, and neither recorded nor emailed again
    assert waited_for_the_first
    assert outcomes["second"] == "applied"
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_email_that_cannot_be_sent_records_nothing_and_is_retried(broker, settings):
    # given: the mail server refuses connections
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    user = UserFactory()
    message_id = uuid.uuid4()

    # when
    with pytest.raises(Retry):
        notify(uuid.uuid4(), user_id=user.id, message_id=message_id)

    # then
    assert not Notification.objects.exists()
    assert not InboxMessage.objects.filter(message_id=message_id).exists()
    [retry] = queued_messages(broker, "users")
    assert retry["headers"]["task"] == "users.notify_order_status"


def test_an_email_that_cannot_be_sent_outside_a_transaction_records_nothing(settings):
    # given: the mail server refuses connections, and no caller's transaction
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    user = UserFactory()

    # when
    with pytest.raises(ConnectionRefusedError):
        notification_send(user_id=user.id, order_id=uuid.uuid4(), status="cancelled")

    # then
    assert not Notification.objects.exists()


@pytest.mark.parametrize("account", [{"is_active": False}, {"email": ""}], ids=["inactive", "without-address"])
def test_an_account_that_cannot_be_emailed_is_recorded_but_not_emailed(broker, account):
    user = UserFactory(**account)

    notify(uuid.uuid4(), user_id=user.id)

    assert Notification.objects.get().emailed_at is None
    assert mail.outbox == []


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
