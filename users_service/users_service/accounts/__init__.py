"""Accounts: the custom user model and, later, registration and roles."""
