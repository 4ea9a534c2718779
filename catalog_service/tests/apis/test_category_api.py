import pytest

from catalog_service.catalog.models import Category
from common_testing.infrastructure import assert_common_error_shape
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/categories/"


def detail(slug) -> str:
    return f"/api/v1/categories/{slug}/"


def test_anyone_lists_categories_with_their_parent(api_client):
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    CategoryFactory(name="Coffee", slug="coffee", parent=kitchen)

    response = api_client.get(URL)

    assert response.status_code == 200
    assert [(category["slug"], category["parent"]) for category in response.json()["results"]] == [
        ("coffee", "kitchen"),
        ("kitchen", None),
    ]


@pytest.mark.parametrize("page_size", [1, 10])
def test_the_category_list_runs_a_fixed_number_of_queries(api_client, django_assert_num_queries, page_size):
    parent = CategoryFactory()
    CategoryFactory.create_batch(12, parent=parent)

    with django_assert_num_queries(2):
        response = api_client.get(URL, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


def test_anyone_reads_a_category(api_client):
    CategoryFactory(name="Books", slug="books")

    response = api_client.get(detail("books"))

    assert response.status_code == 200
    assert response.json()["name"] == "Books"


def test_an_unknown_category_is_a_404(api_client):
    assert_common_error_shape(api_client.get(detail("nothing-here")), status=404)


def test_a_catalog_manager_creates_renames_and_deletes_a_category(api_client, manager):
    CategoryFactory(slug="home")

    created = api_client.post(URL, {"name": "Garden Tools", "parent": "home"}, format="json", **manager)
    renamed = api_client.patch(detail("garden-tools"), {"name": "Garden"}, format="json", **manager)
    deleted = api_client.delete(detail("garden-tools"), **manager)

    assert created.status_code == 201, created.json()
    assert created.json()["slug"] == "garden-tools"
    assert created.json()["parent"] == "home"
    assert renamed.json()["name"] == "Garden"
    assert deleted.status_code == 204
    assert not Category.objects.filter(slug="garden-tools").exists()


def test_a_category_with_products_cannot_be_deleted(api_client, manager):
    product = ProductFactory()

    response = api_client.delete(detail(product.category.slug), **manager)

    body = assert_common_error_shape(response, status=409)
    assert body["errors"][0]["code"] == "category_in_use"
    assert "product" in body["errors"][0]["detail"]


def test_a_duplicate_category_slug_is_a_400_naming_the_slug(api_client, manager):
    CategoryFactory(slug="books")

    response = api_client.post(URL, {"name": "Books", "slug": "books"}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert body["errors"][0]["attr"] == "slug"


def test_moving_a_category_below_itself_is_a_400(api_client, manager):
    top = CategoryFactory(slug="top")
    CategoryFactory(slug="below", parent=top)

    response = api_client.patch(detail("top"), {"parent": "below"}, format="json", **manager)

    body = assert_common_error_shape(response, status=400)
    assert body["errors"][0]["attr"] == "parent"


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("customer", 403)])
def test_only_catalog_managers_write_categories(api_client, customer, who, status):
    CategoryFactory(slug="books")
    headers = customer if who == "customer" else {}

    created = api_client.post(URL, {"name": "New"}, format="json", **headers)
    changed = api_client.patch(detail("books"), {"name": "Changed"}, format="json", **headers)
    deleted = api_client.delete(detail("books"), **headers)

    for response in (created, changed, deleted):
        assert_common_error_shape(response, status=status)
    assert Category.objects.get(slug="books").name != "Changed"
