"""orders_service: orders and the order saga."""

from orders_service.celery import app as celery_app

__all__ = ["celery_app"]
