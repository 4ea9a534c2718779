"""Only these routes let anonymous callers through; every other one needs a token (OWASP API1, API5).

Permissions deny by default (``DEFAULT_PERMISSION_CLASSES``), and every view says who may call it; this
walks every URL pattern, so a new route that is public by mistake fails here.
"""

from common_testing.routes import INFRASTRUCTURE_ROUTES, anonymous_routes

PUBLIC_ROUTES = {
    *INFRASTRUCTURE_ROUTES,
    "GET .well-known/jwks.json",
    "POST api/v1/auth/register/",
    "POST api/v1/auth/token/",
    "POST api/v1/auth/token/refresh/",
    "POST api/v1/auth/logout/",  # the refresh token in the body is the credential
}


def test_only_the_public_routes_let_anonymous_callers_through():
    assert anonymous_routes() == PUBLIC_ROUTES
