"""Every forged, expired or misused token is a 401 here too (the shared contract in common_testing)."""

from common_testing.auth_contract import TokenVerificationContract
from common_testing.deactivation_contract import DeactivationContract


class TestTokenVerification(TokenVerificationContract):
    url = "/api/v1/auth/whoami/"


class TestDeactivation(DeactivationContract):
    url = "/api/v1/auth/whoami/"


# The product list answers a customer's read of a cached page before DRF's dispatch: a deactivated user's token is
# still refused there (the page is public, so an absent token is no 401: that contract is the whoami one's).
class TestDeactivationOnTheProductList(DeactivationContract):
    url = "/api/v1/products/"
