"""Who may change what in an account (OWASP API3 and API5): privileged fields and the staff's endpoints.

A caller's privileges are ``is_staff``, ``is_superuser``, ``is_active`` and the
roles (groups). Registration and ``PATCH users/me/`` ignore them: the stored
account shows nothing changed. ``PATCH users/{id}/`` is for staff; staff who
are not superusers cannot change a superuser nor raise their own roles.
"""

import pytest

from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.helpers import bearer, token_pair, unverified_claims
from users_service.accounts.models import User

pytestmark = pytest.mark.django_db

PRIVILEGED_FIELDS = {"is_staff": True, "is_superuser": True, "is_active": False, "roles": ["catalog_manager"]}


def privileges(user: User) -> tuple[bool, bool, bool, list[str]]:
    user.refresh_from_db()
    return user.is_staff, user.is_superuser, user.is_active, sorted(user.groups.values_list("name", flat=True))


# ---------------------------------------------------------------- property level


@pytest.mark.parametrize(("field", "value"), PRIVILEGED_FIELDS.items())
def test_registration_ignores_a_privileged_field(api_client, roles, field, value):
    # when
    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": "mallory", "email": "mallory@example.com", "password": PASSWORD, field: value},
        format="json",
    )

    # then: a plain active customer, and the token says so
    assert response.status_code == 201, response.content
    user = User.objects.get(username="mallory")
    assert privileges(user) == (False, False, True, [])
    claims = unverified_claims(token_pair(api_client, user)["access"])
    assert (claims["is_staff"], claims["roles"]) == (False, [])


@pytest.mark.parametrize(("field", "value"), PRIVILEGED_FIELDS.items())
def test_me_update_ignores_a_privileged_field(api_client, roles, field, value):
    user = UserFactory()
    access = token_pair(api_client, user)["access"]

    response = api_client.patch(
        "/api/v1/users/me/", {"first_name": "Mallory", field: value}, format="json", **bearer(access)
    )

    assert response.status_code == 200, response.content
    assert (response.json()["is_staff"], response.json()["roles"]) == (False, [])
    assert privileges(user) == (False, False, True, [])
    assert user.first_name == "Mallory"


# ---------------------------------------------------------------- function level


@pytest.mark.parametrize("payload", [{"first_name": "Eve"}, *({k: v} for k, v in PRIVILEGED_FIELDS.items())])
def test_a_customer_cannot_change_any_account_through_the_staff_endpoint(api_client, roles, payload):
    customer, other = UserFactory(), UserFactory()
    access = token_pair(api_client, customer)["access"]

    for target in (other, customer):
        response = api_client.patch(f"/api/v1/users/{target.id}/", payload, format="json", **bearer(access))

        assert response.status_code == 403, response.content
        assert response.json()["errors"][0]["code"] == "permission_denied"
        assert privileges(target) == (False, False, True, [])
        assert target.first_name == ""


@pytest.mark.parametrize(
    "payload", [{"first_name": "Eve"}, {"is_active": False}, {"roles": []}, {"email": "eve@example.com"}]
)
def test_staff_who_are_not_superusers_cannot_change_a_superuser(api_client, roles, payload):
    staff = StaffFactory(roles=["catalog_manager", "order_operator"])
    superuser = UserFactory(is_staff=True, is_superuser=True, roles=["order_operator"])
    access = token_pair(api_client, staff)["access"]

    response = api_client.patch(f"/api/v1/users/{superuser.id}/", payload, format="json", **bearer(access))

    assert response.status_code == 403, response.content
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert privileges(superuser) == (True, True, True, ["order_operator"])
    assert (superuser.first_name, superuser.email) == ("", f"{superuser.username}@example.com")


def test_staff_cannot_raise_their_own_roles(api_client, roles):
    staff = StaffFactory(roles=["order_operator"])
    access = token_pair(api_client, staff)["access"]

    response = api_client.patch(
        f"/api/v1/users/{staff.id}/", {"roles": ["order_operator", "catalog_manager"]}, format="json", **bearer(access)
    )

    assert response.status_code == 403, response.content
    assert privileges(staff) == (True, False, True, ["order_operator"])


def test_staff_may_drop_their_own_roles(api_client, roles):
    staff = StaffFactory(roles=["order_operator", "catalog_manager"])
    access = token_pair(api_client, staff)["access"]

    response = api_client.patch(
        f"/api/v1/users/{staff.id}/", {"roles": ["order_operator"]}, format="json", **bearer(access)
    )

    assert response.status_code == 200, response.content
    assert privileges(staff) == (True, False, True, ["order_operator"])


def test_a_superuser_changes_a_superuser_and_their_own_roles(api_client, roles):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    other = UserFactory(is_staff=True, is_superuser=True)
    access = token_pair(api_client, superuser)["access"]

    mine = api_client.patch(
        f"/api/v1/users/{superuser.id}/", {"roles": ["catalog_manager"]}, format="json", **bearer(access)
    )
    theirs = api_client.patch(f"/api/v1/users/{other.id}/", {"first_name": "Root"}, format="json", **bearer(access))

    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert privileges(superuser)[3] == ["catalog_manager"]
    other.refresh_from_db()
    assert other.first_name == "Root"
