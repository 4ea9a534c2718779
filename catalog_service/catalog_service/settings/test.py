"""catalog_service under ``pytest``: see ``common.settings.test``."""

from common.settings import load_local_env_file

load_local_env_file(service="catalog_service")

from catalog_service.settings.base import *  # noqa: E402, F403

# isort: split
from catalog_service.settings.base import CACHES  # noqa: E402
from common.settings.test import *  # noqa: E402, F403
from common.settings.test import cache_settings_for_tests  # noqa: E402

CACHES = cache_settings_for_tests(CACHES)
