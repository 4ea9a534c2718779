"""users_service's admin: local accounts, users / roles / tokens with search and filters."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from common.messaging.models import OutboxMessage
from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.helpers import token_pair
from users_service.notifications.models import Notification

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/users/admin/notifications/notification/"


@pytest.fixture
def admin_client(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/users/admin/accounts/user/?q=user&is_active__exact=1&groups__id__exact=1",
        "/users/admin/auth/group/?q=catalog",
        "/users/admin/token_blacklist/outstandingtoken/?q=user&blacklistedtoken__isempty=1",
        "/users/admin/token_blacklist/blacklistedtoken/?q=user",
    ],
)
def test_admin_lists_search_and_filter(admin_client, api_client, url):
    token_pair(api_client, UserFactory())

    assert admin_client.get(url).status_code == 200


def test_a_customer_cannot_log_into_the_admin(client):
    user = UserFactory()

    response = client.post("/users/admin/login/?next=/users/admin/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert b"staff account" in response.content


def test_staff_log_in_with_their_local_account(client):
    staff = StaffFactory()

    response = client.post("/users/admin/login/?next=/users/admin/", {"username": staff.username, "password": PASSWORD})

    assert response.status_code == 302


def test_unticking_active_in_the_admin_deactivates_through_the_service(admin_client):
    user = UserFactory()
    form = admin_client.get(f"/users/admin/accounts/user/{user.id}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "groups": [Group.objects.get_or_create(name="catalog_manager")[0].id],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data = {key: value for key, value in data.items() if value != []} | {"groups": data["groups"]}
    if data.get("is_staff") is False:
        data.pop("is_staff")
    if data.get("is_superuser") is False:
        data.pop("is_superuser")

    response = admin_client.post(f"/users/admin/accounts/user/{user.id}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    user.refresh_from_db()
    assert not user.is_active
    assert OutboxMessage.objects.filter(payload__user_id=user.id).count() == 2


def test_the_deactivate_action(admin_client):
    users = UserFactory.create_batch(2)

    admin_client.post(
        "/users/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [user.id for user in users]}
    )

    assert OutboxMessage.objects.filter(payload__user_id__in=[user.id for user in users]).count() == 4


def notification(*, user_id: int, order_id: uuid.UUID | None = None) -> Notification:
    return Notification.objects.create(
        user_id=user_id,
        order_id=order_id or uuid.uuid4(),
        order_status=Notification.OrderStatus.CONFIRMED,
        subject="Your order is confirmed",
        message="Your order is confirmed.",
        created_at=timezone.now(),
    )


@pytest.mark.parametrize("by", ["order_id", "user_id"])
def test_notifications_are_found_by_order_id_or_user_id(admin_client, by):
    wanted, other = notification(user_id=7), notification(user_id=8)

    found = admin_client.get(NOTIFICATIONS, {"q": str(getattr(wanted, by))}).context["cl"].result_list

    assert list(found) == [wanted]
    assert other not in found


@pytest.mark.parametrize("term", ["not-a-uuid", "9" * 30])
def test_a_notification_search_that_is_no_id_finds_nothing(admin_client, term):
    notification(user_id=7)

    response = admin_client.get(NOTIFICATIONS, {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_a_notification_cannot_be_added_or_changed(admin_client):
    told = notification(user_id=7)

    assert admin_client.get(f"{NOTIFICATIONS}{told.pk}/change/").context["has_change_permission"] is False
    assert admin_client.get(f"{NOTIFICATIONS}add/").status_code == 403
