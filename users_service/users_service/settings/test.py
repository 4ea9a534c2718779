"""users_service under ``pytest`` (see ``common.settings.test``); tokens signed with a throwaway key."""

from common.settings import load_local_env_file

load_local_env_file(service="users_service")

from users_service.settings.base import *  # noqa: E402, F403

# isort: split
from common.settings.test import *  # noqa: E402, F403
from common.settings.test import cache_settings_for_tests  # noqa: E402
from users_service.accounts.signing import generate_private_key_pem  # noqa: E402
from users_service.settings.base import CACHES, SIMPLE_JWT  # noqa: E402

CACHES = cache_settings_for_tests(CACHES)
# Tests sign with a throwaway key of their own, never the development key under .var/keys/.
JWT_SIGNING_KEY = generate_private_key_pem()
JWT_SIGNING_KEY_ID = "users-test-key"
JWT_PREVIOUS_PUBLIC_JWKS = {"keys": []}
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SIGNING_KEY}
