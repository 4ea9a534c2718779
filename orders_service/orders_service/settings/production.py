"""orders_service in production: see ``common.settings.production``."""

from orders_service.settings.base import *  # noqa: F403

# isort: split
from common.settings.production import *  # noqa: F403
