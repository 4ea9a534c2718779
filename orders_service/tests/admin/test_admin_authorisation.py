"""Every admin action is refused to an operator whose roles lack it, and the admin's forms need a CSRF token.

Operators are mirrored from their roles as the single sign-on does it
(``operator_mirror``, with this service's ``ADMIN_ROLE_PERMISSIONS``): an
order_operator cancels, re-drives and replays; a catalog_manager only looks at
orders here; an operator with no role here sees nothing.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from common.messaging.models import DeadLetter
from common_testing.admin_operators import offered_actions, operator_client
from common_testing.messaging import deliver, queued_messages
from orders_service.orders import tasks
from orders_service.orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = reverse("admin:orders_order_changelist")
DEAD_LETTERS = reverse("admin:messaging_deadletter_changelist")
OUTBOX = reverse("admin:messaging_outboxmessage_changelist")


@pytest.fixture
def parked(broker, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    deliver(tasks.stock_released, {"order_id": str(uuid.uuid4())})
    return DeadLetter.objects.get()


def test_an_order_operator_is_offered_every_action(broker):
    client = operator_client("order_operator")

    assert offered_actions(client, ORDERS) == {"cancel", "redrive"}
    assert offered_actions(client, DEAD_LETTERS) == {"replay", "discard"}
    assert offered_actions(client, OUTBOX) == {"send_now"}


@pytest.mark.parametrize("action", ["cancel", "redrive"])
def test_a_catalog_manager_sees_orders_but_cannot_cancel_or_redrive_them(broker, action):
    # given: a confirmed and a pending order, which cancel and re-drive would act on
    client = operator_client("catalog_manager")
    confirmed, pending = OrderFactory(status="confirmed"), OrderFactory()
    OrderLineFactory(order=pending, product_id=3, quantity=1)
    assert offered_actions(client, ORDERS) == set()

    # when
    response = client.post(ORDERS, {"action": action, "_selected_action": [str(confirmed.id), str(pending.id)]})

    # then: Django refuses an action it does not offer, and nothing happened
    assert response.status_code in {200, 302}
    assert Order.objects.get(id=confirmed.id).status == "confirmed"
    assert Order.objects.get(id=pending.id).status == "pending"
    assert queued_messages(broker, "catalog") == []


@pytest.mark.parametrize("action", ["replay", "discard"])
def test_an_operator_without_a_role_here_can_neither_see_nor_act_on_dead_letters(parked, broker, action):
    for client in (operator_client(), operator_client("catalog_manager")):
        assert client.get(DEAD_LETTERS).status_code == 403

        response = client.post(DEAD_LETTERS, {"action": action, "_selected_action": [parked.pk]})

        assert response.status_code == 403
        parked.refresh_from_db()
        assert parked.state == DeadLetter.State.PARKED
    assert queued_messages(broker, "orders") == []


def test_no_operator_may_delete_an_order_only_cancel_it(broker):
    order = OrderFactory(status="confirmed")
    client = operator_client("order_operator")

    response = client.post(reverse("admin:orders_order_delete", args=[order.id]), {"post": "yes"})

    assert response.status_code == 403
    assert Order.objects.filter(id=order.id).exists()


@pytest.mark.parametrize("action", ["replay", "discard"])
def test_an_operator_who_may_only_view_dead_letters_cannot_replay_or_discard_them(parked, broker, action):
    # given: the view permission without the change permission
    client = operator_client()
    viewer = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="messaging", codename="view_deadletter"))
    assert offered_actions(client, DEAD_LETTERS) == set()

    # when
    client.post(DEAD_LETTERS, {"action": action, "_selected_action": [parked.pk]})

    # then
    parked.refresh_from_db()
    assert parked.state == DeadLetter.State.PARKED
    assert queued_messages(broker, "orders") == []


def test_an_order_operator_replays_a_dead_letter(parked, broker):
    operator_client("order_operator").post(DEAD_LETTERS, {"action": "replay", "_selected_action": [parked.pk]})

    parked.refresh_from_db()
    assert parked.state == DeadLetter.State.REPLAYED


# ---------------------------------------------------------------- CSRF


def test_an_admin_action_without_the_csrf_token_is_refused(parked, broker):
    client = operator_client("order_operator", client=Client(enforce_csrf_checks=True))

    response = client.post(DEAD_LETTERS, {"action": "discard", "_selected_action": [parked.pk]})

    assert response.status_code == 403
    assert b"CSRF" in response.content
    parked.refresh_from_db()
    assert parked.state == DeadLetter.State.PARKED


def test_an_admin_action_with_the_csrf_token_of_the_page_is_run(parked, broker):
    client = operator_client("order_operator", client=Client(enforce_csrf_checks=True))
    page = client.get(DEAD_LETTERS)
    token = page.context["csrf_token"]

    response = client.post(
        DEAD_LETTERS, {"action": "discard", "_selected_action": [parked.pk], "csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 302
    parked.refresh_from_db()
    assert parked.state == DeadLetter.State.DISCARDED


def test_the_admin_login_form_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("admin:login"), {"username": "someone", "password": "anything"})

    assert response.status_code == 403
    assert b"CSRF" in response.content
