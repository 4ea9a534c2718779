"""Settings for a developer's machine (``./manage_all.sh up``): DEBUG on, console email."""

from common.settings import load_local_env_file

load_local_env_file(service="users_service")

from users_service.settings.base import *  # noqa: E402, F403
from users_service.settings.base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
