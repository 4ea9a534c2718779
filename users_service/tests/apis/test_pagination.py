"""The page-size rule of every list (``common.pagination``) on each of users_service's lists."""

import uuid

import pytest
from django.utils import timezone

from common_testing.pagination import DEFAULT_PAGE_SIZE, assert_the_page_size_rule, paginated_operations
from tests.factories import StaffFactory, UserFactory
from tests.helpers import bearer, token_pair
from users_service.notifications.models import Notification

pytestmark = pytest.mark.django_db

ROWS = DEFAULT_PAGE_SIZE + 3
LISTS = {"GET /api/v1/users/", "GET /api/v1/users/me/notifications/"}


def test_every_list_is_covered_here():
    assert paginated_operations() == LISTS


def test_the_user_list_follows_the_page_size_rule(api_client):
    access = token_pair(api_client, StaffFactory())["access"]
    UserFactory.create_batch(ROWS - 1)

    assert_the_page_size_rule(lambda params: api_client.get("/api/v1/users/", params, **bearer(access)), rows=ROWS)


def test_the_notification_list_follows_the_page_size_rule(api_client):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]
    Notification.objects.bulk_create(
        Notification(
            user_id=user.id,
            order_id=uuid.uuid4(),
            order_status="confirmed",
            subject="s",
            message="m",
            created_at=timezone.now(),
        )
        for _ in range(ROWS)
    )

    assert_the_page_size_rule(
        lambda params: api_client.get("/api/v1/users/me/notifications/", params, **bearer(access)), rows=ROWS
    )
