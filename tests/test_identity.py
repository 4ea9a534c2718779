"""Identity and trust against the real processes: users_service issues, every service verifies.

One new user's path (register, log in, me, the token on catalog and orders,
refresh, logout), forged and expired tokens on every service, a customer
refused a catalog write, a deactivation reaching every service within
seconds, and one operator account logging into all three admins.
"""

import time
import uuid

import jwt
import pytest
import requests

from common_testing.auth import TestSigner
from common_testing.auth_contract import forge_hs256_with_public_key, tamper, unsigned_token
from tests.admin_pages import admin_login, admin_path, superuser
from tests.web_workers import connection_to_every_worker

PASSWORD = "plum-Tortoise-river-47"
OPERATOR_PASSWORD = "heron-Quartz-window-58"
DEACTIVATION_DEADLINE_SECONDS = 10


def api(system, service: str, path: str) -> str:
    return f"{system.urls[service]}/api/v1/{path}"


def bearer(access: str) -> dict:
    return {"Authorization": f"Bearer {access}"}


def assert_common_error(response: requests.Response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert body["type"] == "client_error"
    assert all(set(error) == {"code", "detail", "attr"} for error in body["errors"])


def register_and_log_in(system, username: str | None = None) -> tuple[dict, dict]:
    username = username or f"user-{uuid.uuid4().hex[:10]}"
    registered = requests.post(
        api(system, "users_service", "auth/register/"),
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    pair = requests.post(
        api(system, "users_service", "auth/token/"), json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert pair.status_code == 200, pair.text
    return registered.json(), pair.json()


@pytest.fixture(scope="module")
def operator(system) -> str:
    """A superuser of users_service (created as an operator would: manage.py createsuperuser)."""
    username = f"operator-{uuid.uuid4().hex[:6]}"
    result = system.manage(
        "users_service", "createsuperuser", "--no-input", environment=superuser(username, OPERATOR_PASSWORD)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return username


def operator_access(system, operator: str) -> str:
    response = requests.post(
        api(system, "users_service", "auth/token/"),
        json={"username": operator, "password": OPERATOR_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


# ---------------------------------------------------------------- a new user's path


def test_a_new_user_registers_logs_in_and_uses_the_token_on_every_service(system):
    user, pair = register_and_log_in(system)

    me = requests.get(api(system, "users_service", "users/me/"), headers=bearer(pair["access"]), timeout=10)
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert jwt.get_unverified_header(pair["access"]) == {"alg": "RS256", "kid": "e2e-users-key", "typ": "JWT"}
    for service in ("catalog_service", "orders_service"):
        whoami = requests.get(api(system, service, "auth/whoami/"), headers=bearer(pair["access"]), timeout=10)
        assert whoami.status_code == 200, (service, whoami.text)
        assert whoami.json()["user_id"] == user["id"]
        assert whoami.json()["roles"] == []
    orders = requests.get(api(system, "orders_service", "orders/"), headers=bearer(pair["access"]), timeout=10)
    assert orders.status_code == 200
    assert orders.json()["count"] == 0


def test_the_jwks_publishes_the_signing_key(system):
    response = requests.get(f"{system.urls['users_service']}/.well-known/jwks.json", timeout=10)

    assert response.status_code == 200
    assert [key["kid"] for key in response.json()["keys"]] == ["e2e-users-key"]


def test_refresh_rotates_and_the_old_refresh_token_then_fails(system):
    _, pair = register_and_log_in(system)
    refresh_url = api(system, "users_service", "auth/token/refresh/")

    rotated = requests.post(refresh_url, json={"refresh": pair["refresh"]}, timeout=10)
    reused = requests.post(refresh_url, json={"refresh": pair["refresh"]}, timeout=10)

    assert rotated.status_code == 200
    assert_common_error(reused, 401)
    new_access = rotated.json()["access"]
    assert requests.get(api(system, "catalog_service", "auth/whoami/"), headers=bearer(new_access), timeout=10).ok


def test_logout_ends_the_refresh_chain(system):
    _, pair = register_and_log_in(system)

    logout = requests.post(api(system, "users_service", "auth/logout/"), json={"refresh": pair["refresh"]}, timeout=10)
    refreshed = requests.post(
        api(system, "users_service", "auth/token/refresh/"), json={"refresh": pair["refresh"]}, timeout=10
    )

    assert logout.status_code == 204
    assert_common_error(refreshed, 401)


def test_bad_credentials_are_401(system):
    response = requests.post(
        api(system, "users_service", "auth/token/"), json={"username": "nobody", "password": "nope"}, timeout=10
    )

    assert_common_error(response, 401)


# ---------------------------------------------------------------- forged and expired tokens, everywhere


def forged_tokens(system, *, user_id: int, username: str) -> dict[str, str]:
    real = system.users_signing_key  # the key users_service really signs with (this run's)
    claims = {"user_id": user_id, "username": username}
    valid = jwt.decode(real.token(**claims), options={"verify_signature": False})
    now = int(time.time())
    return {
        "alg none": unsigned_token(signer=real, claims=valid),
        "HS256 with the public key": forge_hs256_with_public_key(signer=real, claims=valid),
        "foreign key under the real kid": TestSigner(kid=real.kid, issuer=real.issuer).token(**claims),
        "unknown kid": TestSigner(kid="who-knows", issuer=real.issuer).token(**claims),
        "expired": real.token(**claims, iat=now - 3600, exp=now - 600),
        "not valid yet": real.token(**claims, nbf=now + 3600),
        "wrong issuer": real.token(**claims, iss="https://evil.example"),
        "tampered payload": tamper(real.token(**claims), is_superuser=True, roles=["catalog_manager"]),
        "refresh used as access": real.token(**claims, token_type="refresh"),
        "malformed": "not-a-jwt",
    }


FORGERIES = [
    "alg none",
    "HS256 with the public key",
    "foreign key under the real kid",
    "unknown kid",
    "expired",
    "not valid yet",
    "wrong issuer",
    "tampered payload",
    "refresh used as access",
    "malformed",
]
PROTECTED = {
    "users_service": "users/me/",
    "catalog_service": "auth/whoami/",
    "orders_service": "orders/",
}


@pytest.fixture(scope="module")
def victim(system) -> dict:
    user, pair = register_and_log_in(system)
    return {"user": user, "tokens": forged_tokens(system, user_id=user["id"], username=user["username"])}


@pytest.mark.parametrize("service", list(PROTECTED))
@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_and_expired_tokens_are_401_on_every_service(system, victim, service, forgery):
    response = requests.get(
        api(system, service, PROTECTED[service]), headers=bearer(victim["tokens"][forgery]), timeout=10
    )

    assert_common_error(response, 401)


def test_an_honest_token_of_the_real_key_passes_everywhere(system, victim):
    token = system.users_signing_key.token(user_id=victim["user"]["id"], username=victim["user"]["username"])

    for service, path in PROTECTED.items():
        assert requests.get(api(system, service, path), headers=bearer(token), timeout=10).status_code == 200


# ---------------------------------------------------------------- roles


def test_a_customer_cannot_write_the_catalog(system):
    _, pair = register_and_log_in(system)

    response = requests.post(
        api(system, "catalog_service", "categories/"),
        json={"name": "Smuggled", "slug": "smuggled"},
        headers=bearer(pair["access"]),
        timeout=10,
    )

    assert_common_error(response, 403)


def test_a_role_granted_by_staff_travels_in_the_next_token(system, operator):
    user, pair = register_and_log_in(system)
    granted = requests.patch(
        api(system, "users_service", f"users/{user['id']}/"),
        json={"roles": ["catalog_manager"]},
        headers=bearer(operator_access(system, operator)),
        timeout=10,
    )
    assert granted.status_code == 200, granted.text

    refreshed = requests.post(
        api(system, "users_service", "auth/token/refresh/"), json={"refresh": pair["refresh"]}, timeout=10
    ).json()
    slug = f"identity-{uuid.uuid4().hex[:8]}"
    created = requests.post(
        api(system, "catalog_service", "categories/"),
        json={"name": slug, "slug": slug},
        headers=bearer(refreshed["access"]),
        timeout=10,
    )

    assert created.status_code == 201, created.text


# ---------------------------------------------------------------- deactivation


def test_a_deactivated_user_is_locked_out_of_every_web_worker_of_every_service_within_seconds(system, operator):
    # given: a customer whose token works on every web worker process of every service
    user, pair = register_and_log_in(system)
    workers = {service: connection_to_every_worker(system, service) for service in PROTECTED}
    for service, connections in workers.items():
        for worker in connections:
            assert worker.get(f"/api/v1/{PROTECTED[service]}", headers=bearer(pair["access"]))[0] == 200

    # when: an operator deactivates the account
    started = time.monotonic()
    response = requests.patch(
        api(system, "users_service", f"users/{user['id']}/"),
        json={"is_active": False},
        headers=bearer(operator_access(system, operator)),
        timeout=10,
    )
    assert response.status_code == 200, response.text

    # then: every worker of every service refuses the (unexpired) access token within the promised time
    refused: dict[tuple[str, int], float] = {}
    everyone = {(service, worker.pid): worker for service, connections in workers.items() for worker in connections}
    while len(refused) < len(everyone) and time.monotonic() - started < DEACTIVATION_DEADLINE_SECONDS:
        for (service, pid), worker in everyone.items():
            if (service, pid) in refused:
                continue
            status, _ = worker.get(f"/api/v1/{PROTECTED[service]}", headers=bearer(pair["access"]))
            if status == 401:
                refused[(service, pid)] = time.monotonic() - started
        time.sleep(0.1)
    for worker in everyone.values():
        worker.connection.close()
    assert set(refused) == set(everyone), f"still accepted after {DEACTIVATION_DEADLINE_SECONDS}s: {refused}"
    refresh = requests.post(
        api(system, "users_service", "auth/token/refresh/"), json={"refresh": pair["refresh"]}, timeout=10
    )
    assert_common_error(refresh, 401)
    login = requests.post(
        api(system, "users_service", "auth/token/"),
        json={"username": user["username"], "password": PASSWORD},
        timeout=10,
    )
    assert_common_error(login, 401)


# ---------------------------------------------------------------- one operator account for all three admins


@pytest.mark.parametrize("service", ["users_service", "catalog_service", "orders_service"])
def test_one_operator_account_logs_into_every_admin(system, operator, service):
    session, response = admin_login(system.urls[service], service, operator, OPERATOR_PASSWORD)

    assert response.status_code == 302, response.text[-2000:]
    assert response.headers["Location"] == admin_path(service)
    index = session.get(f"{system.urls[service]}{admin_path(service)}", timeout=10)
    assert index.status_code == 200
    assert "Site administration" in index.text


@pytest.mark.parametrize("service", ["users_service", "catalog_service", "orders_service"])
def test_a_customer_cannot_enter_any_admin(system, service):
    user, _ = register_and_log_in(system)

    session, response = admin_login(system.urls[service], service, user["username"], PASSWORD)

    assert response.status_code == 200
    assert "staff account" in response.text
    assert (
        session.get(f"{system.urls[service]}{admin_path(service)}", allow_redirects=False, timeout=10).status_code
        == 302
    )
