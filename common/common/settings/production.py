"""What production changes in every service: DEBUG off, secure cookies, HSTS, static files from the manifest.

A service's ``production.py`` is its base settings, then these
(``from common.settings.production import *``). ``DJANGO_SECRET_KEY``,
``DATABASE_URL`` and ``REDIS_URL`` have no default in the base settings:
the process refuses to start without them. Production settings never read
a file of environment variables.
"""

import environ

env = environ.Env()

DEBUG = False
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_HTTPONLY = True  # the admin's forms carry the token; no script reads the cookie
# Browsers reach the services through the gateway's TLS only: HSTS on every response over it (a year by default).
# The gateway, not the services, redirects plain HTTP, so health probes and service-to-service calls on the
# private network are not redirected (DJANGO_SECURE_SSL_REDIRECT turns the redirect on where no gateway is).
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# The OpenAPI schema and its docs page stay public in production, a decision: they describe routes and shapes
# that clients are generated from, hold no data, and list only the API and the probes, never the admin
# (common_testing.security checks exactly that against these settings).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
