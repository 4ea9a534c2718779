"""users_service: accounts, roles, JWT issuing and notifications."""

from users_service.celery import app as celery_app

__all__ = ["celery_app"]
