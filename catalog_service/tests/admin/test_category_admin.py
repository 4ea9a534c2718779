import pytest
from django.contrib.admin.models import ADDITION, LogEntry

from catalog_service.catalog.models import Category
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_adding_a_subcategory_is_logged(operator):
    parent = CategoryFactory()

    response = operator.post(
        "/catalog/admin/catalog/category/add/", {"name": "Tea", "slug": "tea", "parent": parent.pk}
    )

    assert response.status_code == 302
    category = Category.objects.get(slug="tea")
    assert category.parent == parent
    assert LogEntry.objects.get(object_id=str(category.pk)).action_flag == ADDITION


def test_the_category_list_and_search(operator):
    CategoryFactory(name="Books", slug="books")
    CategoryFactory(name="Garden", slug="garden")

    response = operator.get("/catalog/admin/catalog/category/", {"q": "boo"})

    assert [category.slug for category in response.context["cl"].result_list] == ["books"]


def test_a_category_with_products_is_protected_from_deletion(operator):
    product = ProductFactory()

    response = operator.post(f"/catalog/admin/catalog/category/{product.category.pk}/delete/", {"post": "yes"})

    assert response.status_code == 200  # the "cannot delete" page
    assert Category.objects.filter(pk=product.category.pk).exists()
