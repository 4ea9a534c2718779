from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "catalog_service.reservations"
    label = "reservations"
    verbose_name = "Stock reservations"
    default_auto_field = "django.db.models.BigAutoField"
