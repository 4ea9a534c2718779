"""Production settings: DEBUG off, secrets required, secure cookies.

``DJANGO_SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL`` and the token signing
key (``JWT_PRIVATE_KEY`` or ``JWT_PRIVATE_KEY_FILE``) have no default: the
process refuses to start without them.
"""

from django.core.exceptions import ImproperlyConfigured

from users_service.settings.base import *  # noqa: F403
from users_service.settings.base import JWT_SIGNING_KEY, env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

if not JWT_SIGNING_KEY:
    raise ImproperlyConfigured(
        "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be set: users_service signs every token with it."
    )
