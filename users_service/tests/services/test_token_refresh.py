"""Two concurrent refreshes of one refresh token: exactly one new pair (real threads, real Postgres)."""

import threading

import pytest
from django.db import connection

from tests.factories import UserFactory
from users_service.accounts import services
from users_service.accounts.tokens import token_pair_for_user


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_refreshes_of_one_token_issue_exactly_one_pair(attempt):
    # given: one refresh token and several callers released at the same instant
    pair = token_pair_for_user(user=UserFactory())
    callers = 4
    barrier = threading.Barrier(callers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def refresh():
        try:
            barrier.wait(timeout=10)
            services.token_refresh(refresh=pair.refresh)
            outcome = "pair"
        except services.RefreshTokenRejected:
            outcome = "rejected"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    # when
    threads = [threading.Thread(target=refresh) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes) == ["pair"] + ["rejected"] * (callers - 1)
