from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders_service.orders"
    label = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders_service.orders import list_cache

        list_cache.connect_model_signals()
