"""Telemetry against the real processes: one order is one trace over the three services, through the outbox,
a broker outage and a dead letter's replay; one request id finds the order's story in every service's log.

The spans are those every process of this run exported to its traces file (``System.traces_file``, set by
the launcher), read back as ``./manage_all.sh trace`` reads them (``shopctl.traces``).
"""

import json
import re
import time
import uuid
from collections import Counter

import pytest
import requests

from shopctl import traces
from tests.test_order_saga import TOKEN_ONLY_USERS, Shop, all_settled, deadline_poll, query
from tests.test_saga_faults import notifications_refused

SPAN_TIMEOUT_SECONDS = 30  # spans leave a process every second; a busy machine may take longer


@pytest.fixture
def shop(system) -> Shop:
    deadline_poll(lambda: all_settled(system), timeout=60, interval=0.2, what="earlier orders to settle")
    return Shop(system=system)


def spans(system) -> list[dict]:
    return traces.read_spans(system.traces_file)


def order_trace(
    system, order_id: str, *, until_names: set[str], at_least: dict[str, int] | None = None
) -> tuple[str, list[dict]]:
    """The order's trace id and its spans, once the spans named ``until_names`` have all arrived (and ``at_least``
    as many of a name as it says). Each process exports its spans every second, on its own clock: a test waits
    for every span it asserts on, the web server's as much as the workers'."""
    wanted = Counter({name: 1 for name in until_names}) | Counter(at_least or {})

    def complete():
        every_span = spans(system)
        for trace_id in traces.trace_ids_for(every_span, order_id):
            found = traces.spans_of(every_span, trace_id)
            arrived = Counter(span["name"] for span in found)
            if all(arrived[name] >= count for name, count in wanted.items()):
                return trace_id, found
        return None

    return deadline_poll(complete, timeout=SPAN_TIMEOUT_SECONDS, interval=0.5, what=f"the spans of {until_names}")


def ancestors(span: dict, by_id: dict[str, dict]) -> list[dict]:
    chain = []
    while span.get("parent_id") in by_id:
        span = by_id[span["parent_id"]]
        chain.append(span)
    return chain


def the(found: list[dict], name: str, **attributes: str) -> dict:
    matching = [
        span
        for span in found
        if span["name"] == name and all(span["attributes"].get(key) == value for key, value in attributes.items())
    ]
    assert matching, f"no span {name} {attributes} in {[span['name'] for span in found]}"
    return matching[0]


def descends(child: dict, parent: dict, by_id: dict[str, dict]) -> bool:
    return parent["span_id"] in {span["span_id"] for span in ancestors(child, by_id)}


def test_an_order_placed_and_cancelled_is_one_trace_across_the_three_services_and_one_request_id(shop):
    # given
    user_id = TOKEN_ONLY_USERS + 31
    product_id = shop.create_product(stock=10)
    request_id = f"telemetry-test-{uuid.uuid4().hex[:12]}"

    # when: placed (with the caller's request id), confirmed, then cancelled
    placed = shop.place([(product_id, 2)], user_id=user_id, headers={**shop.system.bearer(user_id=user_id),
                                                                      "X-Request-ID": request_id})  # fmt: skip
    assert placed.status_code == 201, placed.text
    assert placed.headers["X-Request-ID"] == request_id
    order_id = placed.json()["id"]
    assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"
    cancel = requests.post(
        shop.url("orders_service", f"orders/{order_id}/cancel/"),
        headers=shop.system.bearer(user_id=user_id),
        timeout=10,
    )
    assert cancel.status_code == 202, cancel.text
    assert shop.settled(order_id, user_id=user_id)["status"] == "cancelled"

    # then: one trace holds the whole saga, each step the child of the one that caused it
    run = "run/{}".format
    trace_id, found = order_trace(
        shop.system,
        order_id,
        until_names={
            "POST api/v1/orders/",
            "order cancel",
            run("catalog.reserve_stock"),
            run("orders.stock_reserved"),
            run("catalog.release_stock"),
            run("orders.stock_released"),
        },
        at_least={run("users.notify_order_status"): 2},
    )
    by_id = {span["span_id"]: span for span in found}
    assert {span["service"] for span in found} == {"users_service", "catalog_service", "orders_service"}
    post = the(found, "POST api/v1/orders/")
    assert post["service"] == "orders_service"
    assert post["kind"] == "SERVER"
    assert post["parent_id"] == ""
    reserve = the(found, run("catalog.reserve_stock"), order_id=order_id)
    reserved = the(found, run("orders.stock_reserved"), order_id=order_id)
    notifications = [span for span in found if span["name"] == run("users.notify_order_status")]
    cancel_span = the(found, "order cancel", order_id=order_id)
    release = the(found, run("catalog.release_stock"), order_id=order_id)
    released = the(found, run("orders.stock_released"), order_id=order_id)
    assert reserve["service"] == "catalog_service"
    assert descends(reserve, post, by_id)
    assert reserved["service"] == "orders_service"
    assert descends(reserved, reserve, by_id)
    assert len(notifications) == 2
    assert {span["service"] for span in notifications} == {"users_service"}
    confirmed_notice, cancelled_notice = sorted(notifications, key=lambda span: span["start_ns"])
    assert descends(confirmed_notice, reserved, by_id)
    # the cancel, a later request, continues the order's trace and links to its own
    assert descends(cancel_span, post, by_id)
    assert [link["trace_id"] for link in cancel_span["links"]] != [trace_id]
    assert cancel_span["links"]
    assert release["service"] == "catalog_service"
    assert descends(release, cancel_span, by_id)
    assert released["service"] == "orders_service"
    assert descends(released, release, by_id)
    assert descends(cancelled_notice, released, by_id)
    # kombu's polling of the broker made no spans, nor did the outbox's marks of a row sent (the publish spans say so)
    assert not [span for span in spans(shop.system) if "BRPOP" in span["name"]]
    assert [span["name"] for span in found if span["name"].startswith("apply_async/")]
    assert not [span for span in found if "sent_at" in span["attributes"].get("db.statement", "")]
    # each outbox write is a span of the step that wrote it: the POST, the reservation, the confirmation, the
    # cancel, the release and the release's answer (a prepared statement, named after what it writes)
    statements = [span["attributes"].get("db.statement", "") for span in found]
    assert sum(statement.startswith("EXECUTE insert_messaging_outboxmessage_") for statement in statements) == 6
    # bookkeeping makes no span (the inbox row, the cached pages' versions); each delivery's span says what
    # became of it
    assert not [statement for statement in statements if "messaging_inboxmessage" in statement]
    assert not [span for span in found if span["name"] == "SET"]
    assert {span["attributes"].get("outcome") for span in found if span["name"].startswith("run/")} == {"applied"}

    # and: the request id is on the log lines of the request and of every message it caused, in all three services
    def logged_with_request_id(process: str) -> list[dict]:
        lines = (shop.system.workdir / f"{process}.log").read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if request_id in line]

    for process in ("orders-web", "catalog-worker", "orders-worker", "users-worker"):
        lines = deadline_poll(lambda p=process: logged_with_request_id(p), timeout=10, what=f"{process}'s log lines")
        assert {line["request_id"] for line in lines} == {request_id}, process
        assert {line["trace_id"] for line in lines} == {trace_id}, process
        assert set(lines[0]) >= {"ts", "level", "service", "process", "logger", "msg", "span_id"}
    worker_lines = logged_with_request_id("catalog-worker")
    assert {line.get("order_id") for line in worker_lines} == {order_id}
    assert {line.get("task") for line in worker_lines} == {"catalog.reserve_stock"}


def test_a_message_resent_after_a_broker_outage_stays_in_its_orders_trace(shop):
    # given: the broker down when the order is placed, so its publish after commit fails
    user_id = TOKEN_ONLY_USERS + 32
    product_id = shop.create_product(stock=10)
    shop.system.stop_redis()
    try:
        placed = shop.place([(product_id, 1)], user_id=user_id)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        time.sleep(1)  # the relay tries and fails too, while the broker is down
    finally:
        shop.system.start_redis_again()
    restarted_ns = time.time_ns()

    # when: the relay (or the saga's re-drive) sends the message again once the broker is back
    assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"

    # then: the re-sent message's spans joined the order's trace, under the request that placed it (each process
    # exports its spans in the background, so the chain between them may arrive after both ends)
    def whole_chain():
        _, found = order_trace(
            shop.system,
            order_id,
            until_names={"POST api/v1/orders/", "run/catalog.reserve_stock", "run/users.notify_order_status"},
        )
        by_id = {span["span_id"]: span for span in found}
        post = the(found, "POST api/v1/orders/")
        reserve = the(found, "run/catalog.reserve_stock", order_id=order_id)
        return (found, by_id, reserve) if descends(reserve, post, by_id) else None

    found, by_id, reserve = deadline_poll(
        whole_chain, timeout=SPAN_TIMEOUT_SECONDS, interval=0.5, what="the reservation under the POST's spans"
    )
    assert reserve["start_ns"] > restarted_ns
    publish = by_id[reserve["parent_id"]]
    assert publish["name"] == "apply_async/catalog.reserve_stock"
    assert publish["start_ns"] > restarted_ns
    assert descends(the(found, "run/users.notify_order_status", order_id=order_id), reserve, by_id)


def test_a_replayed_dead_letter_starts_a_trace_linked_to_the_one_it_failed_in(shop):
    # given: users_service refuses every notification, so the order's notification is parked
    system = shop.system
    user_id = TOKEN_ONLY_USERS + 33
    with notifications_refused(system):
        product_id = shop.create_product(stock=10)
        order_id = shop.place([(product_id, 1)], user_id=user_id).json()["id"]
        assert shop.settled(order_id, user_id=user_id)["status"] == "confirmed"
        [(message_id, stored_context)] = deadline_poll(
            lambda: query(
                system,
                "users_service",
                "SELECT message_id, trace_context FROM messaging_deadletter WHERE state = 'parked'"
                " AND message->'payload'->>'order_id' = %s",
                [order_id],
            ),
            timeout=60,
            interval=0.2,
            what="the dead letter",
        )
    order_trace_id, _ = order_trace(system, order_id, until_names={"run/users.notify_order_status"})
    # the dead letter kept the context of the delivery that failed, in the order's trace
    assert stored_context.split("-")[1] == order_trace_id

    # when: an operator replays it
    replay = system.manage("users_service", "dead_letters", "replay", str(message_id))
    assert replay.returncode == 0, replay.stderr

    # then: the replay is a new trace, linked to the original, and the redelivery is its child
    def replayed():
        every_span = spans(system)
        starts = [span for span in every_span if span["name"] == "dead_letter replay users.notify_order_status"
                  and span["attributes"].get("message_id") == str(message_id)]  # fmt: skip
        if not starts:
            return None
        found = traces.spans_of(every_span, starts[0]["trace_id"])
        runs = [span for span in found if span["name"] == "run/users.notify_order_status"]
        return (starts[0], found, runs[0]) if runs else None

    start, found, delivery = deadline_poll(replayed, timeout=SPAN_TIMEOUT_SECONDS, interval=0.5, what="the replay")
    assert start["trace_id"] != order_trace_id
    assert [link["trace_id"] for link in start["links"]] == [order_trace_id]
    assert descends(delivery, start, {span["span_id"]: span for span in found})
    assert delivery["service"] == "users_service"
    assert query(
        system, "users_service", "SELECT count(*) FROM notifications_notification WHERE order_id = %s", [order_id]
    ) == [(1,)]


@pytest.mark.parametrize(
    ("traceparent", "request_id"),
    [
        ("00-zzzz-not-a-trace", "x" * 65),
        # (a client cannot send a newline in a header; the path below carries one)
        ("00-00000000000000000000000000000000-0000000000000000-01", 'evil"} {"level": "CRITICAL"'),
        ("ff-" + "a" * 32 + "-" + "b" * 16 + "-01-extra", "<script>alert(1)</script>"),
    ],
)
def test_a_malformed_traceparent_or_request_id_is_ignored_and_replaced_never_reflected(system, traceparent, request_id):
    # given: a path that decodes to a newline and a quote, logged by the request's line
    url = f"{system.urls['catalog_service']}/api/v1/products/%0A%22{uuid.uuid4().hex}/"

    # when
    response = requests.get(url, headers={"traceparent": traceparent, "X-Request-ID": request_id}, timeout=10)

    # then: answered (a 404 in the common shape), with a new request id and a new trace
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
    replaced = response.headers["X-Request-ID"]
    assert replaced != request_id
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", replaced)
    log = system.workdir / "catalog-web.log"
    [line] = deadline_poll(
        lambda: [line for line in log.read_text(errors="replace").splitlines() if replaced in line],
        timeout=10,
        what="the request's log line",
    )
    logged = json.loads(line)  # one line, valid JSON: the path's newline and quote are escaped
    assert logged["status"] == 404
    assert "\n" in logged["path"]
    assert request_id not in line
    server = deadline_poll(
        lambda: [span for span in spans(system) if span["kind"] == "SERVER" and span["trace_id"] == logged["trace_id"]],
        timeout=SPAN_TIMEOUT_SECONDS,
        interval=0.5,
        what="the request's span",
    )
    assert server[0]["parent_id"] == ""  # a new trace, not a child of the malformed one
    assert logged["trace_id"] not in traceparent


def test_a_public_read_starts_no_trace_of_its_own_and_is_traced_within_a_callers_trace(system):
    # given: the catalogue's category list, a quiet root (catalog_service's TELEMETRY_QUIET_ROOTS)
    url = f"{system.urls['catalog_service']}/api/v1/categories/"
    log = system.workdir / "catalog-web.log"

    def logged(request_id: str) -> dict:
        [line] = deadline_poll(
            lambda: [line for line in log.read_text(errors="replace").splitlines() if request_id in line],
            timeout=10,
            what="the request's log line",
        )
        return json.loads(line)

    # when: it is read alone, and within a caller's sampled trace
    alone = requests.get(url, headers={"X-Request-ID": f"quiet-{uuid.uuid4().hex}"}, timeout=10)
    trace_id, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    within = requests.get(
        url,
        headers={"X-Request-ID": f"traced-{uuid.uuid4().hex}", "traceparent": f"00-{trace_id}-{caller_span}-01"},
        timeout=10,
    )

    # then: both answered and logged; only the second is traced, as a child of the caller's span
    assert (alone.status_code, within.status_code) == (200, 200)
    assert logged(alone.headers["X-Request-ID"])["trace_id"] == ""
    assert logged(within.headers["X-Request-ID"])["trace_id"] == trace_id
    [server] = deadline_poll(
        lambda: [span for span in spans(system) if span["kind"] == "SERVER" and span["trace_id"] == trace_id],
        timeout=SPAN_TIMEOUT_SECONDS,
        interval=0.5,
        what="the traced read's span",
    )
    assert (server["name"], server["parent_id"]) == ("GET api/v1/categories/", caller_span)
