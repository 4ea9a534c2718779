"""What the system's own records must agree on once every order has settled: the reconciliation.

The cross-service tests end with it, and the chaos run prints it. Read from each service's own schema, as
that service's database role:

- orders by status; none still in flight (``pending``, ``cancelling``);
- stock: what catalog holds for reservations equals the lines of the confirmed orders, product by
  product, and each product's available stock is what it started with less that;
- notifications: exactly one per order and status it reached that its customer is told of (confirmed or
  rejected; confirmed then cancelled for a cancelled order): none missing, none twice, none extra;
- every outbox drained, no dead letter parked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg2

SERVICE_NAMES = ("users_service", "catalog_service", "orders_service")
IN_FLIGHT = ("pending", "cancelling")
# The statuses an order in each final status went through that its customer is told of.
NOTIFIED_STATUSES = {"confirmed": ("confirmed",), "rejected": ("rejected",), "cancelled": ("confirmed", "cancelled")}


class HasRoleDatabases(Protocol):
    def role_database_url(self, service: str) -> str: ...


def query(system: HasRoleDatabases, service: str, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows from a service's own schema, as that service's database role."""
    connection = psycopg2.connect(system.role_database_url(service), connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def all_settled(system: HasRoleDatabases) -> bool:
    """No order in flight and no outbox row unsent."""
    in_flight = query(system, "orders_service", "SELECT count(*) FROM orders_order WHERE status IN %s", [IN_FLIGHT])
    unsent = sum(unsent_messages(system).values())
    return int(in_flight[0][0]) == 0 and unsent == 0


def unsent_messages(system: HasRoleDatabases) -> dict[str, int]:
    return {
        service: int(query(system, service, "SELECT count(*) FROM messaging_outboxmessage WHERE sent_at IS NULL")[0][0])
        for service in SERVICE_NAMES
    }


def expected_notifications(system: HasRoleDatabases) -> Counter[tuple[str, str]]:
    expected: Counter[tuple[str, str]] = Counter()
    for order_id, status in query(system, "orders_service", "SELECT id::text, status FROM orders_order"):
        expected.update((order_id, step) for step in NOTIFIED_STATUSES.get(status, ()))
    return expected


def recorded_notifications(system: HasRoleDatabases) -> Counter[tuple[str, str]]:
    sql = "SELECT order_id::text, order_status FROM notifications_notification"
    return Counter((order_id, status) for order_id, status in query(system, "users_service", sql))


def notifications_agree(system: HasRoleDatabases) -> bool:
    return expected_notifications(system) == recorded_notifications(system)


@dataclass
class Reconciliation:
    """The system's records side by side; ``problems()`` lists every disagreement (empty: all reconciled)."""

    orders_by_status: dict[str, int]
    reserved: dict[int, int]  # product id -> quantity catalog holds for reservations
    confirmed: dict[int, int]  # product id -> quantity on confirmed orders' lines
    stock: dict[int, tuple[int, int]]  # product id -> (expected available, available)
    notifications_missing: Counter[tuple[str, str]]
    notifications_unexpected: Counter[tuple[str, str]]  # twice, or for a status the order never reached
    notifications: int
    unsent: dict[str, int]
    parked: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = []
        in_flight = {status: self.orders_by_status.get(status, 0) for status in IN_FLIGHT}
        if any(in_flight.values()):
            found.append(f"orders still in flight: {in_flight}")
        if self.reserved != self.confirmed:
            found.append(f"reserved stock {self.reserved} != confirmed lines {self.confirmed}")
        found += [
            f"product {product}: available {available}, expected {expected}"
            for product, (expected, available) in self.stock.items()
            if expected != available
        ]
        if self.notifications_missing:
            found.append(f"notifications missing: {dict(self.notifications_missing)}")
        if self.notifications_unexpected:
            found.append(f"notifications twice or unexpected: {dict(self.notifications_unexpected)}")
        found += [f"{service}: {count} outbox messages unsent" for service, count in self.unsent.items() if count]
        found += [f"{service}: dead letters {rows}" for service, rows in self.parked.items() if rows]
        return found

    def summary(self) -> str:
        statuses = ", ".join(f"{status} {count}" for status, count in sorted(self.orders_by_status.items()))
        return "\n".join(
            [
                f"orders by status:  {statuses or 'none'}",
                f"stock reconciled:  {sum(1 for e, a in self.stock.values() if e == a)} of {len(self.stock)} products;"
                f" reserved {sum(self.reserved.values())} = confirmed lines {sum(self.confirmed.values())}",
                f"notifications:     {self.notifications} recorded, {sum(self.notifications_missing.values())} missing,"
                f" {sum(self.notifications_unexpected.values())} twice or unexpected",
                f"outbox unsent:     {sum(self.unsent.values())}",
                f"dead letters:      {sum(len(rows) for rows in self.parked.values())}",
            ]
        )


def reconcile(system: HasRoleDatabases, *, initial_stock: Mapping[int, int]) -> Reconciliation:
    """The records of the three services compared; ``initial_stock``: product id -> its stock at the start."""
    reserved = {
        int(product): int(quantity)
        for product, quantity in query(
            system,
            "catalog_service",
            "SELECT line.product_id, sum(line.quantity) FROM reservations_reservationline line"
            " JOIN reservations_reservation reservation ON reservation.id = line.reservation_id"
            " WHERE reservation.status = 'reserved' GROUP BY line.product_id",
        )
    }
    confirmed = {
        int(product): int(quantity)
        for product, quantity in query(
            system,
            "orders_service",
            "SELECT line.product_id, sum(line.quantity) FROM orders_orderline line"
            " JOIN orders_order o ON o.id = line.order_id WHERE o.status = 'confirmed' GROUP BY line.product_id",
        )
    }
    available = dict(
        query(
            system,
            "catalog_service",
            "SELECT product_id, available FROM catalog_stock WHERE product_id = ANY(%s)",
            [list(initial_stock)],
        )
    )
    expected, recorded = expected_notifications(system), recorded_notifications(system)
    return Reconciliation(
        orders_by_status=dict(query(system, "orders_service", "SELECT status, count(*) FROM orders_order GROUP BY 1")),
        reserved=reserved,
        confirmed=confirmed,
        stock={
            product: (initial - reserved.get(product, 0), available.get(product, -1))
            for product, initial in initial_stock.items()
        },
        notifications_missing=expected - recorded,
        notifications_unexpected=recorded - expected,
        notifications=sum(recorded.values()),
        unsent=unsent_messages(system),
        parked={
            service: query(system, service, "SELECT name, error FROM messaging_deadletter WHERE state = 'parked'")
            for service in SERVICE_NAMES
        },
    )
