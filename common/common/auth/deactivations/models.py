from typing import ClassVar

from django.db import models


class DeactivatedUser(models.Model):
    """An account users_service deactivated; its tokens issued up to ``deactivated_at`` are refused here."""

    # Django's default manager, declared for mypy: under users_service's settings, where this app is not
    # installed, the django plugin does not add it.
    objects: ClassVar[models.Manager["DeactivatedUser"]]

    user_id = models.BigIntegerField(primary_key=True)
    username = models.CharField(max_length=150)
    deactivated_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "deactivated user"
        ordering = ["-deactivated_at"]

    def __str__(self) -> str:
        return f"{self.username} (#{self.user_id}) since {self.deactivated_at:%Y-%m-%d %H:%M:%S}"
