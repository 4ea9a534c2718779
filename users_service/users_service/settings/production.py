"""users_service in production (see ``common.settings.production``); it also requires its signing key.

``JWT_PRIVATE_KEY`` or ``JWT_PRIVATE_KEY_FILE`` has no default: the process
refuses to start without one, as without ``DJANGO_SECRET_KEY``,
``DATABASE_URL`` and ``REDIS_URL``.
"""

from django.core.exceptions import ImproperlyConfigured

from users_service.settings.base import *  # noqa: F403

# isort: split
from common.settings.production import *  # noqa: F403
from users_service.settings.base import JWT_SIGNING_KEY

if not JWT_SIGNING_KEY:
    raise ImproperlyConfigured(
        "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be set: users_service signs every token with it."
    )
