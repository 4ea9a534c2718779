"""Operator single sign-on for a service's admin (``common.admin_sso``): ``from common.settings.admin_sso import *``.

Operators log into the admin of catalog_service and orders_service with their
users_service account. The service adds ``ADMIN_ROLE_PERMISSIONS``: a role
mapped to permission patterns over ``<app_label>.<codename>`` (``"catalog.*"``,
``"catalog.view_*"``).
"""

import environ

env = environ.Env()

AUTHENTICATION_BACKENDS = [
    "common.admin_sso.backends.UsersServiceBackend",
    "django.contrib.auth.backends.ModelBackend",  # local break-glass accounts (createsuperuser)
]
USERS_SERVICE_URL = env.str("USERS_SERVICE_URL", default="http://127.0.0.1:8001")
ADMIN_SSO_TIMEOUT_SECONDS = env.float("ADMIN_SSO_TIMEOUT_SECONDS", default=3.0)
