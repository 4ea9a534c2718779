import uuid

import factory
from django.utils import timezone

from orders_service.orders.models import Order, OrderLine


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    id = factory.LazyFunction(uuid.uuid4)
    user_id = 5
    status = Order.Status.PENDING
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")
    driven_at = factory.SelfAttribute("created_at")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product_id = factory.Sequence(lambda n: n + 1)
    quantity = 2
