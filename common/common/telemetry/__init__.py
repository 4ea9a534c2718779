"""Telemetry of every process: JSON logs with request and trace ids (``logs``, ``request_id``), OpenTelemetry
traces (``tracing``) and Prometheus metrics (``metrics``); see ARCHITECTURE.md, Telemetry."""
