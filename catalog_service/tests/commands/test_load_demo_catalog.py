import pytest
from django.core.management import call_command

from catalog_service.catalog.models import Category, Product, Stock

pytestmark = pytest.mark.django_db


def snapshot() -> list:
    return [
        list(Category.objects.order_by("slug").values_list("slug", "name", "parent__slug", "updated_at")),
        list(Product.objects.order_by("sku").values_list("sku", "slug", "price", "is_active", "updated_at")),
        list(Stock.objects.order_by("product__sku").values_list("product__sku", "available", "updated_at")),
    ]


def test_the_demo_catalogue_is_realistic():
    call_command("load_demo_catalog")

    assert Category.objects.count() >= 4
    assert Category.objects.filter(parent__isnull=False).exists()
    assert Product.objects.count() >= 24
    assert Stock.objects.count() == Product.objects.count()
    assert Stock.objects.filter(available=0).count() >= 2
    assert Product.objects.filter(is_active=False).count() == 1
    assert {product.currency for product in Product.objects.all()} == {"EUR"}


def test_running_it_twice_changes_nothing():
    call_command("load_demo_catalog")
    first = snapshot()

    call_command("load_demo_catalog")

    assert snapshot() == first


def test_it_keeps_an_operators_changes():
    call_command("load_demo_catalog")
    Stock.objects.filter(product__sku="LAP-AIR13").update(available=1)

    call_command("load_demo_catalog")

    assert Stock.objects.get(product__sku="LAP-AIR13").available == 1
