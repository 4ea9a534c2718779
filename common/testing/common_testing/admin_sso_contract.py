"""Operator single sign-on into a service's admin (``common.admin_sso``): the contract catalog and orders run.

users_service is played by a small HTTP server on a loopback port that
answers ``POST /api/v1/auth/token/`` with tokens of the test signer, which the
service under test trusts (the ``signer`` fixture).

Usage::

    class TestAdminSingleSignOn(AdminSingleSignOnContract):
        role = "catalog_manager"
        granted_permission = "catalog.change_product"
        withheld_permission = "catalog.delete_product"  # or None when the role grants everything
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from common import remote_calls
from common.auth.deactivations.services import deactivation_record
from common_testing.auth_contract import closed_port_url

PASSWORD = "operator-password-71"
ADMIN = f"/{settings.ADMIN_URL_PREFIX}"


class FakeUsersService:
    """``POST /api/v1/auth/token/`` for the accounts in ``self.accounts`` (username -> claims)."""

    def __init__(self, signer) -> None:
        self.accounts: dict[str, dict] = {}
        self.status_override: int | None = None
        self.forwarded_for: list[str | None] = []  # the X-Forwarded-For of each request, in order
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                fake.forwarded_for.append(self.headers.get("X-Forwarded-For"))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                claims = fake.accounts.get(body.get("username"))
                if fake.status_override:
                    status, answer = fake.status_override, {"type": "client_error", "errors": []}
                elif claims is None or body.get("password") != PASSWORD:
                    status, answer = 401, {"type": "client_error", "errors": []}
                else:
                    status, answer = 200, {"access": signer.token(**claims), "refresh": "unused"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def add(self, username: str, **claims) -> None:
        self.accounts[username] = {"user_id": 900 + len(self.accounts), "username": username, **claims}

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.mark.django_db
@pytest.mark.usefixtures("own_cache_prefix")  # failed logins are counted in the service's Redis cache
class AdminSingleSignOnContract:
    role: str
    granted_permission: str
    withheld_permission: str | None = None

    @pytest.fixture
    def users_service(self, signer, settings):
        fake = FakeUsersService(signer)
        settings.USERS_SERVICE_URL = fake.url
        yield fake
        fake.stop()

    def log_in(self, client, username: str, password: str = PASSWORD, *, address: str = "127.0.0.1"):
        return client.post(
            f"{ADMIN}login/?next={ADMIN}", {"username": username, "password": password}, REMOTE_ADDR=address
        )

    def test_a_staff_operator_logs_in_and_gets_the_permissions_of_their_role(self, client, users_service):
        users_service.add("olivia", is_staff=True, roles=[self.role])

        response = self.log_in(client, "olivia")

        assert response.status_code == 302, response.content[:2000]
        assert response["Location"] == ADMIN
        assert client.get(ADMIN).status_code == 200
        operator = get_user_model().objects.get(username="olivia")
        assert operator.is_staff
        assert not operator.is_superuser
        assert not operator.has_usable_password()
        assert operator.has_perm(self.granted_permission)
        if self.withheld_permission:
            assert not operator.has_perm(self.withheld_permission)

    def test_a_superuser_claim_makes_a_superuser(self, client, users_service):
        users_service.add("root", is_staff=True, is_superuser=True)

        assert self.log_in(client, "root").status_code == 302
        assert get_user_model().objects.get(username="root").is_superuser

    def test_a_role_taken_away_is_taken_away_at_the_next_login(self, client, users_service):
        users_service.add("olivia", is_staff=True, roles=[self.role])
        self.log_in(client, "olivia")
        users_service.add("olivia", is_staff=True, roles=[])

        client.logout()
        self.log_in(client, "olivia")

        operator = get_user_model().objects.get(username="olivia")
        assert not operator.has_perm(self.granted_permission)

    def test_a_customer_cannot_enter_the_admin(self, client, users_service):
        users_service.add("carl", is_staff=False, roles=[self.role])

        response = self.log_in(client, "carl")

        assert response.status_code == 200
        assert b"staff account" in response.content
        assert not get_user_model().objects.filter(username="carl").exists()
        assert client.get(ADMIN).status_code == 302

    def test_a_wrong_password_is_refused(self, client, users_service):
        users_service.add("olivia", is_staff=True)

        response = self.log_in(client, "olivia", password="guess")

        assert response.status_code == 200
        assert b"correct username and password" in response.content

    def test_an_unreachable_users_service_is_explained_on_the_login_page(self, client, users_service, settings):
        settings.USERS_SERVICE_URL = closed_port_url().rsplit("/.well-known", 1)[0]

        response = self.log_in(client, "olivia")

        assert response.status_code == 200
        assert b"users_service is unreachable" in response.content

    def test_a_lockout_at_users_service_is_explained(self, client, users_service):
        users_service.add("olivia", is_staff=True)
        users_service.status_override = 429

        response = self.log_in(client, "olivia")

        assert b"Too many failed logins" in response.content

    def test_a_forged_answer_from_users_service_is_refused(self, client, users_service, settings):
        users_service.add("mallory", is_staff=True, is_superuser=True)
        settings.JWT_PUBLIC_JWKS = {"keys": []}  # the answer's signature can no longer be verified

        response = self.log_in(client, "mallory")

        assert response.status_code == 200
        assert not get_user_model().objects.filter(username="mallory").exists()

    def test_deactivation_in_users_service_ends_the_admin_session(self, client, users_service):
        users_service.add("olivia", is_staff=True, roles=[self.role])
        self.log_in(client, "olivia")
        assert client.get(ADMIN).status_code == 200

        deactivation_record(user_id=900, username="olivia", deactivated_at=timezone.now())

        assert client.get(ADMIN).status_code == 302

    def test_a_local_break_glass_superuser_still_logs_in(self, client, users_service, settings):
        get_user_model().objects.create_superuser("breakglass", "b@example.com", PASSWORD)
        settings.USERS_SERVICE_URL = closed_port_url().rsplit("/.well-known", 1)[0]

        assert self.log_in(client, "breakglass").status_code == 302

    def test_a_local_account_of_the_same_name_is_not_taken_over(self, client, users_service):
        # given: a local account (break-glass, with its own password) and an operator of users_service of that name
        local = get_user_model().objects.create_user("shared-name", "local@example.com", "the-local-password-93")
        users_service.add("shared-name", is_staff=True, is_superuser=True)

        # when: someone logs in with users_service's password for that name
        response = self.log_in(client, "shared-name")

        # then: refused, and the local account is as it was
        assert response.status_code == 200
        assert client.get(ADMIN).status_code == 302
        local.refresh_from_db()
        assert not local.is_staff
        assert not local.is_superuser
        assert local.check_password("the-local-password-93")

    def test_failed_logins_lock_the_operator_out_whatever_the_address(self, client, users_service, settings):
        settings.LOGIN_FAILURES_PER_ACCOUNT = 3
        users_service.add("olivia", is_staff=True)
        for n in range(3):
            assert self.log_in(client, "olivia", password="guess", address=f"10.0.0.{n}").status_code == 200
        asked = len(users_service.forwarded_for)

        response = self.log_in(client, "olivia", address="10.9.9.9")  # the right password, another address

        assert b"Too many failed logins" in response.content
        assert client.get(ADMIN).status_code == 302
        assert len(users_service.forwarded_for) == asked  # refused here, before users_service is asked

    def test_failed_logins_are_counted_per_browser_address_not_per_server(self, client, users_service, settings):
        # given: one address has guessed at several operators' passwords
        settings.LOGIN_FAILURES_PER_ADDRESS = 4
        users_service.add("olivia", is_staff=True)
        for n in range(4):
            self.log_in(client, f"guess-{n}", password="guess", address="10.0.0.66")

        # then: that address is locked out, while an operator elsewhere logs in through the same server
        assert b"Too many failed logins" in self.log_in(client, "olivia", address="10.0.0.66").content
        assert self.log_in(client, "olivia", address="10.0.0.77").status_code == 302
        # and users_service is told whose login it checks
        assert users_service.forwarded_for[-1] == "10.0.0.77"

    def test_a_failing_users_service_opens_the_breaker_and_the_page_answers_at_once(
        self, client, users_service, settings
    ):
        # given: users_service answers 503
        settings.REMOTE_CALL_FAILURES_TO_OPEN = 3
        settings.REMOTE_CALL_OPEN_SECONDS = 60
        settings.LOGIN_FAILURES_PER_ACCOUNT = 3
        users_service.add("olivia", is_staff=True)
        users_service.status_override = 503

        # when: an operator tries five times
        pages = [self.log_in(client, "olivia") for _ in range(5)]

        # then: each page says why, users_service was asked three times only, and no lockout was counted
        for page in pages:
            assert b"users_service is unreachable" in page.content
        assert len(users_service.forwarded_for) == 3
        started = time.monotonic()
        assert b"users_service is unreachable" in self.log_in(client, "olivia").content
        assert time.monotonic() - started < 2
        # and: once users_service works again, the login after the open time probes and gets in
        users_service.status_override = None
        remote_calls.breaker(remote_calls.USERS_SERVICE).reset_timeout = 0.2  # the open time, made short
        time.sleep(0.3)
        assert self.log_in(client, "olivia").status_code == 302
