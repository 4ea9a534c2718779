import pytest

from catalog_service.catalog.public_cache import catalog_version_bump

pytest_plugins = ["common_testing.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_public_cache():
    """Pages cached by an earlier test (whose rows were rolled back) must not be served to this one."""
    catalog_version_bump()


@pytest.fixture
def manager(signer) -> dict:
    """Request headers of a catalog manager."""
    return signer.bearer(user_id=1, username="maria", roles=["catalog_manager"])


@pytest.fixture
def customer(signer) -> dict:
    """Request headers of a customer (no role)."""
    return signer.bearer(user_id=2, username="carl", roles=[])
