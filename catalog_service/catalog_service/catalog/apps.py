from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog_service.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog_service.catalog import public_cache

        public_cache.connect_model_signals()
