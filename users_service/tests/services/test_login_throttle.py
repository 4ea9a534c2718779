import time

import pytest
from prometheus_client import REGISTRY

from common import login_lockout
from tests.factories import PASSWORD, UserFactory
from tests.helpers import login
from users_service.accounts import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_SECONDS = 60


def locked_out_count() -> float:
    return REGISTRY.get_sample_value("shop_throttled_total", {"service": "users_service", "scope": "login"}) or 0.0


def test_repeated_failures_lock_the_account_with_429(api_client, limits):
    user = UserFactory()
    counted = locked_out_count()

    failures = [login(api_client, username=user.username, password="wrong", address=f"10.0.0.{n}") for n in range(3)]
    locked = login(api_client, username=user.username, address="10.9.9.9")  # right password, other address

    assert [response.status_code for response in failures] == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json() == {
        "type": "client_error",
        "errors": [{"code": "throttled", "detail": locked.json()["errors"][0]["detail"], "attr": None}],
    }
    assert 1 <= int(locked["Retry-After"]) <= 60
    assert locked_out_count() == counted + 1  # shop_throttled_total{scope="login"}


def test_the_account_lock_is_case_insensitive(api_client, limits):
    UserFactory(username="casey")
    for _ in range(3):
        login(api_client, username="CASEY", password="wrong")

    assert login(api_client, username="casey", address="10.1.1.1").status_code == 429


def test_repeated_failures_from_one_address_lock_the_address(api_client, limits):
    victims = UserFactory.create_batch(5)
    bystander = UserFactory()

    for victim in victims:
        assert login(api_client, username=victim.username, password="wrong", address="10.6.6.6").status_code == 401

    assert login(api_client, username=bystander.username, address="10.6.6.6").status_code == 429
    assert login(api_client, username=bystander.username, address="10.7.7.7").status_code == 200


def test_a_successful_login_clears_the_accounts_failures(api_client, limits):
    user = UserFactory()

    for _ in range(2):
        login(api_client, username=user.username, password="wrong")
    assert login(api_client, username=user.username).status_code == 200
    for _ in range(2):
        login(api_client, username=user.username, password="wrong")

    assert login(api_client, username=user.username).status_code == 200


def test_the_lock_expires(api_client, limits, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    user = UserFactory()
    for _ in range(3):
        login(api_client, username=user.username, password="wrong")
    assert login(api_client, username=user.username).status_code == 429

    time.sleep(1.6)

    assert login(api_client, username=user.username).status_code == 200


def test_failed_logins_are_counted_in_redis_shared_by_every_worker(settings):
    assert settings.CACHES["default"]["BACKEND"] == "common.cache.RedisCache"


def test_an_unreachable_cache_does_not_break_logins(api_client, limits, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    user = UserFactory()

    assert login(api_client, username=user.username, password="wrong").status_code == 401
    assert login(api_client, username=user.username).status_code == 200


def test_a_locked_out_login_is_refused_with_the_seconds_to_wait(limits):
    user = UserFactory()
    for _ in range(3):
        with pytest.raises(services.InvalidCredentials):
            services.token_obtain(username=user.username, password="wrong", client_address="10.2.2.2")

    with pytest.raises(login_lockout.LoginLocked) as locked:
        services.token_obtain(username=user.username, password=PASSWORD, client_address="10.3.3.3")

    assert 0 < locked.value.retry_after <= 60
