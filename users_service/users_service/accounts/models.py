from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The system's account. Roles are Django groups; their names travel in the JWT ``roles`` claim."""

    email = models.EmailField("email address", unique=True)

    # django-stubs declare no AbstractUser.Meta; it exists at runtime (abstract = False is set by Django).
    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"

    def has_role(self, role: str) -> bool:
        """Superusers hold every role (as in ``common.auth.tokens.TokenUser``)."""
        return self.is_superuser or self.groups.filter(name=role).exists()
