"""``./manage_all.sh trace``: the span tree read back from a traces file (``shopctl.traces``)."""

import json

from shopctl import traces
from shopctl.cli import main

ORDER = "0ce35dc5-b117-45a4-b93a-22ec7a09f127"
TRACE = "d8a0ea09e96a15e6f44d5867828a5e5f"


def span(span_id, parent_id, name, service, *, start, kind="INTERNAL", trace_id=TRACE, **attributes):
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_id": parent_id,
        "name": name,
        "service": service,
        "kind": kind,
        "start_ns": start,
        "duration_ms": 1.5,
        "status": "ERROR" if name == "SELECT" else "UNSET",
        "attributes": attributes,
        "links": [],
    }


def write(path, spans):
    path.write_text("".join(json.dumps(s) + "\n" for s in spans) + '{"cut short')


SPANS = [
    span("a" * 16, "", "POST api/v1/orders/", "orders_service", start=1, kind="SERVER"),
    span("b" * 16, "a" * 16, "INSERT", "orders_service", start=2, kind="CLIENT"),
    span("c" * 16, "a" * 16, "apply_async/catalog.reserve_stock", "orders_service", start=3, kind="PRODUCER"),
    span("d" * 16, "c" * 16, "run/catalog.reserve_stock", "catalog_service", start=4, kind="CONSUMER", order_id=ORDER),
    span("e" * 16, "d" * 16, "SELECT", "catalog_service", start=5, kind="CLIENT"),
    span("f" * 16, "", "GET api/v1/products/", "catalog_service", start=0, kind="SERVER", trace_id="1" * 32),
]


def test_an_order_id_finds_its_trace_printed_as_a_tree_of_services_spans_durations_and_statuses(tmp_path):
    path = tmp_path / "traces.jsonl"
    write(path, SPANS)

    text, found = traces.report(path, ORDER)

    assert found
    assert text.splitlines() == [
        f"trace {TRACE}: 5 spans, services: catalog_service, orders_service",
        "orders_service   POST api/v1/orders/  1.5 ms  (+1 db/cache calls, 1.5 ms)",
        "  orders_service   apply_async/catalog.reserve_stock  1.5 ms",
        "    catalog_service  run/catalog.reserve_stock  1.5 ms  (+1 db/cache calls, 1.5 ms)",
    ]
    every, _ = traces.report(path, ORDER, every_span=True)
    assert "      catalog_service  SELECT  1.5 ms  ERROR" in every.splitlines()


def test_a_trace_id_finds_that_trace_and_an_unknown_id_nothing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "traces.jsonl"
    write(path, SPANS)
    monkeypatch.setenv("SHOP_TELEMETRY_TRACES_FILE", str(path))

    assert main(["trace", "1" * 32]) == 0
    assert "catalog_service  GET api/v1/products/" in capsys.readouterr().out
    assert main(["trace", "no-such-order"]) == 1
    assert "no trace found for no-such-order" in capsys.readouterr().out
