"""The catalogue's admin actions are refused to an operator whose roles lack them.

Operators are mirrored from their roles as the single sign-on does it
(``operator_mirror``, with this service's ``ADMIN_ROLE_PERMISSIONS``): a
catalog_manager edits products in bulk and exports them; an order_operator
only looks (and may export what it sees); an operator with no role here sees
nothing. Dead letters, the order actions and CSRF are proven on the orders
admin (tests/admin/test_admin_authorisation.py there), with the same common code.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog_service.catalog.models import Product, Stock
from common_testing.admin_operators import offered_actions, operator_client
from tests.admin.test_product_admin import changelist_post
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("admin:catalog_product_changelist")


def test_a_catalog_manager_is_offered_the_bulk_edits_and_the_export():
    assert offered_actions(operator_client("catalog_manager"), PRODUCTS) == {"activate", "deactivate", "export_csv"}


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_an_order_operator_cannot_activate_or_deactivate_products(action):
    # given
    client = operator_client("order_operator")
    active, inactive = ProductFactory(is_active=True), ProductFactory(is_active=False)
    assert offered_actions(client, PRODUCTS) == {"export_csv"}

    # when
    client.post(PRODUCTS, {"action": action, "_selected_action": [active.pk, inactive.pk]})

    # then
    assert dict(Product.objects.values_list("pk", "is_active")) == {active.pk: True, inactive.pk: False}


def test_an_order_operator_cannot_edit_prices_or_stock_in_the_list():
    client = operator_client("order_operator")
    product = ProductFactory(price=Decimal("5.00"), stock__available=3)

    page = client.get(PRODUCTS).content.decode()
    client.post(PRODUCTS, changelist_post([product], prices=["0.01"], stocks=[999]))

    assert 'name="form-0-price"' not in page
    product.refresh_from_db()
    assert (product.price, Stock.objects.get(product=product).available) == (Decimal("5.00"), 3)


def test_an_order_operator_exports_the_products_it_may_view():
    product = ProductFactory()

    response = operator_client("order_operator").post(
        PRODUCTS, {"action": "export_csv", "_selected_action": [product.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("action", ["activate", "deactivate", "export_csv"])
def test_an_operator_without_a_role_here_can_neither_see_nor_edit_nor_export_products(action):
    client = operator_client()
    product = ProductFactory(is_active=True)

    listed = client.get(PRODUCTS)
    response = client.post(PRODUCTS, {"action": action, "_selected_action": [product.pk]})

    assert (listed.status_code, response.status_code) == (403, 403)
    assert not response.get("Content-Type", "").startswith("text/csv")
    product.refresh_from_db()
    assert product.is_active is True
