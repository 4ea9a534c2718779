import pytest

from common_testing.infrastructure import assert_common_error_shape
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def url(product_id) -> str:
    return f"/api/v1/products/{product_id}/"


def test_anyone_reads_an_active_product(api_client):
    product = ProductFactory(stock__available=3)

    response = api_client.get(url(product.id))

    assert response.status_code == 200
    assert response.json()["id"] == product.id
    assert response.json()["stock"] == 3


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_an_inactive_product_is_a_404_for_everyone_but_catalog_managers(api_client, customer, who):
    product = ProductFactory(is_active=False)
    headers = customer if who == "customer" else {}

    response = api_client.get(url(product.id), **headers)

    assert_common_error_shape(response, status=404)


def test_catalog_managers_read_inactive_products(api_client, manager):
    product = ProductFactory(is_active=False)

    response = api_client.get(url(product.id), **manager)

    assert response.status_code == 200
    assert response.json()["is_active"] is False


@pytest.mark.parametrize("product_id", ["0", "99999999", str(2**63), "9" * 40])
def test_ids_that_do_not_exist_are_a_404(api_client, product_id):
    response = api_client.get(url(product_id))

    assert_common_error_shape(response, status=404)


def test_the_detail_runs_one_query(api_client, django_assert_num_queries):
    product = ProductFactory()

    with django_assert_num_queries(1):
        response = api_client.get(url(product.id))

    assert response.status_code == 200


def test_an_invalid_bearer_token_is_a_401(api_client, signer):
    product = ProductFactory()

    response = api_client.get(url(product.id), HTTP_AUTHORIZATION="Bearer not-a-token")

    assert_common_error_shape(response, status=401)
