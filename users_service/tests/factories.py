"""factory-boy factories for accounts."""

import factory
from django.contrib.auth.models import Group

from users_service.accounts.models import User

PASSWORD = "plum-Tortoise-river-47"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda number: f"user{number}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        if create and names:
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])


class StaffFactory(UserFactory):
    is_staff = True
