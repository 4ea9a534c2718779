"""Stock reservations for orders: the catalog side of the order saga (reserve all lines or none, release)."""
