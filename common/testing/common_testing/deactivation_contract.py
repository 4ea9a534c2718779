"""Tokens of a deactivated user are refused: the contract catalog and orders run (``common.auth.deactivations``).

Usage, in a service's tests::

    class TestDeactivation(DeactivationContract):
        url = "/api/v1/auth/whoami/"

The delivery of the message itself (users_service's outbox -> this service's
queue -> handler) is exercised end to end in ``tests/test_identity.py``.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from common.auth.deactivations import store
from common.auth.deactivations.services import deactivation_record
from common.auth.deactivations.tasks import user_deactivated


@pytest.mark.django_db
class DeactivationContract:
    url: str = "/api/v1/auth/whoami/"

    @pytest.fixture(autouse=True)
    def _own_store(self, settings):
        """A Redis hash of this test's own, read afresh at every request."""
        settings.JWT_DEACTIVATIONS_KEY = f"test:deactivated-users:{uuid.uuid4().hex}"
        settings.JWT_DEACTIVATIONS_REFRESH_SECONDS = 0
        client, key = store._client(), settings.JWT_DEACTIVATIONS_KEY
        yield
        client.delete(key)

    def test_tokens_issued_before_the_deactivation_are_401(self, api_client, signer):
        token = signer.bearer(user_id=501, username="leaver", iat=int(time.time()) - 10)
        assert api_client.get(self.url, **token).status_code == 200

        deactivation_record(user_id=501, username="leaver", deactivated_at=datetime.now(UTC))

        response = api_client.get(self.url, **token)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "authentication_failed"

    def test_other_users_are_not_affected(self, api_client, signer):
        deactivation_record(user_id=502, username="leaver", deactivated_at=datetime.now(UTC))

        assert api_client.get(self.url, **signer.bearer(user_id=503, username="stayer")).status_code == 200

    def test_tokens_issued_after_a_reactivation_pass(self, api_client, signer):
        deactivation_record(user_id=504, username="returner", deactivated_at=datetime.now(UTC) - timedelta(minutes=1))

        response = api_client.get(self.url, **signer.bearer(user_id=504, username="returner"))

        assert response.status_code == 200

    def test_the_latest_deactivation_wins(self, api_client, signer):
        now = datetime.now(UTC)
        deactivation_record(user_id=505, username="twice", deactivated_at=now)
        deactivation_record(user_id=505, username="twice", deactivated_at=now - timedelta(hours=1))  # a late message

        token = signer.bearer(user_id=505, username="twice", iat=int(now.timestamp()) - 5)

        assert api_client.get(self.url, **token).status_code == 401

    def test_the_check_costs_no_database_query(self, api_client, signer, django_assert_num_queries):
        deactivation_record(user_id=506, username="leaver", deactivated_at=datetime.now(UTC))
        busy = signer.bearer(user_id=507, username="busy")
        assert api_client.get(self.url, **busy).status_code == 200  # a page the URL caches is cached now

        with django_assert_num_queries(0):
            assert api_client.get(self.url, **busy).status_code == 200
            assert api_client.get(self.url, **signer.bearer(user_id=506, username="leaver", iat=1)).status_code == 401

    def test_between_reloads_the_snapshot_is_used(self, api_client, signer, settings):
        settings.JWT_DEACTIVATIONS_REFRESH_SECONDS = 60
        token = signer.bearer(user_id=509, username="late", iat=int(time.time()) - 10)
        assert api_client.get(self.url, **token).status_code == 200  # snapshot loaded: nobody deactivated

        deactivation_record(user_id=509, username="late", deactivated_at=datetime.now(UTC))

        assert api_client.get(self.url, **token).status_code == 401  # recording here resets this process's snapshot

    def test_an_unreachable_redis_keeps_the_last_snapshot(self, api_client, signer, settings):
        deactivation_record(user_id=510, username="gone", deactivated_at=datetime.now(UTC))
        token = signer.bearer(user_id=510, username="gone", iat=int(time.time()) - 10)
        assert api_client.get(self.url, **token).status_code == 401

        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # (resets the snapshot, as a restart would not)
        store._snapshot._deactivated_at = {510: time.time()}

        assert api_client.get(self.url, **token).status_code == 401
        assert api_client.get(self.url, **signer.bearer(user_id=511, username="ok")).status_code == 200

    def test_the_mirrored_admin_user_is_deactivated(self):
        operator = get_user_model().objects.create(username="operator-leaving", is_staff=True)

        deactivation_record(user_id=507, username="operator-leaving", deactivated_at=datetime.now(UTC))

        operator.refresh_from_db()
        assert operator.is_active is False

    def test_the_message_handler_records_the_deactivation(self, api_client, signer):
        token = signer.bearer(user_id=508, username="by-message", iat=int(time.time()) - 10)

        user_deactivated.handler(
            message_id=None,
            payload={"user_id": 508, "username": "by-message", "deactivated_at": datetime.now(UTC).isoformat()},
        )

        assert api_client.get(self.url, **token).status_code == 401
