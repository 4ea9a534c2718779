"""Health, schema, docs, admin, error format and settings: the contract every service shares."""

from common_testing.infrastructure import *  # noqa: F403
