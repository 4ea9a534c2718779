"""The token-rejection contract every service's test suite runs against one of its protected endpoints.

Usage, in a service's ``tests/test_token_verification.py``::

    from common_testing.auth_contract import TokenVerificationContract

    class TestTokenVerification(TokenVerificationContract):
        url = "/api/v1/auth/whoami/"

A service whose authentication needs more than a valid signature (users_service
checks that the account exists and is active) overrides the ``claims`` fixture.

Every forged, expired or otherwise untrustworthy token must be a 401 in the
common error shape, never a 500, and a valid token must pass, so the
rejections are not an accident of a broken endpoint.
"""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from common import remote_calls
from common.auth.keys import public_keys
from common_testing.auth import TestSigner


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def forge_hs256_with_public_key(*, signer: TestSigner, claims: dict) -> str:
    """The classic algorithm-confusion attack: HMAC-sign with the (public) RSA key as the secret.

    PyJWT refuses to do this itself, so the token is assembled by hand.
    """
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': signer.kid})}.{_segment(claims)}"
    signature = hmac.new(signer.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned_token(*, signer: TestSigner, claims: dict) -> str:
    """``alg: none`` with an empty signature."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': signer.kid})}.{_segment(claims)}."


def tamper(token: str, **changes) -> str:
    """The same header and signature over a payload with ``changes`` applied."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{_segment({**claims, **changes})}.{signature}"


class JwksServer:
    """A JWKS endpoint on a loopback port that a test starts and stops (users_service standing in)."""

    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks  # what it serves; a test may publish another key set at any time
        self.status = 200  # a test may make it fail (503: users_service up but not working)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                server.requests += 1
                body = json.dumps(server.jwks).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/.well-known/jwks.json"


@pytest.mark.django_db
@pytest.mark.usefixtures("own_cache_prefix")  # the JWKS a service fetched is shared through its cache
class TokenVerificationContract:
    """Subclass with ``url`` set to a GET of the service that requires an authenticated caller."""

    url: str = "/api/v1/auth/whoami/"

    @pytest.fixture
    def claims(self) -> dict:
        """The claims of a caller the service accepts; override where the service also checks its own records."""
        return {"user_id": 4242, "username": "contract-user"}

    def get(self, api_client, token: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
        return api_client.get(self.url, **headers)

    def assert_unauthorized(self, response) -> None:
        assert response.status_code == 401, (response.status_code, response.content[:500])
        body = response.json()
        assert body["type"] == "client_error"
        assert len(body["errors"]) == 1
        error = body["errors"][0]
        assert set(error) == {"code", "detail", "attr"}
        # the 401 codes the OpenAPI schema declares (drf-standardized-errors), so schemathesis agrees
        assert error["code"] in {"not_authenticated", "authentication_failed"}

    # ---------------------------------------------------------------- the baseline

    def test_a_valid_token_is_accepted(self, api_client, signer, claims):
        response = self.get(api_client, signer.token(**claims))

        assert response.status_code == 200, response.content[:500]

    def test_no_token_is_401(self, api_client, signer):
        response = self.get(api_client, None)

        self.assert_unauthorized(response)

    # ---------------------------------------------------------------- forged tokens

    def test_alg_none_is_401(self, api_client, signer, claims):
        valid = jwt.decode(signer.token(**claims), options={"verify_signature": False})

        response = self.get(api_client, unsigned_token(signer=signer, claims=valid))

        self.assert_unauthorized(response)

    def test_hs256_signed_with_the_public_key_is_401(self, api_client, signer, claims):
        valid = jwt.decode(signer.token(**claims), options={"verify_signature": False})

        response = self.get(api_client, forge_hs256_with_public_key(signer=signer, claims=valid))

        self.assert_unauthorized(response)

    def test_a_foreign_key_under_a_known_kid_is_401(self, api_client, signer, claims):
        impostor = TestSigner(kid=signer.kid, issuer=signer.issuer)

        response = self.get(api_client, impostor.token(**claims))

        self.assert_unauthorized(response)

    def test_a_tampered_payload_is_401(self, api_client, signer, claims):
        token = tamper(signer.token(**claims), is_superuser=True, roles=["catalog_manager", "order_operator"])

        response = self.get(api_client, token)

        self.assert_unauthorized(response)

    def test_an_unknown_kid_is_401(self, api_client, signer, claims):
        response = self.get(api_client, TestSigner(kid="nobody-knows-this-key").token(**claims))

        self.assert_unauthorized(response)

    @pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
    def test_a_token_whose_header_names_or_carries_its_key_is_401(self, api_client, signer, claims, header):
        # Signed by a key the service trusts, so only the header parameter can make it fail.
        public_jwk = signer.jwks["keys"][0]
        values = {
            "jku": "https://evil.example/jwks.json",
            "x5u": "https://evil.example/cert.pem",
            "jwk": public_jwk,
            "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
        }
        valid = jwt.decode(signer.token(**claims), options={"verify_signature": False})
        token = jwt.encode(
            valid, signer.private_key, algorithm="RS256", headers={"kid": signer.kid, header: values[header]}
        )

        response = self.get(api_client, token)

        self.assert_unauthorized(response)

    def test_a_token_without_kid_is_401(self, api_client, signer, claims):
        valid = jwt.decode(signer.token(**claims), options={"verify_signature": False})

        response = self.get(api_client, jwt.encode(valid, signer.private_pem, algorithm="RS256"))

        self.assert_unauthorized(response)

    # ---------------------------------------------------------------- honest tokens that must not pass

    def test_an_expired_token_is_401(self, api_client, signer, claims):
        now = int(time.time())

        response = self.get(api_client, signer.token(**claims, iat=now - 3600, exp=now - 600))

        self.assert_unauthorized(response)

    def test_a_token_not_valid_yet_is_401(self, api_client, signer, claims):
        now = int(time.time())

        response = self.get(api_client, signer.token(**claims, nbf=now + 3600))

        self.assert_unauthorized(response)

    def test_a_token_issued_in_the_future_is_401(self, api_client, signer, claims):
        now = int(time.time())

        response = self.get(api_client, signer.token(**claims, iat=now + 3600, exp=now + 7200))

        self.assert_unauthorized(response)

    def test_a_wrong_issuer_is_401(self, api_client, signer, claims):
        response = self.get(api_client, signer.token(**claims, iss="https://evil.example"))

        self.assert_unauthorized(response)

    def test_a_refresh_token_used_as_access_is_401(self, api_client, signer, claims):
        response = self.get(api_client, signer.token(**claims, token_type="refresh"))

        self.assert_unauthorized(response)

    @pytest.mark.parametrize("claim", ["user_id", "jti", "exp", "iss", "token_type"])
    def test_a_token_missing_a_required_claim_is_401(self, api_client, signer, claims, claim):
        valid = jwt.decode(signer.token(**claims), options={"verify_signature": False})
        del valid[claim]

        token = jwt.encode(valid, signer.private_pem, algorithm="RS256", headers={"kid": signer.kid})

        self.assert_unauthorized(self.get(api_client, token))

    @pytest.mark.parametrize("user_id", ["4242", None, True, 1.5])
    def test_a_user_id_that_is_not_an_integer_is_401(self, api_client, signer, claims, user_id):
        response = self.get(api_client, signer.token(**{**claims, "user_id": user_id}))

        self.assert_unauthorized(response)

    @pytest.mark.parametrize("exp", [float("inf"), "tomorrow", None])
    def test_an_absurd_expiry_is_401_not_500(self, api_client, signer, claims, exp):
        response = self.get(api_client, signer.token(**claims, exp=exp))

        self.assert_unauthorized(response)

    @pytest.mark.parametrize(
        "token",
        ["", "garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJSUzI1NiJ9.e30.", "Bearer x", "\u00e9t\u00e9.x.y"],
    )
    def test_a_malformed_token_is_401(self, api_client, signer, token):
        response = api_client.get(self.url, HTTP_AUTHORIZATION=f"Bearer {token}")

        self.assert_unauthorized(response)

    # ---------------------------------------------------------------- key distribution

    def test_an_unreachable_jwks_is_401_not_500(self, api_client, signer, settings, claims):
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = closed_port_url()

        response = self.get(api_client, signer.token(**claims))

        self.assert_unauthorized(response)

    def test_keys_fetched_from_the_jwks_url_keep_verifying_while_it_is_down(self, api_client, signer, settings, claims):
        # given: this service knows the key only from users_service's JWKS, and has fetched it once
        jwks_server = JwksServer(signer.jwks)
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = jwks_server.url
        settings.JWT_JWKS_CACHE_SECONDS = 0  # every request would like a fresh copy
        settings.JWT_JWKS_MIN_REFETCH_SECONDS = 0
        try:
            assert self.get(api_client, signer.token(**claims)).status_code == 200
            assert jwks_server.requests >= 1
        finally:
            # when: users_service goes away
            jwks_server.stop()

        # then: tokens still verify with the cached keys, and forged ones still fail
        assert self.get(api_client, signer.token(**claims)).status_code == 200
        self.assert_unauthorized(self.get(api_client, TestSigner(kid=signer.kid).token(**claims)))

    def test_a_key_added_to_the_jwks_is_picked_up_without_a_restart(self, api_client, signer, settings, claims):
        # given: this service has fetched users_service's JWKS with the current key
        rotated = TestSigner(kid="rotated-key", issuer=signer.issuer)
        jwks_server = JwksServer(signer.jwks)
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = jwks_server.url
        settings.JWT_JWKS_MIN_REFETCH_SECONDS = 0
        try:
            assert self.get(api_client, signer.token(**claims)).status_code == 200

            # when: users_service rotates, publishing the new key beside the old one
            jwks_server.jwks = {"keys": [*rotated.jwks["keys"], *signer.jwks["keys"]]}

            # then: the unknown kid makes the service refetch; tokens of both keys verify during the overlap
            assert self.get(api_client, rotated.token(**claims)).status_code == 200
            assert self.get(api_client, signer.token(**claims)).status_code == 200
        finally:
            jwks_server.stop()

    def test_a_storm_of_unknown_kids_fetches_the_jwks_at_most_once_per_refetch_interval(
        self, api_client, signer, settings, claims
    ):
        # given: keys from users_service's JWKS only, with the settings' real refetch limit (not lowered)
        assert settings.JWT_JWKS_MIN_REFETCH_SECONDS >= 10
        jwks_server = JwksServer(signer.jwks)
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = jwks_server.url
        try:
            stranger = TestSigner(issuer=signer.issuer)
            valid = jwt.decode(stranger.token(**claims), options={"verify_signature": False})
            storm = [
                jwt.encode(valid, stranger.private_key, algorithm="RS256", headers={"kid": f"storm-{n}"})
                for n in range(40)
            ]
            assert self.get(api_client, signer.token(**claims)).status_code == 200
            fetched = jwks_server.requests
            started = time.monotonic()

            # when: a storm of tokens with kids nobody published
            responses = [self.get(api_client, token) for token in storm]

            # then: every one is refused, and none of them made the service ask users_service again
            for response in responses:
                self.assert_unauthorized(response)
            assert time.monotonic() - started < settings.JWT_JWKS_MIN_REFETCH_SECONDS
            assert jwks_server.requests == fetched == 1
        finally:
            jwks_server.stop()

    def test_a_failing_jwks_opens_the_breaker_and_a_probe_closes_it(self, api_client, signer, settings, claims):
        # given: users_service answers its JWKS with 503, and nothing limits refetches but the breaker
        jwks_server = JwksServer(signer.jwks)
        jwks_server.status = 503
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = jwks_server.url
        settings.JWT_JWKS_MIN_REFETCH_SECONDS = 0
        settings.REMOTE_CALL_FAILURES_TO_OPEN = 3
        settings.REMOTE_CALL_OPEN_SECONDS = 60
        try:
            # when: ten callers need the key
            for _ in range(10):
                self.assert_unauthorized(self.get(api_client, signer.token(**claims)))

            # then: the breaker opened after three failures and the other seven never reached users_service
            assert jwks_server.requests == 3

            # and: once users_service works again, the first call after the open time probes and closes it
            jwks_server.status = 200
            remote_calls.breaker(remote_calls.USERS_SERVICE).reset_timeout = 0.2  # the open time, made short
            time.sleep(0.3)
            assert self.get(api_client, signer.token(**claims)).status_code == 200
            assert jwks_server.requests == 4
        finally:
            jwks_server.stop()

    def test_a_process_that_never_fetched_the_jwks_verifies_with_the_copy_another_shared(
        self, api_client, signer, settings, claims
    ):
        # given: one process of the service fetched users_service's JWKS
        jwks_server = JwksServer(signer.jwks)
        settings.JWT_PUBLIC_JWKS = {}
        settings.JWT_JWKS_URL = jwks_server.url
        try:
            assert self.get(api_client, signer.token(**claims)).status_code == 200
        finally:
            jwks_server.stop()

        # when: users_service is down and a process that has fetched nothing verifies a token
        public_keys.reset()

        # then: it verifies with the copy in the service's cache, and still refuses other keys
        assert self.get(api_client, signer.token(**claims)).status_code == 200
        self.assert_unauthorized(self.get(api_client, TestSigner(kid=signer.kid).token(**claims)))
