import os

from django.core.wsgi import get_wsgi_application

from common.runtime import load_urls_and_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orders_service.settings.local")

application = get_wsgi_application()
load_urls_and_freeze()  # the start-up objects, out of the garbage collector's way
