"""``./manage_all.sh trace <order id or trace id>``: an order's path through the services, from the spans file.

Every process appends its spans to ``.var/telemetry/traces.jsonl`` (``common.telemetry.tracing``), one JSON
object a line. This reads them back (standard library only) and prints each trace that the id names as a
tree: service, span, duration, status. An order id finds every trace whose spans carry it (its order's trace,
and the requests that acted on it later); a request id or message id works the same way. A user sees the
path of an order without installing a trace backend.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Span = dict[str, Any]
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
# The attributes that name the work a span belongs to (set by common.telemetry and common.messaging).
SEARCHED_ATTRIBUTES = ("order_id", "message_id", "request_id")


def read_spans(path: Path) -> list[Span]:
    """Every span in ``path``; a line cut short (a process writing right now) is skipped."""
    if not path.is_file():
        return []
    spans = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                span = json.loads(line)
            except ValueError:
                continue
            if isinstance(span, dict) and "trace_id" in span:
                spans.append(span)
    return spans


def trace_ids_for(spans: Iterable[Span], identifier: str) -> list[str]:
    """The traces ``identifier`` names: a trace id itself, or the traces with a span carrying it (an order id,
    a message id, a request id), in the order they started."""
    identifier = identifier.strip().lower()
    started: dict[str, int] = {}
    for span in spans:
        attributes = span.get("attributes") or {}
        if span["trace_id"] == identifier or any(
            str(attributes.get(name, "")).lower() == identifier for name in SEARCHED_ATTRIBUTES
        ):
            start = int(span.get("start_ns") or 0)
            started[span["trace_id"]] = min(start, started.get(span["trace_id"], start))
    return sorted(started, key=started.__getitem__)


def spans_of(spans: Iterable[Span], trace_id: str) -> list[Span]:
    return sorted((span for span in spans if span["trace_id"] == trace_id), key=lambda span: span.get("start_ns", 0))


def _is_detail(span: Span, children: dict[str, list[Span]]) -> bool:
    """A database or cache command (a client call with nothing under it): shown summed under its parent unless
    every span is asked for. An HTTP call to another service has that service's span under it, so it is shown."""
    return span.get("kind") == "CLIENT" and not children.get(span["span_id"])


def render_trace(spans: list[Span], *, every_span: bool = False) -> list[str]:
    """The trace's spans as an indented tree, children in the order they started."""
    ids = {span["span_id"] for span in spans}
    children: dict[str, list[Span]] = defaultdict(list)
    roots = []
    for span in spans:
        if span.get("parent_id") in ids:
            children[span["parent_id"]].append(span)
        else:
            roots.append(span)  # the root, or a span whose parent was not exported (not sampled, or elsewhere)
    lines: list[str] = []

    def walk(span: Span, depth: int) -> None:
        shown = [child for child in children[span["span_id"]] if every_span or not _is_detail(child, children)]
        details = [child for child in children[span["span_id"]] if child not in shown]
        status = "" if span.get("status") in ("UNSET", "OK") else f"  {span.get('status')}"
        summary = ""
        if details:
            summary = f"  (+{len(details)} db/cache calls, {sum(d.get('duration_ms', 0) for d in details):.1f} ms)"
        links = "".join(f"  <- linked to trace {link['trace_id']}" for link in span.get("links") or [])
        lines.append(
            f"{'  ' * depth}{span.get('service', '?'):<16} {span.get('name', '?')}  "
            f"{span.get('duration_ms', 0):.1f} ms{status}{summary}{links}"
        )
        for child in shown:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def report(path: Path, identifier: str, *, every_span: bool = False) -> tuple[str, bool]:
    """What ``./manage_all.sh trace`` prints, and whether anything was found."""
    spans = read_spans(path)
    found = trace_ids_for(spans, identifier)
    if not found:
        hint = "" if _TRACE_ID.fullmatch(identifier) else " (spans leave each process within a second or two)"
        return f"no trace found for {identifier} in {path}{hint}", False
    out = []
    for trace_id in found:
        trace_spans = spans_of(spans, trace_id)
        services = sorted({span.get("service", "?") for span in trace_spans})
        out.append(f"trace {trace_id}: {len(trace_spans)} spans, services: {', '.join(services)}")
        out.extend(render_trace(trace_spans, every_span=every_span))
        out.append("")
    return "\n".join(out).rstrip(), True
