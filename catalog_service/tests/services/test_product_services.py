from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog_service.catalog import services
from catalog_service.catalog.models import Product, Stock
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_create_makes_the_product_and_its_stock_with_defaults():
    category = CategoryFactory()

    product = services.product_create(sku="MUG-1", name="Blue Mug", category=category, price=Decimal("9.90"), stock=7)

    product.refresh_from_db()
    assert product.slug == "blue-mug"
    assert product.currency == "EUR"
    assert product.is_active is True
    assert Stock.objects.get(product=product).available == 7


def test_product_create_derives_another_slug_when_the_name_is_taken():
    category = CategoryFactory()
    services.product_create(sku="MUG-1", name="Blue Mug", category=category, price=Decimal("9.90"))

    second = services.product_create(sku="MUG-2", name="Blue Mug", category=category, price=Decimal("9.90"))

    assert second.slug == "blue-mug-mug-2"


def test_product_create_with_a_duplicate_sku_names_the_sku():
    existing = ProductFactory(sku="DUP-1")

    with pytest.raises(ValidationError) as raised:
        services.product_create(sku="DUP-1", name="Other", category=existing.category, price=Decimal("1.00"))

    assert set(raised.value.message_dict) == {"sku"}
    assert raised.value.error_dict["sku"][0].code == "unique"


def test_product_create_with_a_duplicate_slug_names_the_slug():
    existing = ProductFactory(slug="taken")

    with pytest.raises(ValidationError) as raised:
        services.product_create(
            sku="NEW-1", name="Other", slug="taken", category=existing.category, price=Decimal("1.00")
        )

    assert set(raised.value.message_dict) == {"slug"}


def test_a_duplicate_written_between_check_and_insert_is_a_validation_error_not_an_integrity_error(monkeypatch):
    # given another request inserted the same SKU after this one checked for duplicates
    existing = ProductFactory(sku="RACE-1")
    real_duplicates = services._duplicates
    calls = []

    def duplicates_missed_once(instance, *, unique_fields):
        calls.append(unique_fields)
        return {} if len(calls) == 1 else real_duplicates(instance, unique_fields=unique_fields)

    monkeypatch.setattr(services, "_duplicates", duplicates_missed_once)

    # when
    with pytest.raises(ValidationError) as raised:
        services.product_create(sku="RACE-1", name="Racer", category=existing.category, price=Decimal("1.00"))

    # then the unique constraint caught it and the error names the field
    assert set(raised.value.message_dict) == {"sku"}
    assert len(calls) == 2
    assert Product.objects.filter(sku="RACE-1").count() == 1


@pytest.mark.parametrize(("field", "values"), [("price", {"price": Decimal("-0.01")}), ("stock", {"stock": -1})])
def test_product_create_refuses_negative_price_or_stock(field, values):
    arguments = {"sku": "NEG-1", "name": "Negative", "category": CategoryFactory(), "price": Decimal("1.00")}

    with pytest.raises(ValidationError) as raised:
        services.product_create(**{**arguments, **values})

    assert set(raised.value.message_dict) == {field}
    assert not Product.objects.filter(sku="NEG-1").exists()


def test_product_update_changes_fields_and_sets_stock_but_keeps_the_slug():
    product = ProductFactory(name="Old name", slug="old-name", stock__available=3)

    services.product_update(product=product, data={"name": "New name", "price": Decimal("12.50"), "stock": 40})

    product.refresh_from_db()
    assert product.name == "New name"
    assert product.slug == "old-name"
    assert product.price == Decimal("12.50")
    assert product.stock.available == 40


def test_product_update_to_another_products_sku_names_the_sku():
    ProductFactory(sku="A-1")
    product = ProductFactory(sku="B-1")

    with pytest.raises(ValidationError) as raised:
        services.product_update(product=product, data={"sku": "A-1"})

    assert set(raised.value.message_dict) == {"sku"}
    product.refresh_from_db()
    assert product.sku == "B-1"


def test_product_update_refuses_fields_that_are_not_product_fields():
    product = ProductFactory()

    with pytest.raises(ValueError, match="created_at"):
        services.product_update(product=product, data={"created_at": None})


def test_product_deactivate_hides_the_product_and_is_idempotent():
    product = ProductFactory()

    services.product_deactivate(product=product)
    services.product_deactivate(product=product)

    product.refresh_from_db()
    assert product.is_active is False


def test_products_set_active_changes_only_those_that_differ():
    active, inactive = ProductFactory(is_active=True), ProductFactory(is_active=False)

    changed = services.products_set_active(product_ids=[active.id, inactive.id], is_active=True)

    assert changed == 1
    assert Product.objects.filter(id__in=[active.id, inactive.id], is_active=True).count() == 2
