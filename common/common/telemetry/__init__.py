"""Telemetry of every process: JSON logs with request and trace ids, OpenTelemetry traces (and metrics)."""
