"""factory-boy factories for the catalogue (direct rows; services are tested on their own)."""

from decimal import Decimal

import factory

from catalog_service.catalog.models import Category, Product, Stock


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda number: f"Category {number}")
    slug = factory.Sequence(lambda number: f"category-{number}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with a stock row (``stock__available=5`` sets its quantity)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda number: f"SKU-{number:05d}")
    name = factory.Sequence(lambda number: f"Product {number}")
    slug = factory.Sequence(lambda number: f"product-{number}")
    description = "A fine thing."
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("10.00")
    currency = "EUR"
    is_active = True
    stock = factory.RelatedFactory("tests.factories.StockFactory", factory_related_name="product")


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    product = factory.SubFactory(ProductFactory, stock=None)
    available = 10
