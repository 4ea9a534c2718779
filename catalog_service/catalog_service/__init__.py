"""catalog_service: categories, products, stock and reservations."""

from catalog_service.celery import app as celery_app

__all__ = ["celery_app"]
