import jwt
import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from tests.factories import PASSWORD, UserFactory
from tests.helpers import bearer, login, token_pair, unverified_claims
from users_service.accounts import signing
from users_service.accounts.models import User

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in {"client_error", "validation_error"}
    assert all(set(error) == {"code", "detail", "attr"} for error in body["errors"])
    return body


# ---------------------------------------------------------------- register


def test_register_creates_a_customer(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": "newcomer", "email": "New@Example.COM", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 201, response.content
    user = User.objects.get(username="newcomer")
    assert response.json() == {"id": user.id, "username": "newcomer", "email": "New@example.com"}
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert list(user.groups.all()) == []


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "newcomer2024"])
def test_register_applies_the_password_validators(api_client, password):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": "newcomer", "email": "n@example.com", "password": password},
        format="json",
    )

    body = assert_error_shape(response, 400)
    assert {error["attr"] for error in body["errors"]} == {"password"}
    assert not User.objects.filter(username="newcomer").exists()


def test_register_refuses_a_taken_username_or_email(api_client):
    UserFactory(username="taken", email="taken@example.com")

    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": "TAKEN", "email": "TAKEN@example.com", "password": PASSWORD},
        format="json",
    )

    body = assert_error_shape(response, 400)
    assert {error["attr"] for error in body["errors"]} == {"username", "email"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"username": "a b", "email": "x@example.com", "password": PASSWORD}, {"username": "ok", "email": "nope"}],
)
def test_register_rejects_bad_input_with_400(api_client, payload):
    assert_error_shape(api_client.post("/api/v1/auth/register/", payload, format="json"), 400)


# ---------------------------------------------------------------- token


def test_token_returns_an_rs256_pair_with_the_contract_claims(api_client):
    user = UserFactory(username="alice", roles=["catalog_manager"])

    pair = token_pair(api_client, user)

    header = jwt.get_unverified_header(pair["access"])
    assert header["alg"] == "RS256"
    assert header["kid"] == signing.signing_key_id() == "users-test-key"
    access = unverified_claims(pair["access"])
    assert access["user_id"] == user.id
    assert access["username"] == "alice"
    assert access["is_staff"] is False
    assert access["is_superuser"] is False
    assert access["roles"] == ["catalog_manager"]
    assert access["token_type"] == "access"
    assert access["iss"] == settings.JWT_ISSUER
    assert access["exp"] - access["iat"] == 300
    assert access["jti"]
    refresh = unverified_claims(pair["refresh"])
    assert refresh["token_type"] == "refresh"
    assert refresh["user_id"] == user.id
    assert jwt.get_unverified_header(pair["refresh"])["kid"] == "users-test-key"


def test_the_access_token_verifies_with_the_published_jwks(api_client):
    pair = token_pair(api_client, UserFactory())

    jwks = api_client.get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(pair["access"])["kid"]]

    claims = jwt.decode(pair["access"], key.key, algorithms=["RS256"], issuer=settings.JWT_ISSUER)
    assert claims["token_type"] == "access"


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_bad_credentials_are_401(api_client, password):
    user = UserFactory()

    response = api_client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": password or "x"}, format="json"
    )

    body = assert_error_shape(response, 401)
    assert body["errors"][0]["code"] == "authentication_failed"
    assert "credentials" in body["errors"][0]["detail"]


def test_an_unknown_username_is_401(api_client):
    assert_error_shape(login(api_client, username="nobody"), 401)


def test_an_inactive_account_cannot_log_in(api_client):
    user = UserFactory(is_active=False)

    assert_error_shape(login(api_client, username=user.username), 401)


def test_a_stale_authorization_header_does_not_break_login(api_client):
    user = UserFactory()

    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION="Bearer expired.or.garbage",
    )

    assert response.status_code == 200


# ---------------------------------------------------------------- refresh and logout


def test_refresh_rotates_and_the_old_refresh_token_is_then_401(api_client):
    pair = token_pair(api_client, UserFactory())

    first = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    again = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    assert first.status_code == 200, first.content
    new_pair = first.json()
    assert set(new_pair) == {"access", "refresh"}
    assert new_pair["refresh"] != pair["refresh"]
    assert_error_shape(again, 401)
    assert (
        api_client.post("/api/v1/auth/token/refresh/", {"refresh": new_pair["refresh"]}, format="json").status_code
        == 200
    )


def test_refresh_carries_the_current_roles(api_client):
    user = UserFactory()
    pair = token_pair(api_client, user)
    user.groups.add(Group.objects.get_or_create(name="order_operator")[0])

    new_pair = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()

    assert unverified_claims(new_pair["access"])["roles"] == ["order_operator"]


def test_an_access_token_is_not_a_refresh_token(api_client):
    pair = token_pair(api_client, UserFactory())

    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["access"]}, format="json")

    assert_error_shape(response, 401)


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", "x" * 4000])
def test_a_malformed_refresh_token_is_401(api_client, refresh):
    assert_error_shape(api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"), 401)


def test_a_refresh_token_of_a_deactivated_user_is_401(api_client):
    user = UserFactory()
    pair = token_pair(api_client, user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error_shape(api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"), 401)


def test_logout_blacklists_the_refresh_token(api_client):
    pair = token_pair(api_client, UserFactory())

    response = api_client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    repeat = api_client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert repeat.status_code == 204
    assert_error_shape(api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"), 401)


def test_logout_with_a_forged_or_access_token_is_401(api_client):
    pair = token_pair(api_client, UserFactory())
    header, payload, _ = pair["refresh"].split(".")

    forged = api_client.post("/api/v1/auth/logout/", {"refresh": f"{header}.{payload}.AAAA"}, format="json")
    access = api_client.post("/api/v1/auth/logout/", {"refresh": pair["access"]}, format="json")

    assert_error_shape(forged, 401)
    assert_error_shape(access, 401)


def test_an_access_token_keeps_working_after_logout_until_it_expires(api_client):
    # Documented behaviour: access tokens are stateless and short-lived; logout ends the refresh chain.
    pair = token_pair(api_client, UserFactory())
    api_client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert api_client.get("/api/v1/users/me/", **bearer(pair["access"])).status_code == 200
