from django.apps import AppConfig


class DeactivationsConfig(AppConfig):
    name = "common.auth.deactivations"
    label = "deactivations"
    verbose_name = "Deactivated accounts"
    default_auto_field = "django.db.models.BigAutoField"
