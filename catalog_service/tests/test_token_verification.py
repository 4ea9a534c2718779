"""Every forged, expired or misused token is a 401 here too (the shared contract in common.testing)."""

from common.testing.auth_contract import TokenVerificationContract


class TestTokenVerification(TokenVerificationContract):
    url = "/api/v1/auth/whoami/"
