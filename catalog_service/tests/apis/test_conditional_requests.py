"""Public pages carry a strong ETag; a matching If-None-Match is a 304 without a body; a write changes the tag.

An anonymous GET of a cached page is answered before DRF's dispatch (``public_cache.PublicPageFastPath``):
these tests also hold that answer to what DRF answers (headers, a bad token, content negotiation).
"""

from decimal import Decimal

import pytest

from tests.factories import CategoryFactory, ProductFactory

# Real commits: the cache is invalidated when a write's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/v1/products/"


def detail(product_id) -> str:
    return f"/api/v1/products/{product_id}/"


@pytest.fixture
def product():
    return ProductFactory(price=Decimal("10.00"), stock__available=5)


@pytest.mark.parametrize("page", ["list", "detail", "categories"])
def test_a_public_page_carries_a_strong_etag_and_a_matching_if_none_match_is_a_304(api_client, product, page):
    path = {"list": LIST, "detail": detail(product.id), "categories": "/api/v1/categories/"}[page]
    built = api_client.get(path)  # built from the database, then cached
    cached = api_client.get(path)

    etag = built["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert not etag.startswith("W/")
    assert (built["X-Cache"], cached["X-Cache"]) == ("miss", "hit")
    assert cached["ETag"] == etag
    assert built["Cache-Control"] == cached["Cache-Control"] == "no-cache"

    not_modified = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert not_modified["Cache-Control"] == "no-cache"


def test_a_weak_or_listed_or_any_tag_matches_and_another_does_not(api_client, product):
    etag = api_client.get(LIST)["ETag"]

    assert api_client.get(LIST, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304  # weak comparison (RFC 9110)
    assert api_client.get(LIST, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert api_client.get(LIST, HTTP_IF_NONE_MATCH="*").status_code == 304
    other = api_client.get(LIST, HTTP_IF_NONE_MATCH='"other"')
    assert (other.status_code, other["ETag"]) == (200, etag)
    assert other.json()["count"] == 1


def test_a_write_changes_the_etag_of_every_page_that_shows_it_at_once(api_client, manager, product):
    # given: a client that holds both pages and their tags
    list_tag = api_client.get(LIST)["ETag"]
    detail_tag = api_client.get(detail(product.id))["ETag"]

    # when: a catalog manager changes the price
    assert api_client.patch(detail(product.id), {"price": "8.00"}, format="json", **manager).status_code == 200

    # then: revalidating gets the new pages (no 304), each with a new tag that revalidates in turn
    for path, old_tag in ((LIST, list_tag), (detail(product.id), detail_tag)):
        fresh = api_client.get(path, HTTP_IF_NONE_MATCH=old_tag)
        assert fresh.status_code == 200
        assert fresh["ETag"] != old_tag
        assert api_client.get(path, HTTP_IF_NONE_MATCH=fresh["ETag"]).status_code == 304
    assert api_client.get(detail(product.id)).json()["price"] == "8.00"


def test_the_same_bytes_have_the_same_tag_for_anonymous_callers_and_customers(api_client, customer, product):
    anonymous = api_client.get(LIST)
    as_customer = api_client.get(LIST, **customer)

    assert as_customer.content == anonymous.content
    assert as_customer["ETag"] == anonymous["ETag"]
    assert api_client.get(LIST, HTTP_IF_NONE_MATCH=anonymous["ETag"], **customer).status_code == 304


def test_a_failed_if_match_is_a_412_in_the_common_shape(api_client, product):
    response = api_client.get(LIST, HTTP_IF_MATCH='"other"')

    assert response.status_code == 412
    assert response.json()["errors"][0]["code"] == "precondition_failed"


def test_the_answer_before_drf_is_drfs_answer(api_client, product):
    # given: the page cached by a first read, which went through DRF
    through_drf = api_client.get(LIST, {"page_size": 5})
    assert through_drf["X-Cache"] == "miss"

    # when: an anonymous client reads it again (answered before DRF's dispatch)
    early = api_client.get(LIST, {"page_size": 5})

    # then: the same status, bytes and headers, the request id's and the cache's own aside
    assert early["X-Cache"] == "hit"
    assert (early.status_code, early.content) == (through_drf.status_code, through_drf.content)
    differing = {"X-Request-ID", "X-Cache"}
    assert {name: value for name, value in early.items() if name not in differing} == {
        name: value for name, value in through_drf.items() if name not in differing
    }


def test_a_bad_token_is_refused_even_when_the_page_is_cached(api_client, product):
    assert api_client.get(LIST).status_code == 200  # cached

    response = api_client.get(LIST, HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 401
    assert "results" not in response.json()


def test_content_negotiation_still_refuses_what_it_cannot_render(api_client, product):
    assert api_client.get(LIST).status_code == 200  # cached

    assert api_client.get(LIST, HTTP_ACCEPT="text/html").status_code == 406
    assert api_client.get(LIST, {"format": "xml"}).status_code == 404  # DRF: an unknown format suffix


def test_a_catalog_manager_still_sees_inactive_products_on_a_cached_page(api_client, manager, product):
    ProductFactory(is_active=False, category=CategoryFactory())
    assert api_client.get(LIST).json()["count"] == 1  # the public page, cached

    assert api_client.get(LIST, **manager).json()["count"] == 2


def test_an_anonymous_or_a_customers_read_of_a_cached_page_skips_drfs_dispatch_and_others_do_not(
    api_client, customer, manager, product, monkeypatch
):
    from rest_framework.views import APIView

    dispatched = []
    initial = APIView.initial
    monkeypatch.setattr(
        APIView, "initial", lambda view, request, *a, **k: dispatched.append(1) or initial(view, request, *a, **k)
    )
    api_client.get(LIST)  # a miss: built through DRF
    assert len(dispatched) == 1

    api_client.get(LIST)
    api_client.get(LIST, HTTP_IF_NONE_MATCH='"other"')
    assert api_client.get(LIST, **customer)["X-Cache"] == "hit"  # a verified customer sees the public page
    assert len(dispatched) == 1

    api_client.get(LIST, **manager)  # a catalog manager sees inactive products too
    api_client.get(LIST, HTTP_AUTHORIZATION="Bearer not-a-token")
    api_client.head(LIST)
    assert len(dispatched) == 4


def test_a_customers_read_answered_before_drf_is_the_anonymous_answer(api_client, customer, product):
    anonymous = api_client.get(LIST, {"page_size": 5})

    as_customer = api_client.get(LIST, {"page_size": 5}, **customer)

    assert as_customer["X-Cache"] == "hit"
    assert (as_customer.status_code, as_customer.content, as_customer["ETag"]) == (
        anonymous.status_code,
        anonymous.content,
        anonymous["ETag"],
    )
