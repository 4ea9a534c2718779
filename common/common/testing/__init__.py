"""Test helpers shared by the services' test suites."""
