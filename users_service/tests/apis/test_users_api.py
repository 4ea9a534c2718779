import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.helpers import bearer, login, token_pair

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-Harbour-lantern-93"


# ---------------------------------------------------------------- me


def test_me_returns_the_callers_account(api_client):
    user = UserFactory(username="alice", roles=["order_operator"])
    access = token_pair(api_client, user)["access"]

    response = api_client.get("/api/v1/users/me/", **bearer(access))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.id
    assert body["username"] == "alice"
    assert body["roles"] == ["order_operator"]
    assert "password" not in body


def test_me_without_a_token_is_401(api_client):
    response = api_client.get("/api/v1/users/me/")

    assert response.status_code == 401
    assert response.json()["type"] == "client_error"


def test_me_with_the_token_of_a_deactivated_user_is_401(api_client):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]
    user.is_active = False
    user.save()

    assert api_client.get("/api/v1/users/me/", **bearer(access)).status_code == 401


def test_me_update_changes_only_the_profile(api_client):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]

    response = api_client.patch(
        "/api/v1/users/me/",
        {"first_name": "Alice", "email": "alice@new.example", "is_staff": True, "username": "root"},
        format="json",
        **bearer(access),
    )

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.first_name, user.email, user.is_staff, user.username.startswith("user")) == (
        "Alice",
        "alice@new.example",
        False,
        True,
    )


def test_me_update_refuses_an_email_in_use(api_client):
    UserFactory(email="used@example.com")
    access = token_pair(api_client, UserFactory())["access"]

    response = api_client.patch("/api/v1/users/me/", {"email": "USED@example.com"}, format="json", **bearer(access))

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"


# ---------------------------------------------------------------- password


def test_password_change_revokes_every_refresh_token(api_client):
    # given: a user logged in twice
    user = UserFactory()
    first = token_pair(api_client, user)
    second = token_pair(api_client, user)

    # when
    response = api_client.post(
        "/api/v1/users/me/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(first["access"]),
    )

    # then
    assert response.status_code == 204, response.content
    for pair in (first, second):
        refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401
    assert login(api_client, username=user.username).status_code == 401
    assert login(api_client, username=user.username, password=NEW_PASSWORD).status_code == 200


def test_password_change_needs_the_current_password(api_client):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]

    response = api_client.post(
        "/api/v1/users/me/password/",
        {"old_password": "not-it", "new_password": NEW_PASSWORD},
        format="json",
        **bearer(access),
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "old_password"


def test_password_change_applies_the_validators(api_client):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]

    response = api_client.post(
        "/api/v1/users/me/password/", {"old_password": PASSWORD, "new_password": "123"}, format="json", **bearer(access)
    )

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"new_password"}


# ---------------------------------------------------------------- staff: list and detail


def test_user_list_is_for_staff_only(api_client):
    access = token_pair(api_client, UserFactory())["access"]

    response = api_client.get("/api/v1/users/", **bearer(access))

    assert response.status_code == 403
    assert response.json()["type"] == "client_error"


def test_user_list_paginates_and_filters(api_client, django_assert_num_queries):
    staff = StaffFactory()
    UserFactory.create_batch(3, roles=["catalog_manager"])
    UserFactory.create_batch(2, is_active=False)
    access = token_pair(api_client, staff)["access"]

    # one query for the caller, count, page, roles
    with django_assert_num_queries(4):
        response = api_client.get("/api/v1/users/?page_size=2", **bearer(access))
    managers = api_client.get("/api/v1/users/?role=catalog_manager", **bearer(access)).json()
    inactive = api_client.get("/api/v1/users/?is_active=false", **bearer(access)).json()

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert len(body["results"]) == 2
    assert body["next"]
    assert managers["count"] == 3
    assert all(user["roles"] == ["catalog_manager"] for user in managers["results"])
    assert inactive["count"] == 2


def test_user_list_search(api_client):
    staff = StaffFactory()
    UserFactory(username="needle", email="n@example.com")
    UserFactory(username="hay", email="somebody@needlework.example")
    UserFactory(username="straw")
    access = token_pair(api_client, staff)["access"]

    body = api_client.get("/api/v1/users/?search=needle", **bearer(access)).json()

    assert sorted(user["username"] for user in body["results"]) == ["hay", "needle"]


def test_user_list_rejects_a_bad_filter(api_client):
    access = token_pair(api_client, StaffFactory())["access"]

    response = api_client.get("/api/v1/users/?is_active=perhaps", **bearer(access))

    assert response.status_code == 400


def test_staff_sees_a_user_and_unknown_ids_are_404(api_client):
    staff = StaffFactory()
    user = UserFactory()
    access = token_pair(api_client, staff)["access"]

    assert api_client.get(f"/api/v1/users/{user.id}/", **bearer(access)).json()["username"] == user.username
    assert api_client.get("/api/v1/users/999999/", **bearer(access)).status_code == 404


def test_staff_sets_roles(api_client, roles):
    staff = StaffFactory()
    user = UserFactory(roles=["order_operator"])
    access = token_pair(api_client, staff)["access"]

    response = api_client.patch(
        f"/api/v1/users/{user.id}/", {"roles": ["catalog_manager"]}, format="json", **bearer(access)
    )

    assert response.status_code == 200, response.content
    assert response.json()["roles"] == ["catalog_manager"]
    assert list(user.groups.values_list("name", flat=True)) == ["catalog_manager"]


def test_staff_cannot_grant_an_unknown_role(api_client):
    access = token_pair(api_client, StaffFactory())["access"]
    user = UserFactory()

    response = api_client.patch(f"/api/v1/users/{user.id}/", {"roles": ["god"]}, format="json", **bearer(access))

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "roles"


def test_staff_deactivates_a_user_who_is_then_locked_out(api_client):
    # given: a customer with a live session
    staff = StaffFactory()
    user = UserFactory()
    pair = token_pair(api_client, user)
    access = token_pair(api_client, staff)["access"]

    # when
    response = api_client.patch(f"/api/v1/users/{user.id}/", {"is_active": False}, format="json", **bearer(access))

    # then
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert api_client.get("/api/v1/users/me/", **bearer(pair["access"])).status_code == 401
    assert (
        api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401
    )
    assert login(api_client, username=user.username).status_code == 401
    assert (
        BlacklistedToken.objects.filter(token__user=user).count() == OutstandingToken.objects.filter(user=user).count()
    )


def test_staff_cannot_deactivate_themselves(api_client):
    staff = StaffFactory()
    access = token_pair(api_client, staff)["access"]

    response = api_client.patch(f"/api/v1/users/{staff.id}/", {"is_active": False}, format="json", **bearer(access))

    assert response.status_code == 400


def test_the_roles_migration_creates_the_roles_idempotently():
    migration = importlib.import_module("users_service.accounts.migrations.0002_roles")
    Group.objects.all().delete()

    migration.create_roles(django_apps, None)
    migration.create_roles(django_apps, None)

    assert sorted(Group.objects.values_list("name", flat=True)) == ["catalog_manager", "order_operator"]


@pytest.mark.parametrize("value", [0, 1.5])
def test_a_number_where_a_string_is_expected_is_400(api_client, value):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]

    response = api_client.patch("/api/v1/users/me/", {"last_name": value}, format="json", **bearer(access))

    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "invalid", "detail": "Not a valid string.", "attr": "last_name"}
    user.refresh_from_db()
    assert user.last_name == ""


@pytest.mark.parametrize("value", ["null", "None", "maybe"])
def test_user_list_refuses_a_boolean_filter_that_is_no_boolean(api_client, value):
    access = token_pair(api_client, StaffFactory())["access"]

    response = api_client.get("/api/v1/users/", {"is_staff": value}, **bearer(access))

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "is_staff"
