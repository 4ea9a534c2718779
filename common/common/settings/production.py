"""What production changes in every service: DEBUG off, secure cookies, static files from the manifest.

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
