import uuid

import pytest

pytest_plugins = ["common_testing.fixtures"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test counts failed logins under its own cache prefix (no flush: the test broker shares the database)."""
    default = settings.CACHES["default"]
    prefix = f"{default['KEY_PREFIX']}-{uuid.uuid4().hex}"  # test-<service>-<test's own>
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def roles(db):
    """The roles of migration 0002 (a transactional test elsewhere flushes the database, data migrations included)."""
    from django.contrib.auth.models import Group

    from users_service.accounts.roles import ROLES

    return [Group.objects.get_or_create(name=name)[0] for name in ROLES]
