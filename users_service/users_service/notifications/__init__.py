"""Notifications to customers about their orders: recorded once per order and status, and emailed."""
