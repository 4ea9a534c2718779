from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "common.health"
    label = "common_health"
    verbose_name = "Health checks"
