"""The reservations admin: read-only (the saga writes reservations), searched by order id."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog_service.reservations.models import Reservation, ReservationLine

pytestmark = pytest.mark.django_db

CHANGELIST = "/catalog/admin/reservations/reservation/"


def reservation() -> Reservation:
    now = timezone.now()
    held = Reservation.objects.create(
        order_id=uuid.uuid4(), status=Reservation.Status.RESERVED, currency="EUR", created_at=now, updated_at=now
    )
    ReservationLine.objects.create(reservation=held, product_id=77, quantity=2, unit_price=Decimal("4.50"))
    return held


@pytest.mark.parametrize("term", ["", "not-a-uuid", "12345"])
def test_the_list_renders_whatever_is_searched(operator, term):
    reservation()

    assert operator.get(CHANGELIST, {"q": term}).status_code == 200


def test_search_by_order_id_finds_only_that_reservation(operator):
    wanted, other = reservation(), reservation()

    found = operator.get(CHANGELIST, {"q": str(wanted.order_id)}).context["cl"].result_list
    by_text = operator.get(CHANGELIST, {"q": str(other.order_id)[:8]}).context["cl"].result_list

    assert list(found) == [wanted]
    assert list(by_text) == []


def test_a_reservation_is_shown_with_its_lines_and_cannot_be_changed(operator):
    held = reservation()

    page = operator.get(f"{CHANGELIST}{held.pk}/change/")

    assert page.status_code == 200
    assert b"77" in page.content
    assert page.context["has_change_permission"] is False
    assert operator.get(f"{CHANGELIST}add/").status_code == 403
    assert operator.post(f"{CHANGELIST}{held.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Reservation.objects.filter(pk=held.pk).exists()
