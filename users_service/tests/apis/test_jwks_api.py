import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.factories import UserFactory
from tests.helpers import bearer, token_pair
from users_service.accounts import signing

pytestmark = pytest.mark.django_db


def test_jwks_publishes_the_current_public_key_only(api_client):
    response = api_client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert [key["kid"] for key in keys] == ["users-test-key"]
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert set(keys[0]) == {"kty", "kid", "alg", "use", "n", "e"}  # no private parts


def test_the_default_kid_is_the_keys_thumbprint(settings):
    settings.JWT_SIGNING_KEY_ID = ""

    assert signing.signing_key_id() == signing.key_thumbprint(signing.private_key().public_key())


def test_after_a_rotation_both_keys_are_published(api_client, settings):
    settings.JWT_PREVIOUS_PUBLIC_JWKS = {"keys": [signing.current_public_jwk()]}
    settings.JWT_SIGNING_KEY = signing.generate_private_key_pem()
    settings.JWT_SIGNING_KEY_ID = "users-test-key-2"

    keys = api_client.get("/.well-known/jwks.json").json()["keys"]

    assert [key["kid"] for key in keys] == ["users-test-key-2", "users-test-key"]


def test_tokens_of_the_old_and_the_new_key_both_verify_during_the_overlap(api_client, settings):
    # given: a session opened before the rotation
    user = UserFactory()
    old_pair = token_pair(api_client, user)
    old_jwk = signing.current_public_jwk()

    # when: the key rotates
    settings.JWT_PREVIOUS_PUBLIC_JWKS = {"keys": [old_jwk]}
    settings.JWT_SIGNING_KEY = signing.generate_private_key_pem()
    settings.JWT_SIGNING_KEY_ID = "users-test-key-2"
    new_pair = token_pair(api_client, user)

    # then
    assert jwt.get_unverified_header(new_pair["access"])["kid"] == "users-test-key-2"
    assert api_client.get("/api/v1/users/me/", **bearer(old_pair["access"])).status_code == 200
    assert api_client.get("/api/v1/users/me/", **bearer(new_pair["access"])).status_code == 200
    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": old_pair["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert jwt.get_unverified_header(refreshed.json()["access"])["kid"] == "users-test-key-2"

    # and once the old key is retired, its tokens stop verifying
    settings.JWT_PREVIOUS_PUBLIC_JWKS = {"keys": []}
    assert api_client.get("/api/v1/users/me/", **bearer(old_pair["access"])).status_code == 401


def test_private_parts_in_the_previous_set_are_never_published(api_client, settings):
    retired = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(retired, as_dict=True)  # has d, p, q, ...
    settings.JWT_PREVIOUS_PUBLIC_JWKS = {"keys": [{**private_jwk, "kid": "old"}, signing.current_public_jwk()]}

    keys = api_client.get("/.well-known/jwks.json").json()["keys"]

    assert [key["kid"] for key in keys] == ["users-test-key", "old"]
    assert all("d" not in key and "p" not in key for key in keys)
