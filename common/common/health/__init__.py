"""Liveness and readiness endpoints, identical in every service."""
