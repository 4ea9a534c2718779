"""Operators in a service's admin as single sign-on makes them, for the admin authorisation tests."""

import uuid

from django.test import Client

from common.admin_sso.backends import operator_mirror


def operator_client(*roles: str, client: Client | None = None) -> Client:
    """A client logged into the admin as an operator holding ``roles`` (mirrored by ``operator_mirror``)."""
    client = client or Client()
    username = f"op-{uuid.uuid4().hex[:8]}"
    client.force_login(operator_mirror(claims={"username": username, "is_staff": True, "roles": list(roles)}))
    return client


def offered_actions(client: Client, changelist_url: str) -> set[str]:
    """The names of the actions the changelist offers this client."""
    response = client.get(changelist_url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered
    return {name for name, _ in form.fields["action"].choices if name} if form is not None else set()
