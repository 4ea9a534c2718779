"""catalog_service on a developer's machine (``./manage_all.sh up``): see ``common.settings.local``."""

from common.settings import load_local_env_file

load_local_env_file(service="catalog_service")

from catalog_service.settings.base import *  # noqa: E402, F403

# isort: split
from common.settings.local import *  # noqa: E402, F403
