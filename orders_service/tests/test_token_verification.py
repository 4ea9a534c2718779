"""Every forged, expired or misused token is a 401 here too (the shared contract in common_testing)."""

from common_testing.auth_contract import TokenVerificationContract
from common_testing.deactivation_contract import DeactivationContract


class TestTokenVerification(TokenVerificationContract):
    url = "/api/v1/auth/whoami/"


class TestDeactivation(DeactivationContract):
    url = "/api/v1/auth/whoami/"


# The order list answers a customer's read of a cached page before DRF's dispatch: the same checks hold there.
class TestTokenVerificationOfTheOrderList(TokenVerificationContract):
    url = "/api/v1/orders/"


class TestDeactivationOnTheOrderList(DeactivationContract):
    url = "/api/v1/orders/"
