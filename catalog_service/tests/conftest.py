import pytest

from catalog_service.catalog.public_cache import catalog_version_bump
from tests.factories import ProductFactory

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


@pytest.fixture
def products_to_reject():
    """A product of each kind a reservation must refuse or may take, by name: ``pen`` (10 in stock), ``ink``
    (3), ``hidden`` (inactive), ``unstocked`` (no stock row), ``dollar`` (priced in USD, the others in EUR)."""
    return {
        "pen": ProductFactory(stock__available=10),
        "ink": ProductFactory(stock__available=3),
        "hidden": ProductFactory(is_active=False, stock__available=10),
        "unstocked": ProductFactory(stock=None),
        "dollar": ProductFactory(currency="USD", stock__available=10),
    }
