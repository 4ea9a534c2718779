"""Operator single sign-on for the admin of catalog and orders.

An operator has one account, in users_service. The admin login form of these
services sends the username and password to users_service's token endpoint
(``USERS_SERVICE_URL``, timeout ``ADMIN_SSO_TIMEOUT_SECONDS``, through users_service's circuit
breaker, ``common.remote_calls``), verifies the
access token it gets back with ``common.auth`` (signature, issuer, expiry),
requires ``is_staff`` in its claims, and mirrors a local staff user
(get_or_create by username, no usable local password; a local account of that name with a
usable password is not a mirror and is never taken over):

- ``is_superuser`` comes from the claim;
- permissions come from the ``roles`` claim through the service's
  ``ADMIN_ROLE_PERMISSIONS``, e.g. ``{"catalog_manager": ["catalog.*"],
  "order_operator": ["catalog.view_*"]}`` (patterns over
  ``<app_label>.<codename>``); they are replaced at every login, so a role
  taken away in users_service is taken away here at the next login.

A non-staff account never gets in. When users_service cannot be reached (or
the account is locked out there) the login page says so plainly, and local
accounts (``manage.py createsuperuser``: break-glass access) still work
through Django's ``ModelBackend``. A deactivation in users_service
deactivates the mirror (``common.auth.deactivations``), which ends its
sessions.

Install: ``"common.admin_sso"`` in ``INSTALLED_APPS``, the settings of
``common.settings.admin_sso`` and ``ADMIN_ROLE_PERMISSIONS``. users_service's own admin uses its
local accounts and does not install this.
"""
