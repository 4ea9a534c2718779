"""Telemetry of every process: JSON logs with request and trace ids (``logs``, ``request_id``), OpenTelemetry
traces (``tracing``) and Prometheus metrics (``metrics``); see ARCHITECTURE.md, Telemetry."""

import os


def enabled() -> bool:
    """False when ``SHOP_TELEMETRY=off`` (off, 0, false, no): traces and metrics off in this process; logs stay
    JSON."""
    return os.environ.get("SHOP_TELEMETRY", "on").strip().lower() not in {"off", "0", "false", "no"}
