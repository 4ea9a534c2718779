"""schemathesis against each running service: no 5xx, and every response matches the schema.

Each service is fuzzed twice: anonymously, and as a logged-in customer (in
users_service a registered account; in catalog and orders a customer id no
other test uses), so that the 200 responses of the authenticated endpoints are
checked against the schema too, not only their 401s.

Fuzzing ``auth/token/`` is a stream of failed logins from 127.0.0.1, which
rightly locks that address out of logging in; the module clears that lockout
when it is done, so the other tests find the system as it was.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import SERVICES

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module", autouse=True)
def _forget_failed_logins(system):
    yield
    client = redis.Redis.from_url(system.redis_url)
    try:
        keys = list(client.scan_iter(match="users_service:*:login:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def customer_token(system) -> str:
    users = system.urls["users_service"]
    username = f"fuzz-{uuid.uuid4().hex[:10]}"
    password = f"Fuzz-{uuid.uuid4().hex}"
    registered = requests.post(
        f"{users}/api/v1/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": password},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    tokens = requests.post(f"{users}/api/v1/auth/token/", json={"username": username, "password": password}, timeout=10)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access"]


def fuzz(system, service: str, *headers: str) -> subprocess.CompletedProcess:
    schemathesis = Path(sys.executable).parent / "st"
    header_options = [option for header in headers for option in ("--header", header)]
    return subprocess.run(  # noqa: S603
        [
            str(schemathesis),
            "run",
            f"{system.urls[service]}/{SERVICES[service]}/api/schema/?format=json",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--request-timeout",
            "10",
            "--generation-deterministic",
            "--no-color",
            *header_options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=system.workdir,  # schemathesis keeps its example cache in the working folder
    )


@pytest.mark.parametrize("service", list(SERVICES))
def test_api_conforms_to_its_schema_and_never_fails_with_5xx(system, service):
    result = fuzz(system, service)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# catalog and orders trust any valid token: the customer they see is one no other test uses, so the orders
# the fuzzer places cannot show up in another test's order list.
FUZZ_CUSTOMER_ID = 2_000_000_000


@pytest.mark.parametrize("service", list(SERVICES))
def test_api_conforms_to_its_schema_for_a_logged_in_customer(system, service, customer_token):
    if service == "users_service":
        authorization = f"Bearer {customer_token}"  # users_service reads the account behind the token
    else:
        authorization = system.bearer(user_id=FUZZ_CUSTOMER_ID, username="fuzz-customer")["Authorization"]

    result = fuzz(system, service, f"Authorization: {authorization}")

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
