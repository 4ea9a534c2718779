"""A customer's order list is served from the cache, and every change to their orders is in their very next read."""

import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models.signals import post_delete

from common_testing.messaging import deliver
from orders_service.orders import list_cache, selectors, services, tasks
from orders_service.orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory

# Real commits: a user's cached list is invalidated when a change's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/api/v1/orders/"


@pytest.fixture
def customer(signer) -> dict:
    return signer.bearer(user_id=5)


@pytest.fixture
def services_only():
    """Without ``Order``'s delete signal: the services must invalidate by themselves."""
    post_delete.disconnect(sender=Order, dispatch_uid="list_cache.delete.Order")
    yield
    list_cache.connect_model_signals()


def listed(api_client, headers: dict, query: str = "") -> dict:
    response = api_client.get(LIST + query, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def statuses(api_client, headers: dict) -> list[str]:
    return [order["status"] for order in listed(api_client, headers)["results"]]


def placed_order(*, user_id: int = 5) -> Order:
    return services.order_place(
        user_id=user_id,
        lines=[services.OrderLineInput(product_id=3, quantity=2), services.OrderLineInput(product_id=7, quantity=1)],
    )


def reserved_payload(order: Order) -> dict:
    return {
        "order_id": str(order.id),
        "currency": "EUR",
        "lines": [
            {"product_id": 3, "quantity": 2, "unit_price": "10.50"},
            {"product_id": 7, "quantity": 1, "unit_price": "0.99"},
        ],
    }


def test_a_second_read_is_served_from_the_cache_without_a_query(api_client, customer, django_assert_num_queries):
    # given
    OrderLineFactory.create_batch(2, order=OrderFactory(user_id=5))
    with django_assert_num_queries(3):
        first = api_client.get(LIST, **customer)

    # when
    with django_assert_num_queries(0):
        second = api_client.get(LIST, **customer)

    # then
    assert (second.status_code, second["Content-Type"]) == (200, "application/json")
    assert second.content == first.content
    assert second.json()["count"] == 1


def test_pages_and_filters_are_cached_apart(api_client, customer):
    OrderFactory(user_id=5, status=Order.Status.CONFIRMED)
    OrderFactory(user_id=5, status=Order.Status.REJECTED)

    for _ in range(2):  # built, then cached
        assert listed(api_client, customer)["count"] == 2
        assert [order["status"] for order in listed(api_client, customer, "?status=confirmed")["results"]] == [
            "confirmed"
        ]
        assert len(listed(api_client, customer, "?page_size=1")["results"]) == 1
        assert listed(api_client, customer, "?page_size=1&page=2")["previous"] is not None


def test_an_unknown_status_filter_is_a_400_every_time(api_client, customer):
    for _ in range(2):
        response = api_client.get(f"{LIST}?status=lost", **customer)

        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert (error["code"], error["attr"]) == ("invalid_choice", "status")


def test_a_placed_order_is_in_the_next_read(api_client, customer, broker, services_only):
    # given
    assert listed(api_client, customer)["count"] == 0

    # when
    response = api_client.post(
        LIST,
        {"items": [{"product_id": 3, "quantity": 2}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **customer,
    )

    # then
    assert response.status_code == 201
    assert [order["id"] for order in listed(api_client, customer)["results"]] == [response.json()["id"]]


def test_a_confirmation_by_the_saga_is_in_the_next_read(api_client, customer, broker, services_only):
    # given
    order = placed_order()
    assert statuses(api_client, customer) == ["pending"]

    # when
    assert deliver(tasks.stock_reserved, reserved_payload(order)) == "applied"

    # then
    [confirmed] = listed(api_client, customer)["results"]
    assert (confirmed["status"], confirmed["total"], confirmed["currency"]) == ("confirmed", "21.99", "EUR")
    assert sorted(line["unit_price"] for line in confirmed["items"]) == ["0.99", "10.50"]


def test_a_rejection_by_the_saga_is_in_the_next_read(api_client, customer, broker, services_only):
    # given
    order = placed_order()
    assert statuses(api_client, customer) == ["pending"]

    # when
    assert deliver(tasks.stock_rejected, {"order_id": str(order.id), "reason": "Out of stock."}) == "applied"

    # then
    [rejected] = listed(api_client, customer)["results"]
    assert (rejected["status"], rejected["reject_reason"]) == ("rejected", "Out of stock.")


def test_a_cancel_and_its_completion_are_each_in_the_next_read(api_client, customer, broker, services_only):
    # given
    order = placed_order()
    deliver(tasks.stock_reserved, reserved_payload(order))
    assert statuses(api_client, customer) == ["confirmed"]

    # when
    assert api_client.post(f"{LIST}{order.id}/cancel/", **customer).status_code == 202

    # then
    assert statuses(api_client, customer) == ["cancelling"]

    # when
    assert deliver(tasks.stock_released, {"order_id": str(order.id)}) == "applied"

    # then
    assert statuses(api_client, customer) == ["cancelled"]


def test_an_order_deleted_outside_the_services_is_gone_from_the_next_read(api_client, customer):
    # given: as the admin's delete action does
    order = OrderFactory(user_id=5)
    assert listed(api_client, customer)["count"] == 1

    # when
    Order.objects.get(id=order.id).delete()

    # then
    assert listed(api_client, customer)["count"] == 0


def test_a_rolled_back_change_leaves_the_cached_page_in_use(api_client, customer, django_assert_num_queries):
    # given
    order = OrderFactory(user_id=5, status=Order.Status.CONFIRMED)
    listed(api_client, customer)

    # when
    with transaction.atomic():
        services.order_cancel(order_id=order.id)
        transaction.set_rollback(True)

    # then
    with django_assert_num_queries(0):
        assert statuses(api_client, customer) == ["confirmed"]


def test_a_page_built_while_an_order_commits_is_not_served_after_it(api_client, customer, monkeypatch, broker):
    # given: an order is placed (and committed) after the read has counted and fetched its rows
    OrderFactory(user_id=5)
    real_order_lines_by_order = selectors.order_lines_by_order

    def lines_while_an_order_commits(*, order_ids):
        monkeypatch.setattr(selectors, "order_lines_by_order", real_order_lines_by_order)
        placed_order()
        return real_order_lines_by_order(order_ids=order_ids)

    monkeypatch.setattr(selectors, "order_lines_by_order", lines_while_an_order_commits)
    assert listed(api_client, customer)["count"] == 1

    # when
    body = listed(api_client, customer)

    # then
    assert body["count"] == 2


def test_customers_never_see_each_others_cached_pages(api_client, signer, customer, django_assert_num_queries):
    # given
    mine = OrderFactory(user_id=5)
    theirs = OrderFactory(user_id=6)
    other_customer = signer.bearer(user_id=6)
    listed(api_client, customer)

    # when
    first = listed(api_client, other_customer)
    with django_assert_num_queries(0):
        again_mine, again_theirs = listed(api_client, customer), listed(api_client, other_customer)

    # then
    assert [order["id"] for order in first["results"]] == [str(theirs.id)]
    assert [order["id"] for order in again_theirs["results"]] == [str(theirs.id)]
    assert [order["id"] for order in again_mine["results"]] == [str(mine.id)]


def test_an_order_operator_reads_the_database_every_time(api_client, signer, customer, django_assert_num_queries):
    # given
    operator = signer.bearer(user_id=1, roles=["order_operator"])
    OrderFactory(user_id=5)
    assert listed(api_client, operator)["count"] == 1

    # when: a change that bumps only user 6's list
    OrderFactory(user_id=6)

    # then
    with django_assert_num_queries(3):
        assert listed(api_client, operator)["count"] == 2


def test_pagination_links_name_the_host_asked_for(api_client, customer):
    OrderFactory.create_batch(2, user_id=5)

    from_testserver = listed(api_client, customer, "?page_size=1")
    from_localhost = api_client.get(f"{LIST}?page_size=1", HTTP_HOST="localhost", **customer).json()

    assert from_testserver["next"].startswith("http://testserver/")
    assert from_localhost["next"].startswith("http://localhost/")


def test_reads_and_writes_work_while_redis_is_down(api_client, customer, settings, broker, caplog):
    # given
    order = OrderFactory(user_id=5, status=Order.Status.CONFIRMED, total=Decimal("3.00"), currency="EUR")
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    # when
    first = listed(api_client, customer)
    cancelled = api_client.post(f"{LIST}{order.id}/cancel/", **customer)
    second = listed(api_client, customer)

    # then
    assert [order["status"] for order in first["results"]] == ["confirmed"]
    assert cancelled.status_code == 202
    assert [order["status"] for order in second["results"]] == ["cancelling"]
    assert "order list cache unavailable" in caplog.text
    assert "could not bump the order list version" in caplog.text


def test_a_customers_list_carries_a_strong_etag_that_a_saga_step_changes_at_once(
    api_client, customer, broker, services_only
):
    # given: a client holding its customer's list and its tag
    order = placed_order()
    first = api_client.get(LIST, **customer)
    etag = first["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first["Cache-Control"] == "private, no-cache"

    # then: revalidating the unchanged list is a 304 without a body
    not_modified = api_client.get(LIST, HTTP_IF_NONE_MATCH=etag, **customer)
    assert (not_modified.status_code, not_modified.content, not_modified["ETag"]) == (304, b"", etag)

    # when: the saga confirms the order
    assert deliver(tasks.stock_reserved, reserved_payload(order)) == "applied"

    # then: the same revalidation gets the new list, under a new tag
    fresh = api_client.get(LIST, HTTP_IF_NONE_MATCH=etag, **customer)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert fresh.json()["results"][0]["status"] == "confirmed"


def test_another_customers_tag_is_no_use(api_client, signer, customer):
    placed_order(user_id=5)
    placed_order(user_id=6)
    other = signer.bearer(user_id=6)

    theirs = api_client.get(LIST, **other)["ETag"]

    response = api_client.get(LIST, HTTP_IF_NONE_MATCH=theirs, **customer)
    assert response.status_code == 200
    assert response["ETag"] != theirs


def test_a_customers_cached_list_answered_before_drf_is_drfs_answer(api_client, customer):
    # given: the page cached by a first read, which went through DRF
    placed_order(user_id=5)
    through_drf = api_client.get(LIST, {"page_size": 5}, **customer)
    assert through_drf["X-Cache"] == "miss"

    # when: the customer reads it again (answered before DRF's dispatch)
    early = api_client.get(LIST, {"page_size": 5}, **customer)

    # then: the same status, bytes and headers, the request id's and the cache's own aside
    assert early["X-Cache"] == "hit"
    assert (early.status_code, early.content) == (through_drf.status_code, through_drf.content)
    differing = {"X-Request-ID", "X-Cache"}
    assert {name: value for name, value in early.items() if name not in differing} == {
        name: value for name, value in through_drf.items() if name not in differing
    }


def test_a_customers_cached_read_skips_drfs_dispatch_and_others_do_not(api_client, signer, customer, monkeypatch):
    from rest_framework.views import APIView

    dispatched = []
    initial = APIView.initial
    monkeypatch.setattr(
        APIView, "initial", lambda view, request, *a, **k: dispatched.append(1) or initial(view, request, *a, **k)
    )
    placed_order(user_id=5)
    api_client.get(LIST, **customer)  # a miss: built through DRF
    assert len(dispatched) == 1

    # a customer's read of the cached page, and its revalidation: no dispatch
    etag = api_client.get(LIST, **customer)["ETag"]
    assert api_client.get(LIST, HTTP_IF_NONE_MATCH=etag, **customer).status_code == 304
    assert len(dispatched) == 1

    # through DRF: an operator, a refused token, no token, another media type, HEAD
    assert api_client.get(LIST, **signer.bearer(user_id=5, roles=["order_operator"])).status_code == 200
    assert api_client.get(LIST, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    assert api_client.get(LIST).status_code == 401
    assert api_client.get(LIST, HTTP_ACCEPT="text/html", **customer).status_code == 406
    assert api_client.head(LIST, **customer).status_code == 200
    assert len(dispatched) == 6


def test_a_refused_token_is_a_401_even_when_its_users_list_is_cached(api_client, signer, customer):
    placed_order(user_id=5)
    assert api_client.get(LIST, **customer).status_code == 200  # cached
    expired = signer.bearer(user_id=5, iat=int(time.time()) - 600, exp=int(time.time()) - 60)

    response = api_client.get(LIST, **expired)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "results" not in response.json()
