"""Keeps each service in its own Postgres schema."""
