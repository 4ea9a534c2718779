from django.apps import AppConfig
from django.db.models.signals import pre_migrate


class DatabaseConfig(AppConfig):
    name = "common.database"
    label = "common_database"
    verbose_name = "Database schema"

    def ready(self) -> None:
        from common.database.schema import ensure_service_schema

        # Sent once per app with models; creating the schema is idempotent.
        pre_migrate.connect(ensure_service_schema, dispatch_uid="common.database.ensure_service_schema")
