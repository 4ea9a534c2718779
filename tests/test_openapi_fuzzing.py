"""schemathesis against each running service, with every one of its default checks on.

Every check schemathesis has by default: no 5xx; every status, content type,
header and body as the schema says; requests the schema forbids refused and
requests it allows accepted; authentication neither ignored nor missing; a
deleted resource gone. ``schemathesis.toml`` names the few operations
that refuse a schema-valid request for a rule no schema can state (a taken
username, a wrong current password), and why.

Each service is fuzzed anonymously and as a logged-in customer (in
users_service a registered account; in catalog and orders a customer id no
other test uses), and then as the role that may write there: a
catalog_manager in catalog, an order_operator in orders, a staff member (not a
superuser) in users_service. So the 200s of every endpoint are checked, not
only their 401s and 403s. The role runs come last: they change what they find.

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

from tests.conftest import ROOT, SERVICES

CONFIG = ROOT / "schemathesis.toml"


def forget_failed_logins(system) -> None:
    client = redis.Redis.from_url(system.redis_url)
    try:
        keys = list(client.scan_iter(match="users_service:*:login:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module", autouse=True)
def _forget_failed_logins(system):
    yield
    forget_failed_logins(system)


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
            "--config-file",
            str(CONFIG),
            "run",
            f"{system.urls[service]}/{SERVICES[service]}/api/schema/?format=json",
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


@pytest.fixture(scope="module")
def staff_token(system) -> str:
    """A staff member of users_service who is not a superuser, made as an operator would (manage.py)."""
    username = f"fuzz-staff-{uuid.uuid4().hex[:8]}"
    password = f"Fuzz-{uuid.uuid4().hex}"
    program = (
        "from users_service.accounts.models import User\n"
        f"User.objects.create_user({username!r}, {username + '@example.com'!r}, {password!r}, is_staff=True)\n"
    )
    result = system.manage("users_service", "shell", "-c", program)
    assert result.returncode == 0, result.stderr[-3000:]
    forget_failed_logins(system)  # the runs before fuzzed auth/token/ from this address, which locked it out
    users = system.urls["users_service"]
    tokens = requests.post(f"{users}/api/v1/auth/token/", json={"username": username, "password": password}, timeout=10)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access"]


FUZZ_OPERATOR_ID = 2_000_000_001


@pytest.mark.parametrize("service", list(SERVICES))
def test_api_conforms_to_its_schema_for_the_role_that_writes_there(system, service, staff_token):
    if service == "users_service":
        authorization = f"Bearer {staff_token}"
    else:
        role = {"catalog_service": "catalog_manager", "orders_service": "order_operator"}[service]
        authorization = system.bearer(user_id=FUZZ_OPERATOR_ID, username=f"fuzz-{role}", roles=[role])["Authorization"]

    result = fuzz(system, service, f"Authorization: {authorization}")

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
