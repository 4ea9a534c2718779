"""catalog_service in production: see ``common.settings.production``."""

from catalog_service.settings.base import *  # noqa: F403

# isort: split
from common.settings.production import *  # noqa: F403
