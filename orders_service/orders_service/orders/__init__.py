"""Orders, their lines, idempotency keys, and the orders side of the order saga."""
