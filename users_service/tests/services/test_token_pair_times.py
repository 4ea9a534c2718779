from datetime import timedelta
from unittest import mock

from users_service.accounts.tokens import RefreshToken


def test_an_access_token_made_a_moment_after_its_refresh_token_carries_the_pair_s_time():
    # given: a refresh token, and a clock that has moved on by the time its access token is made
    refresh = RefreshToken()
    later = refresh.current_time + timedelta(seconds=1.5)

    # when
    with mock.patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=later):
        access = refresh.access_token

    # then: one time for the pair, so the access token lives exactly its lifetime
    assert access["iat"] == refresh["iat"]
    assert access["exp"] - access["iat"] == 300
