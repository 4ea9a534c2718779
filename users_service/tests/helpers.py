"""Small helpers for the accounts tests."""

import jwt

from tests.factories import PASSWORD


def login(api_client, *, username: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    return api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def token_pair(api_client, user) -> dict:
    response = login(api_client, username=user.username)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}


def unverified_claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})
