from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "common.messaging"
    label = "messaging"
    verbose_name = "Messaging (outbox, inbox, dead letters)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from common import kombu_redis_patches

        kombu_redis_patches.install()
