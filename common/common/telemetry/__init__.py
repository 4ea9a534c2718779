"""Telemetry of every process: metrics (``common.telemetry.metrics``); see ARCHITECTURE.md, Telemetry."""
