import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def operator(client):
    """A client logged into the admin as a superuser."""
    user = get_user_model().objects.create_superuser(username="olga", email="olga@example.com", password="x")
    client.force_login(user)
    return client
