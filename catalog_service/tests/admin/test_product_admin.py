import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

from catalog_service.catalog.models import Product, Stock
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/catalog/admin/catalog/product/"


def changelist_post(products, *, prices, stocks, action="", selected=()) -> dict:
    data = {
        "form-TOTAL_FORMS": str(len(products)),
        "form-INITIAL_FORMS": str(len(products)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, product in enumerate(products):
        data[f"form-{index}-id"] = str(product.pk)
        data[f"form-{index}-price"] = prices[index]
        data[f"form-{index}-stock_available"] = str(stocks[index])
    return data


def test_the_product_list_shows_price_and_stock_as_editable_fields(operator, django_assert_max_num_queries):
    ProductFactory.create_batch(5)

    with django_assert_max_num_queries(12):
        response = operator.get(CHANGELIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="form-0-price"' in html
    assert 'name="form-0-stock_available"' in html


def test_search_and_filters_narrow_the_list(operator):
    coffee = CategoryFactory(name="Coffee")
    ProductFactory(sku="ESP-1", name="Espresso", category=coffee, stock__available=0)
    ProductFactory(sku="TEA-1", name="Teapot", stock__available=5, is_active=False)

    by_search = operator.get(CHANGELIST, {"q": "esp"}).context["cl"].result_list
    out_of_stock = operator.get(CHANGELIST, {"stock": "out"}).context["cl"].result_list
    in_stock = operator.get(CHANGELIST, {"stock": "in"}).context["cl"].result_list
    inactive = operator.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"].result_list
    in_coffee = operator.get(CHANGELIST, {"category__id__exact": coffee.pk}).context["cl"].result_list

    assert [product.sku for product in by_search] == ["ESP-1"]
    assert [product.sku for product in out_of_stock] == ["ESP-1"]
    assert [product.sku for product in in_stock] == ["TEA-1"]
    assert [product.sku for product in inactive] == ["TEA-1"]
    assert [product.sku for product in in_coffee] == ["ESP-1"]


def test_editing_price_and_stock_in_the_list_saves_both_and_logs_the_change(operator):
    # given
    product = ProductFactory(price=Decimal("10.00"), stock__available=3)

    # when
    response = operator.post(CHANGELIST, changelist_post([product], prices=["12.50"], stocks=[40]))

    # then
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("12.50")
    assert Stock.objects.get(product=product).available == 40
    entry = LogEntry.objects.get(object_id=str(product.pk))
    assert entry.action_flag == CHANGE
    assert "Price" in entry.get_change_message()
    assert "Stock" in entry.get_change_message()


def test_negative_stock_in_the_list_is_refused(operator):
    product = ProductFactory(stock__available=3)

    response = operator.post(CHANGELIST, changelist_post([product], prices=["10.00"], stocks=[-1]))

    assert response.status_code == 200  # the list again, with the error
    assert Stock.objects.get(product=product).available == 3
    assert not LogEntry.objects.exists()


def test_adding_a_product_with_its_stock_inline(operator):
    category = CategoryFactory()

    response = operator.post(
        "/catalog/admin/catalog/product/add/",
        {
            "sku": "ADM-1",
            "name": "Admin Mug",
            "slug": "admin-mug",
            "category": category.pk,
            "description": "",
            "price": "7.00",
            "currency": "EUR",
            "is_active": "on",
            "stock-TOTAL_FORMS": "1",
            "stock-INITIAL_FORMS": "0",
            "stock-MIN_NUM_FORMS": "0",
            "stock-MAX_NUM_FORMS": "1",
            "stock-0-available": "12",
            "stock-0-product": "",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(sku="ADM-1")
    assert product.stock.available == 12
    assert LogEntry.objects.get(object_id=str(product.pk)).action_flag == ADDITION


def test_a_product_added_without_stock_gets_an_empty_stock_row(operator):
    category = CategoryFactory()

    operator.post(
        "/catalog/admin/catalog/product/add/",
        {
            "sku": "ADM-2",
            "name": "No stock yet",
            "slug": "no-stock-yet",
            "category": category.pk,
            "price": "7.00",
            "currency": "EUR",
            "stock-TOTAL_FORMS": "1",
            "stock-INITIAL_FORMS": "0",
            "stock-MIN_NUM_FORMS": "0",
            "stock-MAX_NUM_FORMS": "1",
            "stock-0-available": "0",
            "stock-0-product": "",
        },
    )

    assert Product.objects.get(sku="ADM-2").stock.available == 0


def test_a_duplicate_sku_in_the_admin_is_a_form_error(operator):
    existing = ProductFactory(sku="DUP-1")

    response = operator.post(
        "/catalog/admin/catalog/product/add/",
        {
            "sku": "DUP-1",
            "name": "Copy",
            "slug": "copy",
            "category": existing.category.pk,
            "price": "1.00",
            "currency": "EUR",
            "stock-TOTAL_FORMS": "0",
            "stock-INITIAL_FORMS": "0",
            "stock-MIN_NUM_FORMS": "0",
            "stock-MAX_NUM_FORMS": "1",
        },
    )

    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors


@pytest.mark.parametrize(("action", "before", "after"), [("activate", False, True), ("deactivate", True, False)])
def test_bulk_actions_change_every_selected_product_and_log_each(operator, action, before, after):
    products = ProductFactory.create_batch(3, is_active=before)
    unchanged = ProductFactory(is_active=after)

    response = operator.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(product.pk) for product in [*products, unchanged]]},
    )

    assert response.status_code == 302
    assert Product.objects.filter(is_active=after).count() == 4
    logged = LogEntry.objects.filter(action_flag=CHANGE).values_list("object_id", flat=True)
    assert sorted(logged) == sorted(str(product.pk) for product in products)


def test_csv_export_of_the_selected_products(operator):
    product = ProductFactory(sku="=CMD", name="Mug, blue", price=Decimal("9.90"), stock__available=4)
    ProductFactory(sku="OTHER")

    response = operator.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(product.pk)]})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["id", "sku", "name"]
    assert rows[1] == [
        str(product.pk),
        "'=CMD",
        "Mug, blue",
        product.slug,
        product.category.slug,
        "9.90",
        "EUR",
        "4",
        "True",
    ]
    assert len(rows) == 2


def test_products_cannot_be_deleted_in_the_admin_only_deactivated(operator):
    product = ProductFactory()

    response = operator.post(f"/catalog/admin/catalog/product/{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_the_product_change_page_shows_the_stock_inline(operator):
    product = ProductFactory(stock__available=6)

    response = operator.get(f"/catalog/admin/catalog/product/{product.pk}/change/")

    assert response.status_code == 200
    assert 'name="stock-0-available"' in response.content.decode()
