import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from catalog_service.catalog import services
from catalog_service.catalog.models import Stock
from tests.factories import ProductFactory


@pytest.mark.django_db
def test_stock_adjust_adds_and_takes_and_returns_the_new_quantity():
    product = ProductFactory(stock__available=5)

    assert services.stock_adjust(product_id=product.id, delta=3) == 8
    assert services.stock_adjust(product_id=product.id, delta=-8) == 0
    assert Stock.objects.get(product=product).available == 0


@pytest.mark.django_db
def test_stock_adjust_refuses_to_go_below_zero_and_changes_nothing():
    product = ProductFactory(stock__available=2)

    with pytest.raises(services.InsufficientStock) as raised:
        services.stock_adjust(product_id=product.id, delta=-3)

    assert raised.value.available == 2
    assert Stock.objects.get(product=product).available == 2


@pytest.mark.django_db
def test_stock_adjust_of_a_product_without_stock_is_insufficient_stock():
    with pytest.raises(services.InsufficientStock) as raised:
        services.stock_adjust(product_id=999_999, delta=-1)

    assert raised.value.available is None


@pytest.mark.django_db
def test_stock_adjust_many_is_all_or_nothing():
    plenty, scarce = ProductFactory(stock__available=10), ProductFactory(stock__available=1)

    with pytest.raises(services.InsufficientStock) as raised:
        services.stock_adjust_many(deltas={plenty.id: -4, scarce.id: -2})

    assert raised.value.product_id == scarce.id
    assert Stock.objects.get(product=plenty).available == 10
    assert Stock.objects.get(product=scarce).available == 1


@pytest.mark.django_db
def test_stock_adjust_many_returns_every_new_quantity():
    first, second = ProductFactory(stock__available=10), ProductFactory(stock__available=1)

    quantities = services.stock_adjust_many(deltas={second.id: -1, first.id: -4})

    assert quantities == {first.id: 6, second.id: 0}


@pytest.mark.django_db
def test_the_database_refuses_negative_stock_even_without_the_service():
    product = ProductFactory(stock__available=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(product=product).update(available=-1)


@pytest.mark.django_db
def test_stock_set_replaces_the_quantity_and_creates_a_missing_row():
    product = ProductFactory(stock=None)

    services.stock_set(product_id=product.id, available=4)
    services.stock_set(product_id=product.id, available=9)

    assert Stock.objects.get(product=product).available == 9


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_never_oversell():
    # given 10 units and 8 threads each taking 2, in two products locked in opposite orders
    first, second = ProductFactory(stock__available=10), ProductFactory(stock__available=10)
    barrier = threading.Barrier(8)
    outcomes = []

    def take(index: int) -> None:
        barrier.wait()
        deltas = {first.id: -2, second.id: -2} if index % 2 else {second.id: -2, first.id: -2}
        try:
            services.stock_adjust_many(deltas=deltas)
            outcomes.append("taken")
        except services.InsufficientStock:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    # when
    threads = [threading.Thread(target=take, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly five takes fit, no deadlock, nothing negative
    assert outcomes.count("taken") == 5
    assert outcomes.count("refused") == 3
    assert Stock.objects.get(product=first).available == 0
    assert Stock.objects.get(product=second).available == 0
