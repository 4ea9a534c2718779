from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog_service.catalog import selectors
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def names(queryset) -> list[str]:
    return [product.name for product in queryset]


def test_product_list_hides_inactive_products_unless_asked():
    ProductFactory(name="Shown")
    ProductFactory(name="Hidden", is_active=False)

    assert names(selectors.product_list()) == ["Shown"]
    assert names(selectors.product_list(include_inactive=True)) == ["Hidden", "Shown"]


def test_category_filter_includes_subcategories():
    kitchen = CategoryFactory(slug="kitchen")
    coffee = CategoryFactory(slug="coffee", parent=kitchen)
    ProductFactory(name="Pan", category=kitchen)
    ProductFactory(name="Grinder", category=coffee)
    ProductFactory(name="Novel")

    assert names(selectors.product_list(filters={"category": "kitchen"})) == ["Grinder", "Pan"]
    assert names(selectors.product_list(filters={"category": "coffee"})) == ["Grinder"]


def test_search_matches_every_word_in_name_sku_or_description():
    ProductFactory(name="Espresso Machine", sku="ESP-01", description="Makes coffee")
    ProductFactory(name="Teapot", sku="TEA-01", description="Makes tea")

    assert names(selectors.product_list(filters={"search": "esp-01"})) == ["Espresso Machine"]
    assert names(selectors.product_list(filters={"search": "makes tea"})) == ["Teapot"]
    assert names(selectors.product_list(filters={"search": "makes"})) == ["Espresso Machine", "Teapot"]


def test_price_range_is_inclusive():
    for price in ("5.00", "10.00", "20.00"):
        ProductFactory(name=f"At {price}", price=Decimal(price))

    found = selectors.product_list(filters={"min_price": "10", "max_price": "20.00"})

    assert names(found) == ["At 10.00", "At 20.00"]


def test_in_stock_filter():
    ProductFactory(name="Plenty", stock__available=3)
    ProductFactory(name="None left", stock__available=0)

    assert names(selectors.product_list(filters={"in_stock": "true"})) == ["Plenty"]
    assert names(selectors.product_list(filters={"in_stock": "false"})) == ["None left"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["Cheap", "Middle", "Dear"]),
        ("-price", ["Dear", "Middle", "Cheap"]),
        ("name", ["Cheap", "Dear", "Middle"]),
        ("-created_at", ["Middle", "Dear", "Cheap"]),
    ],
)
def test_ordering(ordering, expected):
    ProductFactory(name="Cheap", price=Decimal("1.00"))
    ProductFactory(name="Dear", price=Decimal("100.00"))
    ProductFactory(name="Middle", price=Decimal("10.00"))

    assert names(selectors.product_list(filters={"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"ordering": "sku"}, "ordering"),
        ({"category": "no-such-category"}, "category"),
        ({"search": "x" * 101}, "search"),
    ],
)
def test_invalid_filters_raise_a_validation_error_naming_the_parameter(filters, field):
    with pytest.raises(ValidationError) as raised:
        selectors.product_list(filters=filters)

    assert set(raised.value.message_dict) == {field}


@pytest.mark.parametrize("count", [3, 30])
def test_product_list_runs_one_query_whatever_the_number_of_products(count, django_assert_num_queries):
    ProductFactory.create_batch(count)

    with django_assert_num_queries(1):
        products = list(selectors.product_list())
        [(product.category.slug, product.stock.available) for product in products]

    assert len(products) == count


def test_products_get_for_pricing_returns_current_prices_in_one_query(django_assert_num_queries):
    first, second = ProductFactory(price=Decimal("3.50")), ProductFactory(price=Decimal("7.25"), is_active=False)

    with django_assert_num_queries(1):
        prices = selectors.products_get_for_pricing(product_ids=[first.id, second.id, 2**70])

    assert prices[first.id].price == Decimal("3.50")
    assert prices[second.id].is_active is False
    assert set(prices) == {first.id, second.id}
    assert selectors.product_get_for_pricing(product_id=first.id).currency == "EUR"
    assert selectors.product_get_for_pricing(product_id=123_456_789) is None


def test_product_get_hides_inactive_products_and_impossible_ids():
    product = ProductFactory(is_active=False)

    assert selectors.product_get(product_id=product.id) is None
    assert selectors.product_get(product_id=product.id, include_inactive=True) == product
    assert selectors.product_get(product_id=2**64) is None
