"""users_service verifies access tokens like every service (the shared contract), plus: the account must be active."""

import pytest

from common_testing.auth_contract import TokenVerificationContract
from tests.factories import UserFactory


class TestTokenVerification(TokenVerificationContract):
    url = "/api/v1/users/me/"

    @pytest.fixture
    def claims(self) -> dict:
        user = UserFactory()
        return {"user_id": user.id, "username": user.username}


class TestTokenVerificationOfWhoAmI(TokenVerificationContract):
    url = "/api/v1/auth/whoami/"

    @pytest.fixture
    def claims(self) -> dict:
        user = UserFactory()
        return {"user_id": user.id, "username": user.username}


@pytest.mark.django_db
def test_a_valid_token_of_an_unknown_user_is_401(api_client, signer):
    response = api_client.get("/api/v1/users/me/", **signer.bearer(user_id=987654))

    assert response.status_code == 401
