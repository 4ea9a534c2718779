"""orders_service under ``pytest``: see ``common.settings.test``."""

from common.settings import load_local_env_file

load_local_env_file(service="orders_service")

from orders_service.settings.base import *  # noqa: E402, F403

# isort: split
from common.settings.test import *  # noqa: E402, F403
from common.settings.test import cache_settings_for_tests  # noqa: E402
from orders_service.settings.base import CACHES  # noqa: E402

CACHES = cache_settings_for_tests(CACHES)
