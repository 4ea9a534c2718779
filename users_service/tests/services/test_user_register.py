import pytest

from common.errors import ApplicationError
from tests.factories import UserFactory
from users_service.accounts import services

pytestmark = pytest.mark.django_db


def test_a_taken_username_and_email_are_refused_naming_each_field():
    UserFactory(username="casey", email="casey@example.com")

    with pytest.raises(ApplicationError) as refused:
        services.user_register(username="CASEY", email="Casey@Example.com", password="a-Long-pass-phrase-9")

    assert refused.value.fields == {
        "username": ["A user with that username already exists."],
        "email": ["A user with that email already exists."],
    }
