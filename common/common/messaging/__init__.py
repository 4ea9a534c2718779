"""Reliable messages between the services: contracts, outbox, relay, inbox, dead letters.

A service adds ``"common.messaging"`` to ``INSTALLED_APPS``; its tables
(``messaging_outboxmessage``, ``messaging_inboxmessage``,
``messaging_deadletter``) are created in that service's own schema.

Sending (inside the transaction that makes the change)::

    from common.messaging import outbox

    with transaction.atomic():
        order = Order.objects.create(...)
        outbox.enqueue("catalog.reserve_stock", {"order_id": order.id, "lines": [...]})

The row is written with the change, published to the consumer's queue right
after commit, and re-sent by the periodic relay (``<queue>.relay_outbox``)
until the broker has accepted it. A broker outage delays a message; it never
loses one.

Receiving (a Celery task named like the contract, in the consumer's
``tasks.py``)::

    from common.messaging.consumer import message_handler

    @message_handler("catalog.reserve_stock")
    def reserve_stock(*, message_id, payload):
        stock_reserve(order_id=payload["order_id"], lines=payload["lines"])

The handler runs in one transaction together with the inbox row of the
message id, so a duplicate delivery changes nothing. A handler that raises is
retried with exponential backoff; after ``MESSAGING_MAX_ATTEMPTS`` attempts the
message is parked as a dead letter (admin: replay / discard, or
``manage.py dead_letters``). Every contract, with its versioned JSON Schema,
lives in ``common.messaging.contracts``.
"""
