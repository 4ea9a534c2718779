"""What a developer's machine (``./manage_all.sh up``) changes in every service: DEBUG on, console email.

A service's ``local.py`` loads ``.var/env/<service>.env``, then its base
settings, then these (``from common.settings.local import *``).
"""

import environ

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
