import pytest
from django.core.exceptions import ValidationError

from catalog_service.catalog import services
from catalog_service.catalog.models import Category
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_category_create_derives_the_slug_from_the_name():
    parent = CategoryFactory()

    category = services.category_create(name="Coffee & Tea", parent=parent)

    assert category.slug == "coffee-tea"
    assert category.parent == parent


def test_category_create_with_a_taken_slug_names_the_slug():
    CategoryFactory(slug="books")

    with pytest.raises(ValidationError) as raised:
        services.category_create(name="Books", slug="books")

    assert set(raised.value.message_dict) == {"slug"}


def test_a_category_cannot_move_below_its_own_descendant():
    top = CategoryFactory()
    middle = CategoryFactory(parent=top)
    bottom = CategoryFactory(parent=middle)

    with pytest.raises(ValidationError) as raised:
        services.category_update(category=top, data={"parent": bottom})

    assert set(raised.value.message_dict) == {"parent"}


def test_a_category_cannot_be_its_own_parent():
    category = CategoryFactory()

    with pytest.raises(ValidationError):
        services.category_update(category=category, data={"parent": category})


def test_category_delete_refuses_a_category_with_products_even_inactive_ones():
    product = ProductFactory(is_active=False)

    with pytest.raises(services.CategoryInUse, match="1 product"):
        services.category_delete(category=product.category)

    assert Category.objects.filter(pk=product.category.pk).exists()


def test_category_delete_refuses_a_category_with_subcategories():
    child = CategoryFactory(parent=CategoryFactory())

    with pytest.raises(services.CategoryInUse, match="subcategories"):
        services.category_delete(category=child.parent)


def test_category_delete_removes_an_empty_category():
    category = CategoryFactory()

    services.category_delete(category=category)

    assert not Category.objects.filter(pk=category.pk).exists()
